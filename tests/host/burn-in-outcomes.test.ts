// How burn-ins end when something is wrong: bad blocks, a scan that stops printing, a failing
// self-test, SMART counters that rose. Real sshd; stand-in badblocks replays recorded output.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BurnInRig, ended, setSettings, startBurnInRig, startJob, waitForJob, waitsBudget } from "../helpers/burn-in-host.js";
import { FIXTURES, smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { failSelfTests, installBadblocks, mapSmartctl } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();

describe.runIf(fixtures !== null)("burn-in outcomes", () => {
  let rig: BurnInRig;
  let ids: string[];
  const work = tempDir("kiln-outcomes-");

  beforeAll(async () => {
    rig = await startBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 4,
      sizeBytes: 16 * MiB,
      pacedDisks: true,
      settings: { pollSeconds: 0.2, progressWriteSeconds: 1, remoteWorkDir: path.join(work, "runs"), stuckMinutes: 0.05 },
    });
    ids = [0, 1, 2, 3].map((i) => rig.driveId(i));
  });
  afterAll(() => rig?.stop());

  it(
    "keeps a job running while its host is unreachable, and follows it again when the host returns",
    async () => {
      await setSettings(rig.kiln.url, { unreachableGraceMinutes: 10 });
      // 2 s a pass until the host is back.
      rig.host.pace(8 * MiB);
      const id = (await startJob(rig.kiln.url, [ids[0] as string], "full")).data?.[0]?.id as string;
      await waitForJob(rig.kiln.url, id, (j) => (j.stages[2]?.surfaceScan?.phase ?? 0) >= 2);
      await rig.host.sshd.stop();
      const waiting = await waitForJob(rig.kiln.url, id, (j) => /waiting for host/.test(j.stages[2]?.errorText ?? ""));
      expect(waiting.status).toBe("running");
      await rig.host.sshd.start();
      rig.host.pace(null);
      const job = await waitForJob(rig.kiln.url, id, ended);
      expect(job.status).toBe("passed");
      expect(job.stages[2]?.log).toContain("reachable again");
      expect(job.stages[2]?.errorText).toBeNull();
    },
    waitsBudget(3),
  );

  it(
    "turns a job unknown when its host stays unreachable past the grace period",
    async () => {
      await setSettings(rig.kiln.url, { unreachableGraceMinutes: 0.05 });
      rig.host.pace(8 * MiB);
      const id = (await startJob(rig.kiln.url, [ids[1] as string], "full")).data?.[0]?.id as string;
      await waitForJob(rig.kiln.url, id, (j) => (j.stages[2]?.surfaceScan?.phase ?? 0) >= 2);
      await rig.host.sshd.stop();
      try {
        const job = await waitForJob(rig.kiln.url, id, ended);
        expect(job.status).toBe("unknown");
        expect(job.errorText).toMatch(/^host bench unreachable for \d+ s while/);
        expect(job.stages[2]?.log).toContain("[INTERRUPTED]");
      } finally {
        await rig.host.sshd.start();
        rig.host.pace(null);
        await setSettings(rig.kiln.url, { unreachableGraceMinutes: 360 });
        // The scan itself ran on; end it.
        const stage = await rig.kiln.database.db.stage.findFirstOrThrow({ where: { jobId: id, name: "surface_validate" } });
        try {
          process.kill(-(stage.remotePgid as number), "SIGKILL");
        } catch {
          // already finished
        }
      }
    },
    waitsBudget(2),
  );

  it(
    "fails a scan whose badblocks lists bad blocks, with the block list",
    async () => {
      const recorded = path.join(FIXTURES, "badblocks", "write-mode-bad-blocks-48M-on-40M-tmpfs.raw");
      installBadblocks(
        rig.host.sshd.binDir,
        `#!/bin/sh\n# stand-in: replays a real scan that found 2064 bad blocks\ncat '${recorded}'\nexit 0\n`,
      );
      const job = await waitForJob(rig.kiln.url, (await startJob(rig.kiln.url, [ids[0] as string], "full")).data?.[0]?.id as string, ended);
      expect(job.status).toBe("failed");
      const scan = job.stages[2];
      expect(scan?.status).toBe("failed");
      expect(scan?.errorText).toMatch(/^2064 bad block\(s\) found \(first: 10240, 10241, 10242/);
      expect(scan?.surfaceScan?.badBlocks).toBe(2064);
      expect(scan?.surfaceScan?.badBlockList.slice(0, 3)).toEqual([10240, 10241, 10242]);
      expect(job.stages.slice(3).map((s) => s.status)).toEqual(["skipped", "skipped"]);
    },
    waitsBudget(1),
  );

  it(
    "kills a scan that stops printing and calls it unknown, not failed",
    async () => {
      installBadblocks(
        rig.host.sshd.binDir,
        "#!/bin/sh\n# stand-in: starts, prints one progress line, then hangs\nprintf 'Checking for bad blocks in read-write mode\\nFrom block 0 to 4095\\nTesting with pattern 0xaa:   1.00%% done, 0:01 elapsed. (0/0/0 errors)\\b\\b'\nexec sleep 3600\n",
      );
      const job = await waitForJob(rig.kiln.url, (await startJob(rig.kiln.url, [ids[1] as string], "full")).data?.[0]?.id as string, ended);
      expect(job.status).toBe("unknown");
      expect(job.errorText).toMatch(/^no progress for \d+ s: badblocks was killed/);
      expect(job.stages[2]?.log).toContain("[INTERRUPTED] no progress for");
      const stage = await rig.kiln.database.db.stage.findFirstOrThrow({ where: { jobId: job.id, name: "surface_validate" } });
      expect(
        await rig.kiln.registry.transportFor(await rig.kiln.database.db.host.findFirstOrThrow()).processState({
          pid: stage.remotePid as number,
          startTime: stage.remoteStartTime as string,
          bootId: stage.remoteBootId as string,
        }),
      ).toBe("gone");
    },
    waitsBudget(1),
  );

  it(
    "fails a job whose self-test fails, quoting the self-test log",
    async () => {
      failSelfTests(rig.host.sshd.binDir, rig.host.loops[2]?.device as string);
      const job = await waitForJob(
        rig.kiln.url,
        (await startJob(rig.kiln.url, [ids[2] as string], "quick")).data?.[0]?.id as string,
        ended,
      );
      expect(job.status).toBe("failed");
      expect(job.errorText).toBe("Short offline self-test: Completed: read failure (first error at LBA 123456)");
    },
    waitsBudget(1),
  );

  it(
    "fails the verdict on new reallocated sectors, and passes a rising UDMA CRC count with a cable warning",
    async () => {
      const original = JSON.parse(readFileSync(path.join(fixtures as string, "smart-ata-failed-scrutiny.json"), "utf8"));
      const worse = (id: number, raw: number) => {
        const copy = structuredClone(original);
        for (const a of copy.ata_smart_attributes.table) if (a.id === id) a.raw = { value: raw, string: String(raw) };
        const file = path.join(work, `smart-${id}-${raw}.json`);
        writeFileSync(file, JSON.stringify(copy));
        return file;
      };
      const device = rig.host.loops[3]?.device as string;
      const run = async (after: string) => {
        const id = (await startJob(rig.kiln.url, [ids[3] as string], "quick")).data?.[0]?.id as string;
        await waitForJob(rig.kiln.url, id, (j) => j.stages[0]?.status === "passed");
        // Between the baseline and the final snapshot the drive's counters change.
        mapSmartctl(rig.host.sshd.binDir, device, after);
        const job = await waitForJob(rig.kiln.url, id, ended);
        mapSmartctl(rig.host.sshd.binDir, device, path.join(fixtures as string, "smart-ata-failed-scrutiny.json"));
        return job;
      };
      const reallocated = await run(worse(5, 8));
      expect(reallocated.status).toBe("failed");
      expect(reallocated.verdict).toMatchObject({
        outcome: "failed",
        reasons: ["8 new reallocated sectors (0 -> 8)"],
      });
      const crc = await run(worse(199, 150));
      expect(crc.status).toBe("passed");
      expect(crc.verdict).toMatchObject({
        outcome: "passed",
        warnings: [expect.stringMatching(/UDMA CRC errors rose 108 -> 150: check the cable/)],
      });
    },
    waitsBudget(4),
  );
});
