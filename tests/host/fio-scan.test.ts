// The `standard` profile's surface scan over SSH: real fio on loop devices writes every 4 KiB of
// the drive with its own offset and a checksum, then verifies it. A clean drive passes with every
// byte written (its last 4 KiB too, past the last whole MiB); a block that reads back from the
// wrong place (two 4 KiB blocks swapped in the backing file between the write and the verify) fails
// the scan at the first byte of the misplaced one; a drive that reports twice the capacity it has
// (its upper half wraps onto its lower one: a FUSE file under the loop device) fails as fake
// capacity; Kiln killed with SIGKILL mid-pass re-attaches to the same fio and follows it to the
// end (a drive with a host protected area: its report claims no erasure; a clean one's claims a
// NIST SP 800-88 Clear); and a fio killed with SIGKILL from outside, resumed, goes on from the last byte it wrote,
// then (killed again in its verify) from the last byte it verified.
import { closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BurnInReport } from "../../server/reports/build.js";
import {
  ended,
  getJob,
  JOB_FIELDS,
  type JobView,
  type ServedBurnInRig,
  startJob,
  startServedBurnInRig,
  waitForJob,
  waitsBudget,
} from "../helpers/burn-in-host.js";
import { gql } from "../helpers/graphql.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { mapSmartctl, setNativeMaxSectors } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();
const SIZE = 32 * MiB + 8192;

/** The verify header fio puts at the start of each 4 KiB: magic 0xacca, little-endian. */
function headerAt(file: string, offset: number): { magic: number; offset: bigint } {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(32);
    readSync(fd, buffer, 0, 32, offset);
    // struct verify_header: u16 magic, u16 verify_type, u32 len, u64 rand_seed, u64 offset, ...
    return { magic: buffer.readUInt16LE(0), offset: buffer.readBigUInt64LE(16) };
  } finally {
    closeSync(fd);
  }
}

/** Swaps two 4 KiB blocks of a loop device's backing file (a drive that wrote them to each other's place). */
function swapBlocks(file: string, a: number, b: number): void {
  const fd = openSync(file, "r+");
  try {
    const x = Buffer.alloc(4096);
    const y = Buffer.alloc(4096);
    readSync(fd, x, 0, 4096, a);
    readSync(fd, y, 0, 4096, b);
    writeSync(fd, y, 0, 4096, a);
    writeSync(fd, x, 0, 4096, b);
  } finally {
    closeSync(fd);
  }
}

