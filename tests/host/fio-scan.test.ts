// The `standard` profile's surface scan over SSH: real fio on loop devices writes every 4 KiB of
// the drive with its own offset and a checksum, then verifies it. A clean drive passes with every
// byte written (its last 4 KiB too, past the last whole MiB); a block that reads back from the
// wrong place (two 4 KiB blocks swapped in the backing file between the write and the verify) fails
// the scan at the first byte of the misplaced one; and Kiln killed with SIGKILL mid-pass
// re-attaches to the same fio and follows it to the end. A clean drive's report claims a NIST SP
// 800-88 Clear; a drive with a host protected area's claims none. (fio-resume.test.ts: a fio
// killed from outside, resumed; a fake-capacity drive.)
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BurnInReport } from "../../server/reports/build.js";
import {
  ended,
  getJob,
  JOB_WAIT_MS,
  type ServedBurnInRig,
  startJob,
  startServedBurnInRig,
  waitForJob,
  waitsBudget,
} from "../helpers/burn-in-host.js";
import { headerAt, swapBlocks } from "../helpers/fio-blocks.js";
import { gql } from "../helpers/graphql.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { subscribe } from "../helpers/sse.js";
import { setNativeMaxSectors } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();

interface Latency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
const LATENCY = "p50Ms p99Ms maxMs";
/** An interval's latencies: ordered, and the median at least `minP50Ms`. */
function expectLatency(latency: Latency | null | undefined, minP50Ms: number) {
  expect(latency, "latency").toBeTruthy();
  const { p50Ms, p99Ms, maxMs } = latency as Latency;
  expect(p50Ms).toBeGreaterThanOrEqual(minP50Ms);
  expect(p99Ms).toBeGreaterThanOrEqual(p50Ms);
  expect(maxMs).toBeGreaterThanOrEqual(p99Ms);
}
const SIZE = 32 * MiB + 8192;

describe.runIf(fixtures !== null)("the standard profile's fio scan over SSH", () => {
  let rig: ServedBurnInRig;
  const work = tempDir("kiln-fio-");

  beforeAll(async () => {
    rig = await startServedBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 3,
      sizeBytes: SIZE,
      pacedDisks: true,
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
      const device = rig.host.loops[0]?.device as string;
      rig.host.pace(4 * MiB, [device]);
      const started = await startJob(rig.kiln.url, [rig.driveId(0)], "standard");
      expect(started.__typename, JSON.stringify(started)).toBe("StartBurnInSuccess");
      const jobId = started.data?.[0]?.id as string;
      // A quarter into the verify at 4 MiB/s: the time left, from the speeds the scan measured.
      await waitForJob(rig.kiln.url, jobId, (j) => j.stages[2]?.surfaceScan?.phase === 2 && j.stages[2].surfaceScan.phasePct >= 25);
      const eta = await gql<{
        job: { stages: Array<{ name: string; etaSeconds: number | null; surfaceScan: { latency: Latency | null } | null }> };
      }>(rig.kiln.url, `query($id: ID!) { job(id: $id) { stages { name etaSeconds surfaceScan { latency { ${LATENCY} } } } } }`, {
        id: jobId,
      });
      const events = subscribe<{
        etaSeconds: number | null;
        stageName: string;
        scanEngine: string | null;
        phase: number | null;
        phases: number | null;
        latency: Latency | null;
      }>(
        rig.kiln.url,
        `subscription($id: ID!) { jobProgress(jobId: $id) { etaSeconds stageName scanEngine phase phases latency { ${LATENCY} } } }`,
        { id: jobId },
      );
      // The first event is the job as stored, the second one the runner's own.
      await events.until(() => events.events.length >= 2, JOB_WAIT_MS);
      events.close();
      rig.host.pace(null, [device]);
      const scanLeft = eta.data?.job.stages[2]?.etaSeconds as number;
      // At most 75% of 32 MiB at 4 MiB/s is left (6 s), less whatever passed since.
      expect(scanLeft).toBeGreaterThan(0);
      expect(scanLeft).toBeLessThan(12);
      // The job's time left holds the stages still to come: the long self-test as long as the
      // drive says it takes (the stand-in's SMART data: 1 minute) and a minute for the final
      // check, where a straight line on the job's percent (56% by then) says seconds.
      for (const live of events.events.slice(0, 2)) {
        // The verify, phase 2 of fio's 2, as stored and as the runner publishes it.
        expect(live).toMatchObject({ stageName: "surface_validate", scanEngine: "fio", phase: 2, phases: 2 });
        expect(live.etaSeconds).toBeGreaterThan(120);
        expect(live.etaSeconds).toBeLessThan(120 + 12);
      }
      // The last interval's read latencies, live and in the API: 1 MiB requests throttled to
      // 4 MiB/s take about a quarter of a second each, none less than a millisecond.
      for (const latency of [eta.data?.job.stages[2]?.surfaceScan?.latency, events.events[1]?.latency]) expectLatency(latency, 1);

      const job = await waitForJob(rig.kiln.url, jobId, ended);
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
      // Each phase's samples carry their interval's latencies (the write's and the verify's).
      const sampled = await gql<{ job: { stages: Array<{ samples: Array<{ phase: number; latency: Latency | null }> }> } }>(
        rig.kiln.url,
        `query($id: ID!) { job(id: $id) { stages { samples { phase latency { ${LATENCY} } } } } }`,
        { id: jobId },
      );
      const samples = sampled.data?.job.stages[2]?.samples ?? [];
      for (const phase of [1, 2]) {
        const measured = samples.filter((s) => s.phase === phase && s.latency);
        expect(measured.length, `phase ${phase} samples with latencies of ${samples.length}`).toBeGreaterThan(0);
        for (const sample of measured) expectLatency(sample.latency, 0.001);
      }
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
});
