// SMART self-tests on every kind of drive, over a real sshd: SAS (with and without smartctl 7.4's
// percent), NVMe and ATA. The stand-in smartctl answers with the recorded drives of
// ../shared/fixtures/smartctl and runs each self-test for 4 s (the drive Kiln was tried on took 10 s).
// Before Kiln read SCSI self-test logs, a SAS drive's `quick` job sat in smart_short until its
// deadline (8 min) and ended unknown.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BurnInRig, ended, startBurnInRig, startJob, waitForJob, waitsBudget } from "../helpers/burn-in-host.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { failSelfTests, legacyScsiSelfTests, mapSmartctl, refuseSelfTests, setSelfTestSeconds } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();

describe.runIf(fixtures !== null)("SMART self-tests on SAS, NVMe and ATA drives", () => {
  let rig: BurnInRig;
  const work = tempDir("kiln-self-tests-");
  // Drives by loop index: 0 SAS (smartctl 7.4), 1 NVMe, 2 ATA, 3 SAS (older smartctl), 4 SAS, 5 NVMe.
  const kinds = [
    ["smart-scsi.json", undefined],
    ["smart-nvme.json", undefined],
    ["smart-ata.json", undefined],
    ["smart-scsi.json", "SAS-LEGACY-3"],
    ["smart-scsi.json", "SAS-FAILING-4"],
    ["smart-nvme.json", "NVME-FAILING-5"],
  ] as const;

  beforeAll(async () => {
    rig = await startBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: kinds.length,
      sizeBytes: 16 * MiB,
      settings: { pollSeconds: 0.2, smartPollSeconds: 1, progressWriteSeconds: 1, remoteWorkDir: path.join(work, "runs") },
      prepare: (host) => {
        const bin = host.sshd.binDir;
        setSelfTestSeconds(bin, 4);
        kinds.forEach(([fixture, serial], i) => {
          mapSmartctl(bin, host.loops[i]?.device as string, path.join(fixtures as string, fixture), serial);
        });
        legacyScsiSelfTests(bin, host.loops[3]?.device as string);
        failSelfTests(bin, host.loops[4]?.device as string);
        failSelfTests(bin, host.loops[5]?.device as string);
      },
    });
    expect(rig.drives.size).toBe(kinds.length);
  });
  afterAll(() => rig?.stop());

  const run = async (i: number, profile: string) => {
    const started = await startJob(rig.kiln.url, [rig.driveId(i)], profile);
    expect(started.__typename, JSON.stringify(started)).toBe("StartBurnInSuccess");
    return waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
  };

  it(
    "passes a SAS drive's short self-test by its log, as it does an ATA and an NVMe drive's",
    async () => {
      const [sas, nvme, ata] = await Promise.all([run(0, "quick"), run(1, "nvme"), run(2, "quick")]);
      expect(sas.status, sas.errorText ?? "").toBe("passed");
      expect(sas.stages[1]?.log).toContain("self-test log: Background short: Completed");
      expect(nvme.status, nvme.errorText ?? "").toBe("passed");
      expect(nvme.stages[1]?.log).toContain("self-test log: Extended self-test: Completed without error");
      expect(ata.status, ata.errorText ?? "").toBe("passed");
      expect(ata.stages[1]?.log).toContain("self-test log: Short offline: Completed without error");
    },
    waitsBudget(3),
  );

  it(
    "follows a SAS self-test that smartctl logs as running without a percent (before 7.4)",
    async () => {
      const job = await run(3, "quick");
      expect(job.status, job.errorText ?? "").toBe("passed");
      expect(job.stages[1]?.log).toContain("self-test log: Background short: Completed");
    },
    waitsBudget(1),
  );

  it(
    "fails SAS and NVMe drives whose self-test log reports a failed segment, quoting it",
    async () => {
      const [sas, nvme] = await Promise.all([run(4, "quick"), run(5, "nvme")]);
      expect(sas.status).toBe("failed");
      expect(sas.errorText).toBe("Background short self-test: Failed in segment (first error at LBA 123456)");
      expect(nvme.status).toBe("failed");
      expect(nvme.errorText).toBe("Extended self-test: Completed: failed segments (first error at LBA 123456)");
    },
    waitsBudget(2),
  );

  it(
    "calls a self-test that could not be started unknown, not failed: it says nothing about the drive",
    async () => {
      refuseSelfTests(rig.host.sshd.binDir, rig.host.loops[2]?.device as string);
      const job = await run(2, "quick");
      expect(job.status).toBe("unknown");
      expect(job.stages[1]).toMatchObject({
        status: "unknown",
        errorText: `smartctl -t short ${rig.host.loops[2]?.device} failed (exit 2): Smartctl open device: ${rig.host.loops[2]?.device} failed: No such device`,
      });
      expect(job.verdict).toBeNull();
    },
    waitsBudget(1),
  );
});
