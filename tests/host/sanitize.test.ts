// The sanitize end stage over a real sshd: the drive's own erase (NVMe Sanitize through nvme-cli,
// ATA SANITIZE through hdparm) issued once after the burn-in, followed by the drive's sanitize
// status, and claimed as a NIST SP 800-88 Purge in the report only when the drive says it ended
// without error. Loop devices have no sanitize: the stand-ins (tests/helpers/stand-ins/
// sanitize-drive.cjs) play an NVMe and an ATA drive that run it for a few seconds and then zero
// the device; a device they do not play gets the real nvme and hdparm, which find no such drive.
// Kiln killed with SIGKILL mid-sanitize follows the same operation after its restart and never
// issues a second one. Refusals come at start, naming the drive and why.

import { execFileSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BurnInReport } from "../../server/reports/build.js";
import { ended, type ServedBurnInRig, startJob, startServedBurnInRig, waitForJob, waitsBudget } from "../helpers/burn-in-host.js";
import { gql } from "../helpers/graphql.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { setSanitize } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";
import { until } from "../helpers/wait.js";

const fixtures = smartctlFixtureDir();
const SIZE = 8 * MiB;
// Drives by loop index.
const NVME = 0; // block and crypto erase, 8 s
const ATA = 1; // block erase, 4 s
const PLAIN = 2; // no stand-in: the real nvme and hdparm
const FROZEN = 3; // ATA, frozen
const NO_SANICAP = 4; // NVMe, SANICAP 0
const FAILING = 5; // NVMe whose block erase fails
const HOLDS_DATA = 6; // NVMe with an ext4 file system on it

interface SanitizeView {
  name: string;
  status: string;
  progressPct: number;
  errorText: string | null;
  sanitize: { method: string; commandSet: string; command: string[]; issuedAt: string | null; result: string; said: string | null } | null;
}

