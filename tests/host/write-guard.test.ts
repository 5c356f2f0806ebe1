// The last check before `badblocks -w`, over a real sshd on loop devices: the device behind the
// path is swapped (for one that holds a filesystem, or reports another serial) while the SMART
// short test runs between precheck and the scan; badblocks refuses to start; the host's work
// directory belongs to someone else. Each stops before any write and ends `unknown`, never
// `failed`: nothing was learned about the drive's health.
import { execFileSync } from "node:child_process";
import { chownSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BurnInRig,
  ended,
  type JobView,
  setSettings,
  startBurnInRig,
  startJob,
  waitForJob,
  waitsBudget,
} from "../helpers/burn-in-host.js";
import { type LoopDevice, mountExt4 } from "../helpers/loop-devices.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { installBadblocks, mapSmartctl, setSelfTestSeconds } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();

describe.runIf(fixtures !== null)("the check right before badblocks writes", () => {
  let rig: BurnInRig;
  const work = tempDir("kiln-guard-");
  const driveOf = (i: number) => rig.drives.get(rig.host.loops[i]?.device as string) as { id: string; serial: string };

  /** Start a full job and wait until its SMART short test runs: precheck has passed, the scan is next. */
  const startAndWaitForSelfTest = async (i: number): Promise<string> => {
    const started = await startJob(rig.kiln.url, [driveOf(i).id], "full");
    expect(started.__typename).toBe("StartBurnInSuccess");
    const id = started.data?.[0]?.id as string;
    // Running, and the drive has taken the command (the device is swapped only after that).
    await waitForJob(rig.kiln.url, id, (j) => j.stages[1]?.status === "running" && /started short self-test/.test(j.stages[1].log));
    return id;
  };
  const scanNeverStarted = async (job: JobView) => {
    expect(job.stages.map((s) => `${s.name}:${s.status}`)).toEqual([
      "precheck:passed",
      "smart_short:passed",
      "surface_validate:unknown",
      "smart_long:skipped",
      "final_check:skipped",
    ]);
    const scan = await rig.kiln.database.db.stage.findFirstOrThrow({ where: { jobId: job.id, name: "surface_validate" } });
    expect(scan.remotePid).toBeNull();
  };

  beforeAll(async () => {
    rig = await startBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 5,
      sizeBytes: 64 * MiB,
      settings: { pollSeconds: 0.2, smartPollSeconds: 0.5, progressWriteSeconds: 1, remoteWorkDir: path.join(work, "runs") },
      // Self-tests long enough to swap a device while one runs.
      prepare: (host) => setSelfTestSeconds(host.sshd.binDir, 10),
    });
  });
  afterAll(() => rig?.stop());

  it(
    "stops before writing when the device behind the path was swapped for one holding a filesystem",
    async () => {
      const loop = rig.host.loops[0] as { device: string; file: string };
      // The other drive: an ext4 filesystem with a file on it nobody has mounted.
      const other = path.join(work, "other.img");
      execFileSync("truncate", ["-s", String(64 * MiB), other]);
      execFileSync("mkfs.ext4", ["-q", "-F", other]);
      const before = readFileSync(other);
      const id = await startAndWaitForSelfTest(0);
      // Same loop number, other backing file: the path now leads to another device.
      execFileSync("sh", ["-c", 'losetup -d "$1" && losetup "$1" "$2"', "swap", loop.device, other]);
      const job = await waitForJob(rig.kiln.url, id, ended);
      expect(job.status, JSON.stringify(job.stages.map((s) => [s.name, s.status, s.errorText, s.log.slice(-600)]))).toBe("unknown");
      expect(job.errorText).toMatch(
        new RegExp(
          `^${loop.device} changed since precheck: it now holds data \\(filesystem ${loop.device} \\(ext4, uuid .*\\)\\) and no unlock grant was used for this job; aborted before any write$`,
        ),
      );
      await scanNeverStarted(job);
      expect(readFileSync(other).equals(before)).toBe(true);
    },
    waitsBudget(2),
  );

  it(
    "stops before writing when the device behind the path reports another serial",
    async () => {
      const loop = rig.host.loops[1] as { device: string };
      const id = await startAndWaitForSelfTest(1);
      mapSmartctl(rig.host.sshd.binDir, loop.device, path.join(fixtures as string, "smart-ata.json"), "SWAPPED-IN-1");
      const job = await waitForJob(rig.kiln.url, id, ended);
      expect(job.status).toBe("unknown");
      expect(job.errorText).toBe(
        `${loop.device} changed since precheck: it now reports serial SWAPPED-IN-1, the job is for ${driveOf(1).serial}; aborted before any write`,
      );
      await scanNeverStarted(job);
    },
    waitsBudget(2),
  );

  it(
    "calls a scan that badblocks refused to start unknown, not failed",
    async () => {
      setSelfTestSeconds(rig.host.sshd.binDir, 1);
      // What badblocks says of a device the kernel holds (it refuses before writing anything).
      installBadblocks(
        rig.host.sshd.binDir,
        `#!/bin/sh\neval "dev=\\\${$(($#-2))}"\necho "$dev is apparently in use by the system; it's not safe to run badblocks!"\nexit 1\n`,
      );
      try {
        const started = await startJob(rig.kiln.url, [driveOf(2).id], "full");
        const job = await waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
        expect(job.status).toBe("unknown");
        expect(job.errorText).toBe(
          `badblocks stopped before writing (exit 1): ${rig.host.loops[2]?.device} is apparently in use by the system; it's not safe to run badblocks!`,
        );
        expect(await rig.kiln.database.db.burnInJob.count({ where: { driveId: driveOf(2).id, status: "failed" } })).toBe(0);
      } finally {
        rmSync(path.join(rig.host.sshd.binDir, "badblocks"));
      }
    },
    waitsBudget(1),
  );

  it(
    "stops at precheck, unknown, when the drive was mounted after the last inventory",
    async () => {
      // Kiln's last inventory saw it free (so the start is accepted); by the time the job runs the
      // host has mounted it. An unlock would not help either: it must be unmounted first.
      mountExt4(rig.host.loops[4] as LoopDevice, path.join(work, "mnt"));
      const started = await startJob(rig.kiln.url, [driveOf(4).id], "full");
      expect(started.__typename).toBe("StartBurnInSuccess");
      const job = await waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
      expect(job.status).toBe("unknown");
      expect(job.errorText).toMatch(/^drive is in active use \(mount \/\S+\/mnt\): unmount \/ export it first; aborted before any write$/);
      expect(job.stages.map((s) => s.status)).toEqual(["unknown", "skipped", "skipped", "skipped", "skipped"]);
    },
    waitsBudget(1),
  );

  it(
    "starts nothing in a work directory another user made, and says so",
    async () => {
      const theirs = path.join(work, "theirs");
      mkdirSync(theirs, { mode: 0o700 });
      chownSync(theirs, 65534, 65534);
      await setSettings(rig.kiln.url, { remoteWorkDir: theirs });
      try {
        const started = await startJob(rig.kiln.url, [driveOf(3).id], "full");
        const job = await waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
        expect(job.status).toBe("unknown");
        expect(job.errorText).toMatch(
          new RegExp(
            `^surface_validate: work directory: ${theirs} belongs to uid 65534, not to uid 0 that Kiln runs as; nothing was started$`,
          ),
        );
        expect(readdirSync(theirs)).toEqual([]);
      } finally {
        await setSettings(rig.kiln.url, { remoteWorkDir: path.join(work, "runs") });
      }
    },
    waitsBudget(1),
  );
});
