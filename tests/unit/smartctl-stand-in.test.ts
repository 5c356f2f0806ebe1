// The smartctl stand-in that the host tests put on the test sshd's PATH (tests/helpers/stand-ins):
// its shell front answers reads from copies of the replay's answers, and a copy must never hide a
// change a test made or a self-test that started, or host tests would pass or fail on stale SMART.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { failSelfTests, installStandIns, mapSmartctl, setSelfTestSeconds, standInCalls } from "../helpers/stand-ins.js";
import { removeTempDirs, tempDir } from "../helpers/temp-db.js";

afterAll(removeTempDirs);

const DEVICE = "/dev/sdz";

/** A recorded-looking ATA answer with its own serial and temperature. */
function fixture(dir: string, name: string, serial: string, celsius: number): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      device: { name: DEVICE, protocol: "ATA" },
      serial_number: serial,
      temperature: { current: celsius },
      ata_smart_data: { self_test: { status: { value: 0, string: "completed without error", passed: true } } },
      ata_smart_self_test_log: { standard: { revision: 1, table: [] } },
    }),
  );
  return file;
}

function rig() {
  const work = tempDir("kiln-smartctl-");
  const bin = path.join(work, "bin");
  mkdirSync(bin);
  installStandIns(bin, work);
  const read = () => JSON.parse(execFileSync(path.join(bin, "smartctl"), ["-x", "-j", DEVICE], { encoding: "utf8" }));
  const copy = path.join(bin, "smartctl-cache", "sdz.json");
  return { work, bin, read, copy };
}

describe("smartctl stand-in", () => {
  it("answers a repeated read from its copy, logs every call, and a new mapping replaces the copy", () => {
    const { work, bin, read, copy } = rig();
    mapSmartctl(bin, DEVICE, fixture(work, "a.json", "SER-A", 31));
    expect(read().serial_number).toBe("SER-A");
    expect(existsSync(copy)).toBe(true);
    // The copy answers even when the replay could not: the fixture is gone.
    writeFileSync(path.join(work, "a.json"), "not json");
    expect(read().temperature.current).toBe(31);
    // The drive at that path changes: the next read is the new drive.
    mapSmartctl(bin, DEVICE, fixture(work, "b.json", "SER-B", 44), "SER-C");
    expect(read()).toMatchObject({ serial_number: "SER-C", temperature: { current: 44 } });
    expect(standInCalls(bin, "smartctl")).toEqual(Array(3).fill(`-x -j ${DEVICE}`));
  });

  it("never answers from a copy while a self-test runs, nor after one starts, is aborted or is set to fail", () => {
    const { work, bin, read, copy } = rig();
    mapSmartctl(bin, DEVICE, fixture(work, "a.json", "SER-A", 31));
    setSelfTestSeconds(bin, 60);
    read();
    expect(existsSync(copy)).toBe(true);
    execFileSync(path.join(bin, "smartctl"), ["-t", "short", "-j", DEVICE]);
    expect(existsSync(copy)).toBe(false);
    expect(read().ata_smart_data.self_test.status.value).toBe(249); // in progress
    expect(existsSync(copy)).toBe(false);
    execFileSync(path.join(bin, "smartctl"), ["-X", DEVICE]);
    expect(read().ata_smart_data.self_test.status.value).toBe(0);
    expect(existsSync(copy)).toBe(true);
    // A finished test is logged; once its result is set to fail, the log says so.
    setSelfTestSeconds(bin, 0);
    execFileSync(path.join(bin, "smartctl"), ["-t", "long", "-j", DEVICE]);
    expect(read().ata_smart_self_test_log.standard.table[0].status.passed).toBe(true);
    failSelfTests(bin, DEVICE);
    expect(read().ata_smart_self_test_log.standard.table[0].status.passed).toBe(false);
  });

  it("answers every read while a test remaps the drive under it: one drive or the other, never an error", async () => {
    const { work, bin } = rig();
    const files = [fixture(work, "a.json", "SER-A", 31), fixture(work, "b.json", "SER-B", 44)];
    mapSmartctl(bin, DEVICE, files[0] as string);
    const read = () =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(path.join(bin, "smartctl"), ["-x", "-j", DEVICE], { encoding: "utf8" }, (error, stdout) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
        );
      });
    let remaps = 0;
    const remapping = setInterval(() => mapSmartctl(bin, DEVICE, files[++remaps % 2] as string), 3);
    try {
      for (let round = 0; round < 5; round++) {
        for (const answer of await Promise.all(Array.from({ length: 5 }, read))) {
          expect(answer.code, answer.stdout).toBe(0);
          expect(["SER-A", "SER-B"]).toContain(JSON.parse(answer.stdout).serial_number);
        }
      }
    } finally {
      clearInterval(remapping);
    }
    expect(remaps).toBeGreaterThan(10);
    // Once the remapping stops, every read is the drive mapped last: no copy outlived its mapping.
    const last = remaps % 2 === 0 ? "SER-A" : "SER-B";
    for (const answer of await Promise.all(Array.from({ length: 3 }, read))) expect(JSON.parse(answer.stdout).serial_number).toBe(last);
  });

  it("answers for another test's loop device with the replay's error, never a copy", () => {
    const { work, bin, read } = rig();
    // The device name of a loop device that is not attached, or attached to another test's file.
    const loop = "/dev/loop99999";
    mapSmartctl(bin, loop, fixture(work, "a.json", "SER-A", 31));
    mkdirSync(path.join(bin, "smartctl-cache"));
    writeFileSync(path.join(bin, "smartctl-cache", "loop99999.json"), JSON.stringify({ serial_number: "STALE" }));
    const answer = (device: string) => spawnSync(path.join(bin, "smartctl"), ["-x", "-j", device], { encoding: "utf8" });
    expect(answer(loop)).toMatchObject({ status: 2, stdout: expect.stringMatching(/Unable to detect device type/) });
    // /dev/sdz is not mapped in this rig.
    expect(answer(DEVICE)).toMatchObject({ status: 2, stdout: expect.stringMatching(/Unable to detect device type/) });
    expect(read).toThrow();
  });
});