/** Every byte of the file is `byte`. */
function allBytes(file: string, size: number, byte: number): boolean {
  const fd = openSync(file, "r");
  try {
    const chunk = Buffer.alloc(MiB);
    for (let at = 0; at < size; at += chunk.length) {
      const n = readSync(fd, chunk, 0, chunk.length, at);
      for (let i = 0; i < n; i++) if (chunk[i] !== byte) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

describe.runIf(fixtures !== null)("the sanitize end stage over SSH", () => {
  let rig: ServedBurnInRig;
  const work = tempDir("kiln-sanitize-");
  let bin = "";
  const device = (i: number) => rig.host.loops[i]?.device as string;

  beforeAll(async () => {
    rig = await startServedBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 7,
      sizeBytes: SIZE,
      settings: { pollSeconds: 0.2, smartPollSeconds: 1, progressWriteSeconds: 1, remoteWorkDir: path.join(work, "runs") },
      prepare: (host) => {
        bin = host.sshd.binDir;
        const dev = (i: number) => host.loops[i]?.device as string;
        setSanitize(bin, dev(NVME), { commandSet: "nvme", methods: ["block_erase", "crypto_erase"], seconds: 8 });
        setSanitize(bin, dev(ATA), { commandSet: "ata", methods: ["block_erase"], seconds: 4 });
        setSanitize(bin, dev(FROZEN), { commandSet: "ata", methods: ["block_erase", "overwrite"], seconds: 4, mode: "frozen" });
        setSanitize(bin, dev(NO_SANICAP), { commandSet: "nvme", methods: [], seconds: 4 });
        setSanitize(bin, dev(FAILING), { commandSet: "nvme", methods: ["block_erase"], seconds: 2, mode: "fail" });
        setSanitize(bin, dev(HOLDS_DATA), { commandSet: "nvme", methods: ["block_erase"], seconds: 2 });
        // What the drives held before: a byte the sanitize must not leave.
        for (const i of [NVME, ATA]) writeFileSync(dev(i), Buffer.alloc(SIZE, 0xab));
        execFileSync("mkfs.ext4", ["-q", "-F", dev(HOLDS_DATA)]);
      },
    });
  }, 180_000);
  afterAll(() => rig?.stop());

  const stagesOf = async (jobId: string): Promise<SanitizeView[]> => {
    const r = await gql<{ job: { stages: SanitizeView[] } }>(
      rig.kiln.url,
      "query($id: ID!) { job(id: $id) { stages { name status progressPct errorText sanitize { method commandSet command issuedAt result said } } } }",
      { id: jobId },
    );
    return r.data?.job.stages ?? [];
  };
  const report = async (jobId: string): Promise<BurnInReport> => {
    const response = await fetch(`${rig.kiln.url}/reports/${jobId}.json`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { report: BurnInReport }).report;
  };
  const calls = (tool: "nvme" | "hdparm") => {
    const file = path.join(bin, `${tool}.calls`);
    return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  };

  it(
    "erases an NVMe drive with its own block erase after the burn-in, follows it through a SIGKILL restart without issuing it twice, and claims a Purge",
    async () => {
      const started = await startJob(rig.kiln.url, [rig.driveId(NVME)], "quick", { sanitize: "block_erase" });
      expect(started.__typename, JSON.stringify(started)).toBe("StartBurnInSuccess");
      const jobId = started.data?.[0]?.id as string;
      // The drive's percent moves while it works (its sanitize log's SPROG).
      await until(
        "the sanitize under way",
        async () => {
          const stage = (await stagesOf(jobId)).find((s) => s.name === "sanitize");
          return (stage?.status === "running" && stage.sanitize?.issuedAt && stage.progressPct > 1 && stage.progressPct < 100) || null;
        },
        120_000,
      );
      await rig.restart("SIGKILL");
      const job = await waitForJob(rig.kiln.url, jobId, ended);
      const stages = await stagesOf(jobId);
      expect(job.status, JSON.stringify(stages)).toBe("passed");
      expect(stages.map((s) => `${s.name}:${s.status}`)).toEqual([
        "precheck:passed",
        "smart_short:passed",
        "final_check:passed",
        "sanitize:passed",
      ]);
      const sanitize = stages.at(-1);
      expect(sanitize?.sanitize).toMatchObject({
        method: "block_erase",
        commandSet: "nvme",
        command: ["nvme", "sanitize", device(NVME), "--sanact=2"],
        result: "passed",
      });
      expect(sanitize?.sanitize?.said).toMatch(/^\(1\) /);
      // One sanitize command reached the drive, before the restart; the next Kiln only read its log.
      expect(calls("nvme").filter((c) => c.startsWith("sanitize "))).toEqual([`sanitize ${device(NVME)} --sanact=2`]);
      expect(calls("nvme").filter((c) => c.startsWith("sanitize-log ")).length).toBeGreaterThan(2);
      // What the drive held is gone: every byte reads zero.
      expect(allBytes(rig.host.loops[NVME]?.file as string, SIZE, 0)).toBe(true);
      const r = await report(jobId);
      expect(r.sanitize).toMatchObject({
        standard: "NIST SP 800-88 Rev. 1",
        method: "Purge",
        claimed: true,
        sanitizeMethod: "block_erase",
      });
      expect(r.erasure ?? null).toBeNull(); // the quick profile wrote nothing itself
      const html = await (await fetch(`${rig.kiln.url}/reports/${jobId}`)).text();
      expect(html).toContain("Purged: NIST SP 800-88 Rev. 1 Purge by the drive&#39;s own block erase (NVMe Sanitize");
    },
    waitsBudget(3),
  );

  it(
    "erases an ATA drive through hdparm, and calls a drive that reports its sanitize failed failed, with no Purge claimed",
    async () => {
      const [ata, failing] = await Promise.all(
        [ATA, FAILING].map(async (i) => {
          const started = await startJob(rig.kiln.url, [rig.driveId(i)], "quick", { sanitize: "block_erase" });
          expect(started.__typename, JSON.stringify(started)).toBe("StartBurnInSuccess");
          return waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
        }),
      );
      expect(ata?.status).toBe("passed");
      expect(calls("hdparm")).toContain(`--yes-i-know-what-i-am-doing --sanitize-block-erase ${device(ATA)}`);
      expect(allBytes(rig.host.loops[ATA]?.file as string, SIZE, 0)).toBe(true);
      expect((await report(ata?.id as string)).sanitize?.claimed).toBe(true);

      expect(failing?.status).toBe("failed");
      const stage = (await stagesOf(failing?.id as string)).at(-1);
      expect(stage?.status).toBe("failed");
      expect(stage?.errorText).toMatch(/^the drive reports its block erase failed \(\(3\) .*\): it stays in sanitize failure mode/);
      const r = await report(failing?.id as string);
      expect(r.sanitize).toMatchObject({ claimed: false, result: "failed" });
      expect(r.sanitize?.notClaimed).toMatch(/^the sanitize did not end without error \(failed/);
    },
    waitsBudget(2),
  );

  it("refuses at start, naming the drive and why, a sanitize the drive cannot run; nothing is queued", async () => {
    const serial = (i: number) => rig.drives.get(device(i))?.serial as string;
    const refusals: Array<[number, string, string, RegExp]> = [
      [
        PLAIN,
        "quick",
        "block_erase",
        /answers neither nvme id-ctrl nor ATA IDENTIFY \(hdparm -I\), so no sanitize command reaches it \(a loop device\)/,
      ],
      [
        NVME,
        "quick",
        "overwrite",
        /it does not support overwrite; it supports crypto_erase \(crypto erase\), block_erase \(block erase\)$/,
      ],
      [FROZEN, "quick", "block_erase", /its sanitize commands are frozen \(SD1/],
      [NO_SANICAP, "nvme", "crypto_erase", /the NVMe controller supports no sanitize operation \(SANICAP 0\)/],
      [NVME, "simulate", "block_erase", /the simulate profile touches no device/],
    ];
    for (const [i, profile, method, why] of refusals) {
      const answer = await startJob(rig.kiln.url, [rig.driveId(i)], profile, { sanitize: method });
      expect(answer.__typename, JSON.stringify(answer)).toBe("ValidationError");
      expect(answer.field).toBe("options.sanitize");
      expect(answer.message).toMatch(why);
      if (profile !== "simulate") expect(answer.message).toContain(`refused for ${serial(i)} (${device(i)})`);
    }
    // A method outside the set never reaches Kiln's code: the API's enum refuses it.
    const bad = await gql(
      rig.kiln.url,
      `mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: quick, options: { sanitize: erase_all }) { __typename } }`,
      {
        d: [rig.driveId(NVME)],
      },
    );
    expect(bad.errors?.[0]?.message).toMatch(/Value "erase_all" does not exist in "SanitizeMethod" enum/);
    // A sanitize erases the drive: one that holds data needs an unlock, as a writing profile does,
    // though the same profile without it reads the drive only and may start.
    const holding = await startJob(rig.kiln.url, [rig.driveId(HOLDS_DATA)], "quick", { sanitize: "block_erase" });
    expect(holding.__typename).toBe("DriveInUseError");
    const jobs = await gql<{ jobs: { edges: Array<{ node: { id: string } }> } }>(
      rig.kiln.url,
      "{ jobs(first: 100) { edges { node { id } } } }",
    );
    expect(jobs.errors).toBeUndefined();
    // Only the jobs of the tests above were queued.
    expect(jobs.data?.jobs.edges.length).toBe(3);
    expect(calls("nvme").filter((c) => c.startsWith("sanitize ") && !c.includes(device(NVME)) && !c.includes(device(FAILING)))).toEqual([]);
  });
});
