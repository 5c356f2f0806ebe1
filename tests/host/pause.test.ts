// Pausing a surface scan over SSH with real badblocks on a loop device: an operator pauses it (the
// process is stopped: state T), Kiln restarts and re-attaches to it paused, the operator continues
// it (running again, progress moves), and a paused scan can still be cancelled.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ended, type ServedBurnInRig, startJob, startServedBurnInRig, waitForJob, waitsBudget } from "../helpers/burn-in-host.js";
import { gql } from "../helpers/graphql.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";
import { processState, until } from "../helpers/wait.js";

const fixtures = smartctlFixtureDir();

const PAUSE = `mutation($id: ID!) { pauseBurnIn(jobId: $id) { __typename ... on Error { message } } }`;
const CONTINUE = `mutation($id: ID!) { continueBurnIn(jobId: $id) { __typename ... on Error { message } } }`;

describe.runIf(fixtures !== null)("pausing a scan over SSH, across a Kiln restart", () => {
  let rig: ServedBurnInRig;
  const work = tempDir("kiln-pause-");
  const stageRow = (jobId: string) => rig.withDatabase((db) => db.stage.findFirstOrThrow({ where: { jobId, name: "surface_validate" } }));

  beforeAll(async () => {
    rig = await startServedBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 2,
      sizeBytes: 64 * MiB,
      pacedDisks: true,
      settings: { pollSeconds: 0.2, progressWriteSeconds: 1, remoteWorkDir: path.join(work, "runs"), stuckMinutes: 0.1 },
    });
  });
  afterAll(() => rig?.stop());

  it(
    "stops badblocks (state T), stays paused through a restart, runs again when continued, and a paused scan can be cancelled",
    async () => {
      const ids = rig.host.loops.map((_, i) => rig.driveId(i));
      // 8 s a pass until the paused scan has run again; then at full speed.
      rig.host.pace(8 * MiB);
      const started = await startJob(rig.kiln.url, ids, "full");
      const [jobId, otherId] = (started.data ?? []).map((j) => j.id) as [string, string];
      await waitForJob(rig.kiln.url, jobId, (j) => (j.stages[2]?.surfaceScan?.phase ?? 0) >= 2);

      // Not before its scan: a self-test cannot be held.
      const early = await gql<{ pauseBurnIn: { __typename: string; message?: string } }>(rig.kiln.url, PAUSE, { id: "no-such-job" });
      expect(early.data?.pauseBurnIn.__typename).toBe("NotFoundError");

      const paused = await gql<{ pauseBurnIn: { __typename: string } }>(rig.kiln.url, PAUSE, { id: jobId });
      expect(paused.data?.pauseBurnIn.__typename, JSON.stringify(paused)).toBe("PauseBurnInSuccess");
      const stage = await stageRow(jobId);
      const pid = stage.remotePid as number;
      expect(stage.pauseReason).toBe("operator");
      await until("badblocks stopped", () => processState(pid) === "T");
      // The other scan is paused too, before it could finish on a fast machine, and stays so.
      await waitForJob(rig.kiln.url, otherId, (j) => (j.stages[2]?.surfaceScan?.phase ?? 0) >= 1);
      const pausedOther = await gql<{ pauseBurnIn: { __typename: string } }>(rig.kiln.url, PAUSE, { id: otherId });
      expect(pausedOther.data?.pauseBurnIn.__typename, JSON.stringify(pausedOther)).toBe("PauseBurnInSuccess");
      const otherPid = (await stageRow(otherId)).remotePid as number;
      await until("the other stopped", () => processState(otherPid) === "T");
      const again = await gql<{ pauseBurnIn: { __typename: string; message?: string } }>(rig.kiln.url, PAUSE, { id: jobId });
      expect(again.data?.pauseBurnIn).toMatchObject({ __typename: "JobStateError", message: "cannot pause: already paused (operator)" });

      // Paused longer than stuckMinutes (6 s): not taken for stuck, and nothing moves. (Nothing to
      // await here: the point is that time passes without an event.) The log written before the
      // stop is read first, so the offset is taken once that has settled.
      await new Promise((r) => setTimeout(r, 2000));
      const offset = (await stageRow(jobId)).remoteLogOffset;
      await new Promise((r) => setTimeout(r, 6500));
      expect(processState(pid)).toBe("T");
      expect((await stageRow(jobId)).remoteLogOffset).toBe(offset);

      // Kiln restarts: the scan is still stopped on the host, and Kiln knows it.
      await rig.restart("SIGTERM");
      const view = await gql<{ job: { status: string; stages: Array<{ pausedAt: string | null; pauseReason: string | null }> } }>(
        rig.kiln.url,
        "query($id: ID!) { job(id: $id) { status stages { pausedAt pauseReason } } }",
        { id: jobId },
      );
      expect(view.data?.job.status).toBe("running");
      expect(view.data?.job.stages[2]).toMatchObject({ pauseReason: "operator" });
      expect(processState(pid)).toBe("T");

      // Continue (once the re-attached stage takes requests): running again, the log grows.
      await until("continue accepted", async () => {
        const r = await gql<{ continueBurnIn: { __typename: string } }>(rig.kiln.url, CONTINUE, { id: jobId });
        return r.data?.continueBurnIn.__typename === "ContinueBurnInSuccess";
      });
      await until("badblocks running", () => processState(pid) !== "T");
      await until("the log to grow", async () => (await stageRow(jobId)).remoteLogOffset > offset);
      rig.host.pace(null);
      const after = await stageRow(jobId);
      expect(after.pausedAt).toBeNull();
      expect(after.pausedSeconds).toBeGreaterThan(7);
      expect(JSON.parse(after.pauses)).toEqual([
        expect.objectContaining({ reason: "operator", by: "local", continuedAt: expect.any(String) }),
      ]);

      // The other scan, paused all along (through the restart too): cancelled while stopped, its
      // process is gone at once.
      expect(processState(otherPid)).toBe("T");
      const cancelled = await gql<{ cancelBurnIn: { __typename: string } }>(
        rig.kiln.url,
        "mutation($id: ID!) { cancelBurnIn(jobId: $id) { __typename } }",
        { id: otherId },
      );
      expect(cancelled.data?.cancelBurnIn.__typename).toBe("CancelBurnInSuccess");
      // Gone (a zombie until its wrapper reaps it is gone as well).
      expect([null, "Z"]).toContain(processState(otherPid));
      const other = await waitForJob(rig.kiln.url, otherId, ended);
      expect(other.status, JSON.stringify(other.stages.map((s) => [s.name, s.status, s.errorText]))).toBe("cancelled");

      const job = await waitForJob(rig.kiln.url, jobId, ended, 240_000);
      expect(job.status, JSON.stringify(job.stages.map((s) => [s.name, s.status, s.errorText]))).toBe("passed");
      expect(job.stages[2]?.log).toMatch(/\[PAUSED\] by local[\s\S]*re-attaching[\s\S]*\[CONTINUED\] by local/);
    },
    waitsBudget(6),
  );
});
