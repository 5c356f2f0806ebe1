// The `standard` profile's fio scan when things go wrong, over SSH on loop devices: a drive that
// reports twice the capacity it has (its upper half wraps onto its lower one: a FUSE file under
// the loop device) fails as fake capacity; and a fio killed with SIGKILL from outside Kiln, resumed,
// goes on from the last byte it wrote, then (killed again in its verify) from the last byte it
// verified, and the chain's verdict compares with its first job's SMART baseline.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ended,
  JOB_FIELDS,
  type JobView,
  type ServedBurnInRig,
  startJob,
  startServedBurnInRig,
  waitForJob,
  waitsBudget,
} from "../helpers/burn-in-host.js";
import { headerAt } from "../helpers/fio-blocks.js";
import { gql } from "../helpers/graphql.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { mapSmartctl } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();
const SIZE = 32 * MiB + 8192;

describe.runIf(fixtures !== null)("an interrupted or fooled fio scan over SSH", () => {
  let rig: ServedBurnInRig;
  const work = tempDir("kiln-fio-resume-");

  beforeAll(async () => {
    rig = await startServedBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 2,
      sizeBytes: SIZE,
      pacedDisks: true,
      // Drive 0 holds 16 MiB and says it holds 32 MiB + 8 KiB.
      fakeCapacity: { index: 0, realBytes: 16 * MiB },
      settings: { pollSeconds: 0.2, progressWriteSeconds: 1, remoteWorkDir: path.join(work, "runs") },
    });
  });
  afterAll(() => rig?.stop());

  it(
    "fails a drive that holds half what it reports as fake capacity, at its first byte",
    async () => {
      const started = await startJob(rig.kiln.url, [rig.driveId(0)], "standard");
      const job = await waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
      expect(job.status).toBe("failed");
      // Byte 0 was last written as byte 16 MiB when the verify read it (the 8 KiB past 32 MiB, a
      // job of their own, come after the verify of the first 32 MiB).
      expect(job.stages[2]).toMatchObject({
        status: "failed",
        errorText: `the data read at byte 0 was written for byte ${16 * MiB}: the drive wraps its addresses and holds at most ${16 * MiB} bytes, not what it reports (fake capacity) (first failing byte 0)`,
      });
      expect(job.stages[2]?.surfaceScan?.badBlockList).toEqual([0]);
      // The write phase ran to its end (a fake drive accepts every write); the verify found it at once.
      expect(job.stages[2]?.surfaceScan?.history.map((h) => h.phase)).toEqual([1, 2]);
    },
    waitsBudget(1),
  );

  it(
    "resumes a pass whose fio was killed: from the last byte written, then from the last byte verified; the verdict compares with the first baseline",
    async () => {
      const loop = rig.host.loops[1] as { device: string; file: string };
      rig.host.pace(4 * MiB, [loop.device]);
      const scanOf = (jobId: string) => rig.withDatabase((db) => db.stage.findFirstOrThrow({ where: { jobId, name: "surface_validate" } }));
      /** Kills the job's fio and its wrapper from outside Kiln, as a crash or the OOM killer would. */
      const killFio = async (jobId: string) => {
        process.kill(-((await scanOf(jobId)).remotePgid as number), "SIGKILL");
        return waitForJob(rig.kiln.url, jobId, ended);
      };
      const resume = async (jobId: string) => {
        const r = await gql<{ resumeBurnIn: { __typename: string; data?: JobView } }>(
          rig.kiln.url,
          `mutation($id: ID!) { resumeBurnIn(jobId: $id) { __typename ... on ResumeBurnInSuccess { data { ${JOB_FIELDS} } } ... on Error { message } } }`,
          { id: jobId },
        );
        expect(r.data?.resumeBurnIn.__typename, JSON.stringify(r)).toBe("ResumeBurnInSuccess");
        return r.data?.resumeBurnIn.data?.id as string;
      };

      const first = (await startJob(rig.kiln.url, [rig.driveId(1)], "standard")).data?.[0]?.id as string;
      await waitForJob(rig.kiln.url, first, (j) => j.stages[2]?.surfaceScan?.phase === 1 && j.stages[2].surfaceScan.phasePct >= 40);
      const lost = await killFio(first);
      expect(lost.status).toBe("unknown");
      expect(lost.stages[2]?.errorText).toMatch(/fio/);
      const writtenPct = (await scanOf(first)).bbPhasePct as number;
      // While the pass was down the drive's reallocated count rose 0 -> 8: the resumed job's own
      // baseline already says 8, the first job's says 0.
      const fixture = path.join(fixtures as string, "smart-ata2.json");
      const worse = JSON.parse(readFileSync(fixture, "utf8"));
      for (const a of worse.ata_smart_attributes.table) if (a.id === 5) a.raw = { value: 8, string: "8" };
      writeFileSync(path.join(work, "reallocated-8.json"), JSON.stringify(worse));
      mapSmartctl(rig.host.sshd.binDir, loop.device, path.join(work, "reallocated-8.json"));

      // The write goes on from the stored percent less 8 MiB in flight, down to a whole MiB.
      const second = await resume(first);
      const writeFrom = Math.max(0, Math.floor((Math.floor((writtenPct / 100) * SIZE) - 8 * MiB) / MiB) * MiB);
      expect(writeFrom).toBeGreaterThan(0);
      const resumedWrite = await waitForJob(
        rig.kiln.url,
        second,
        (j) => j.stages[1]?.surfaceScan?.phase === 2 && j.stages[1].surfaceScan.phasePct >= 50,
      );
      const writeLog = resumedWrite.stages[1]?.log ?? "";
      expect(writeLog).toContain(`resuming the write at byte ${writeFrom}`);
      expect(writeLog).toMatch(new RegExp(`--name=write --bs=1048576 --verify_interval=4096 --offset=${writeFrom} `));
      expect(writeLog).toMatch(/--name=verify --stonewall --bs=1048576 --verify_interval=4096 --offset=0 /);
      // What the first pass wrote before the resume point is still its own: a header naming its offset.
      expect(headerAt(loop.file, writeFrom - 4096)).toEqual({ magic: 0xacca, offset: BigInt(writeFrom - 4096) });
      expect(resumedWrite.stages[1]?.surfaceScan?.history.map((h) => h.phase)).toEqual([1, 2]);

      const lostVerify = await killFio(second);
      expect(lostVerify.status).toBe("unknown");
      // Read once the job has ended: fio may report more between a read and the kill.
      const verifiedPct = (await scanOf(second)).bbPhasePct as number;
      const third = await resume(second);
      rig.host.pace(null, [loop.device]);
      const done = await waitForJob(rig.kiln.url, third, ended);
      const verifyFrom = Math.max(0, Math.floor((Math.floor((verifiedPct / 100) * SIZE) - 8 * MiB) / MiB) * MiB);
      expect(verifyFrom).toBeGreaterThan(0);
      const verifyLog = done.stages[1]?.log ?? "";
      expect(verifyLog).toContain(`resuming the verify at byte ${verifyFrom}`);
      // Nothing written again: one verify-only job from that byte.
      expect(verifyLog).toMatch(
        new RegExp(
          `--name=verify --bs=1048576 --verify_interval=4096 --offset=${verifyFrom} --size=${32 * MiB - verifyFrom} --verify_only=1`,
        ),
      );
      expect(verifyLog).not.toMatch(/--do_verify/);
      expect(done.stages.map((s) => `${s.name}:${s.status}`)).toEqual([
        "precheck:passed",
        "surface_validate:passed",
        "smart_long:passed",
        "final_check:failed",
      ]);
      expect(done.stages[1]?.surfaceScan?.history.map((h) => h.phase)).toEqual([2]);
      // The verdict: against the first job's baseline (0), not the resumed ones' (8).
      expect(done.verdict).toMatchObject({ outcome: "failed", reasons: ["8 new reallocated sectors (0 -> 8)"] });
      expect(done.resumedFromId).toBe(second);
    },
    waitsBudget(6),
  );
});