describe.runIf(fixtures !== null)("the standard profile's fio scan over SSH", () => {
  let rig: ServedBurnInRig;
  const work = tempDir("kiln-fio-");

  beforeAll(async () => {
    rig = await startServedBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 5,
      sizeBytes: SIZE,
      pacedDisks: true,
      // Drive 4 holds 16 MiB and says it holds 32 MiB + 8 KiB.
      fakeCapacity: { index: 4, realBytes: 16 * MiB },
      settings: { pollSeconds: 0.2, progressWriteSeconds: 1, remoteWorkDir: path.join(work, "runs") },
    });
  });
  afterAll(() => rig?.stop());
  const report = async (jobId: string): Promise<BurnInReport> => {
    const response = await fetch(`${rig.kiln.url}/reports/${jobId}.json`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { report: BurnInReport }).report;
  };

  it(
    "writes and verifies every 4 KiB of a clean drive with its own offset, and passes",
    async () => {
      const started = await startJob(rig.kiln.url, [rig.driveId(0)], "standard");
      expect(started.__typename, JSON.stringify(started)).toBe("StartBurnInSuccess");
      const job = await waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
      expect(job.status, JSON.stringify(job.stages.map((s) => [s.name, s.status, s.errorText]))).toBe("passed");
      expect(job.stages.map((s) => `${s.name}:${s.status}`)).toEqual([
        "precheck:passed",
        "smart_short:passed",
        "surface_validate:passed",
        "smart_long:passed",
        "final_check:passed",
      ]);
      const scan = job.stages[2];
      expect(scan?.surfaceScan?.history.map((h) => h.phase)).toEqual([1, 2]);
      expect(scan?.surfaceScan).toMatchObject({ phase: 2, phasePct: 100, badBlocks: 0 });
      expect(scan?.log).toMatch(/started fio --filename=\S+ --rw=write --direct=1 .*--verify=crc32c/);
      expect(scan?.log).toContain("--randseed=");
      // On the drive: fio's header, naming its own offset, at the first 4 KiB, in the middle, and
      // at the last 4 KiB (the tail job past the last whole MiB).
      const file = rig.host.loops[0]?.file as string;
      for (const at of [0, 16 * MiB + 4096, SIZE - 4096]) expect(headerAt(file, at)).toEqual({ magic: 0xacca, offset: BigInt(at) });
      expect(job.verdict?.outcome).toBe("passed");
      // Every byte written and verified, and hdparm -N says the device is the whole drive: the
      // report claims a Clear, with what it does not reach.
      const erasure = (await report(job.id)).erasure;
      expect(erasure).toMatchObject({
        standard: "NIST SP 800-88 Rev. 1",
        method: "Clear",
        claimed: true,
        notClaimed: null,
        coveredBytes: SIZE,
        capacity: { method: "hdparm -N", deviceBytes: SIZE, driveBytes: SIZE, wholeDriveReachable: true },
      });
      expect(erasure?.technique).toMatch(/^fio wrote every 4 KiB of the device/);
      expect(erasure?.limits.join(" ")).toMatch(/remapped.*over-provisioned.*Purge/);
      // The API says which program ran the scan, and what its phases were.
      const view = await gql<{
        job: {
          stages: Array<{ surfaceScan: { engine: string; pattern: string; history: Array<{ pattern: string; mode: string }> } | null }>;
        };
      }>(rig.kiln.url, "query($id: ID!) { job(id: $id) { stages { surfaceScan { engine pattern history { pattern mode } } } } }", {
        id: job.id,
      });
      expect(view.data?.job.stages[2]?.surfaceScan).toEqual({
        engine: "fio",
        pattern: "position-checked",
        history: [
          { pattern: "position-checked", mode: "write" },
          { pattern: "position-checked", mode: "verify" },
        ],
      });
    },
    waitsBudget(2),
  );

  it(
    "fails a drive that reads a block back from the wrong place, naming the first misplaced byte",
    async () => {
      const loop = rig.host.loops[1];
      // 8 MiB/s: 4 s to write, 4 s to verify; the blocks are swapped once the verify has begun,
      // far enough along the drive that it has not read them yet.
      rig.host.pace(8 * MiB, [loop?.device as string]);
      const started = await startJob(rig.kiln.url, [rig.driveId(1)], "standard");
      const id = started.data?.[0]?.id as string;
      await waitForJob(rig.kiln.url, id, (j) => j.stages[2]?.surfaceScan?.phase === 2);
      const first = 30 * MiB + 4096;
      swapBlocks(loop?.file as string, first, first + 8192);
      rig.host.pace(null, [loop?.device as string]);
      const job = await waitForJob(rig.kiln.url, id, ended);
      expect(job.status).toBe("failed");
      expect(job.stages[2]).toMatchObject({
        status: "failed",
        errorText: `the data read at byte ${first} was written for byte ${first + 8192}: a misdirected write (first failing byte ${first})`,
      });
      expect(job.stages[2]?.surfaceScan?.badBlockList).toEqual([first / 4096]);
      // The stages after a failed scan do not run.
      expect(job.stages.slice(3).map((s) => s.status)).toEqual(["skipped", "skipped"]);
    },
    waitsBudget(2),
  );

  it(
    "re-attaches to the same fio after Kiln is killed with SIGKILL mid-pass, and follows it to the end",
    async () => {
      const loop = rig.host.loops[2];
      // This drive hides 1 MiB past its current max (a host protected area).
      setNativeMaxSectors(rig.host.sshd.binDir, loop?.device as string, SIZE / 512 + 2048);
      rig.host.pace(4 * MiB, [loop?.device as string]);
      const started = await startJob(rig.kiln.url, [rig.driveId(2)], "standard");
      const id = started.data?.[0]?.id as string;
      await waitForJob(rig.kiln.url, id, (j) => (j.stages[2]?.surfaceScan?.phasePct ?? 0) > 10);
      const before = await rig.withDatabase((db) => db.stage.findFirstOrThrow({ where: { jobId: id, name: "surface_validate" } }));
      await rig.restart("SIGKILL");
      rig.host.pace(null, [loop?.device as string]);
      const job = await waitForJob(rig.kiln.url, id, ended);
      expect(job.status, JSON.stringify(job.stages.map((s) => [s.name, s.status, s.errorText]))).toBe("passed");
      const log = job.stages[2]?.log ?? "";
      expect(log).toContain(`re-attaching to fio pid ${before.remotePid}`);
      expect(log.match(/started fio /g) ?? []).toHaveLength(1);
      expect((await getJob(rig.kiln.url, id)).stages[2]?.surfaceScan?.history.map((h) => h.phase)).toEqual([1, 2]);
      // Every byte of the device verified, but the drive has more than the device: no erasure claimed.
      expect((await report(id)).erasure).toMatchObject({
        claimed: false,
        notClaimed: `the device may not be the whole drive: a host protected area hides ${MiB} bytes (max sectors ${SIZE / 512} of ${SIZE / 512 + 2048} native)`,
      });
    },
    waitsBudget(2),
  );

  it(
    "fails a drive that holds half what it reports as fake capacity, at its first byte",
    async () => {
      const started = await startJob(rig.kiln.url, [rig.driveId(4)], "standard");
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
      const loop = rig.host.loops[3] as { device: string; file: string };
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

      const first = (await startJob(rig.kiln.url, [rig.driveId(3)], "standard")).data?.[0]?.id as string;
      await waitForJob(rig.kiln.url, first, (j) => j.stages[2]?.surfaceScan?.phase === 1 && j.stages[2].surfaceScan.phasePct >= 40);
      const lost = await killFio(first);
      expect(lost.status).toBe("unknown");
      expect(lost.stages[2]?.errorText).toMatch(/fio/);
      const writtenPct = (await scanOf(first)).bbPhasePct as number;
      // While the pass was down the drive's reallocated count rose 0 -> 8: the resumed job's own
      // baseline already says 8, the first job's says 0.
      const fixture = path.join(fixtures as string, "smart-ata-failed-scrutiny.json");
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

      const verifiedPct = (await scanOf(second)).bbPhasePct as number;
      const lostVerify = await killFio(second);
      expect(lostVerify.status).toBe("unknown");
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
