// Burn-ins over SSH with real badblocks on loop devices and a real SQLite file: a full job,
// cancel, unlock grants for drives in use, and a serial that changed under the device path.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BurnInRig,
  ended,
  getJob,
  JOB_WAIT_MS,
  type JobView,
  startBurnInRig,
  startJob,
  waitForJob,
  waitsBudget,
} from "../helpers/burn-in-host.js";
import { gql } from "../helpers/graphql.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { subscribe } from "../helpers/sse.js";
import { mapSmartctl } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();

describe.runIf(fixtures !== null)("burn-in over SSH", () => {
  let rig: BurnInRig;
  const work = tempDir("kiln-burnin-");
  const driveOf = (i: number) => rig.drives.get(rig.host.loops[i]?.device as string) as { id: string; serial: string };

  beforeAll(async () => {
    rig = await startBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 4,
      sizeBytes: 64 * MiB,
      pacedDisks: true,
      settings: { pollSeconds: 0.2, progressWriteSeconds: 1, remoteWorkDir: path.join(work, "runs") },
      prepare: (host) => execFileSync("mkfs.ext4", ["-q", "-F", host.loops[3]?.device as string]),
    });
  });
  afterAll(() => rig?.stop());

  it(
    "runs a full job on a 64 MiB drive to passed: 8 phases in order, overall percent never decreasing",
    async () => {
      const started = await startJob(rig.kiln.url, [driveOf(0).id], "full");
      expect(started.__typename).toBe("StartBurnInSuccess");
      const jobId = started.data?.[0]?.id as string;
      const progress = subscribe<{
        progressPct: number;
        status: string;
        stageName: string | null;
        scanEngine: string | null;
        phase: number | null;
        phases: number | null;
        pattern: number | null;
        mode: string | null;
      }>(
        rig.kiln.url,
        "subscription($id: ID!) { jobProgress(jobId: $id) { progressPct status stageName scanEngine phase phases pattern mode } }",
        {
          id: jobId,
        },
      );
      try {
        await progress.until((e) => e.status === "passed", 90_000);
      } finally {
        progress.close();
      }
      const job = await getJob(rig.kiln.url, jobId);
      expect(job.status).toBe("passed");
      expect(job.progressPct).toBe(100);
      expect(job.stages.map((s) => `${s.name}:${s.status}`)).toEqual([
        "precheck:passed",
        "smart_short:passed",
        "surface_validate:passed",
        "smart_long:passed",
        "final_check:passed",
      ]);
      const scan = job.stages[2]?.surfaceScan;
      expect(scan?.history.map((h) => h.phase)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const starts = scan?.history.map((h) => Date.parse(h.startedAt)) ?? [];
      expect([...starts].sort((a, b) => a - b)).toEqual(starts);
      expect(scan?.badBlocks).toBe(0);
      expect(job.verdict).toEqual({ outcome: "passed", reasons: [], warnings: [] });
      // Every published percent is at least the one before it.
      const percents = progress.events.map((e) => e.progressPct);
      expect(percents.length).toBeGreaterThan(5);
      for (let i = 1; i < percents.length; i++) expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1] ?? 0);
      const scanEvents = progress.events.filter((e) => e.stageName === "surface_validate" && e.phase !== null);
      expect(new Set(scanEvents.map((e) => e.phase)).size).toBeGreaterThanOrEqual(2);
      // Phase 2p-1 writes pattern p, phase 2p reads it back.
      for (const e of scanEvents) {
        expect(e).toMatchObject({ scanEngine: "badblocks", phases: 8 });
        expect(e.pattern).toBe(Math.ceil((e.phase ?? 0) / 2));
        expect(e.mode).toBe((e.phase ?? 0) % 2 === 1 ? "write" : "verify");
      }
      // Other stages scan nothing: no engine, no phases.
      for (const e of progress.events.filter((e) => e.stageName !== "surface_validate"))
        expect(e).toMatchObject({ scanEngine: null, phases: null });
      // The stream ended with the job: its last event is the end.
      expect(progress.events.at(-1)?.status).toBe("passed");
      // The drawer's chart data: at most one sample per 0.25% step of a phase (this 64 MiB scan
      // runs its 8 phases within a poll or two, so only the steps the runner saw), and the
      // drive's temperature while the job ran.
      const series = await gql<{
        job: {
          stages: Array<{ name: string; samples: Array<{ at: string; phase: number; phasePct: number; pattern: string; mode: string }> }>;
          smartChanges: Array<{ name: string; before: number | null; after: number | null; changed: boolean }>;
        };
        drive: { temperatures: Array<{ celsius: number; jobId: string }> };
      }>(
        rig.kiln.url,
        `query($id: ID!, $drive: ID!) {
          job(id: $id) { stages { name samples { at phase phasePct pattern mode } } smartChanges { name before after changed } }
          drive(id: $drive) { temperatures { celsius jobId } } }`,
        { id: jobId, drive: driveOf(0).id },
      );
      expect(series.errors).toBeUndefined();
      const samples = series.data?.job.stages.find((st) => st.name === "surface_validate")?.samples ?? [];
      expect(samples[0]).toMatchObject({ phase: 1, phasePct: 0, pattern: "0xaa", mode: "write" });
      expect(samples.at(-1)).toMatchObject({ phase: 8, phasePct: 100, pattern: "0x00", mode: "verify" });
      const steps = samples.map((x) => `${x.phase}:${Math.floor(x.phasePct / 0.25)}`);
      expect(new Set(steps).size).toBe(steps.length);
      const times = samples.map((x) => Date.parse(x.at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      // The SMART table of the drawer: the recorded drive's figures at precheck and final check.
      const smart = series.data?.job.smartChanges ?? [];
      expect(smart.find((r) => r.name === "Reallocated sectors (5)")).toMatchObject({ before: expect.any(Number), changed: false });
      expect(smart.every((r) => r.before !== null && r.after !== null)).toBe(true);
      const readings = series.data?.drive.temperatures ?? [];
      expect(readings.length).toBeGreaterThanOrEqual(1);
      expect(readings.every((r) => r.jobId === jobId && r.celsius > 0)).toBe(true);
    },
    waitsBudget(1),
  );

  it(
    "cancels a running scan: the remote process is gone within 2 s of the mutation returning",
    async () => {
      // 4 s a pass: every phase has samples a second apart, and the scan runs until cancelled.
      const device = rig.host.loops[1]?.device as string;
      rig.host.pace(16 * MiB, [device]);
      const started = await startJob(rig.kiln.url, [driveOf(1).id], "full");
      const jobId = started.data?.[0]?.id as string;
      const vitals = subscribe<{ stageName: string | null; phase: number | null; mbps: number | null }>(
        rig.kiln.url,
        "subscription($id: ID!) { jobProgress(jobId: $id) { stageName phase mbps } }",
        { id: jobId },
      );
      try {
        // A phase gets its own rate once it has two samples; until then it shows none, not the
        // rate of the phase before.
        await vitals.until((e) => (e.phase ?? 0) >= 4, JOB_WAIT_MS);
        const scan = vitals.events.filter((e) => e.stageName === "surface_validate" && e.phase !== null);
        expect(scan.some((e) => e.phase === 2 && e.mbps !== null)).toBe(true);
        // The first event of every new phase (a fast write phase may be skipped over between
        // two reads of the log) shows no rate yet.
        const firsts = scan.filter((e, i) => i > 0 && e.phase !== scan[i - 1]?.phase);
        expect(firsts.some((e) => (e.phase ?? 0) >= 3)).toBe(true);
        for (const e of firsts) expect(e.mbps, `first event of phase ${e.phase}`).toBeNull();
      } finally {
        vitals.close();
      }
      // Phase changes are written at once: phase 2 means badblocks is well under way.
      const running = await waitForJob(
        rig.kiln.url,
        jobId,
        (j) => j.stages[2]?.status === "running" && (j.stages[2]?.surfaceScan?.phase ?? 0) >= 2,
      );
      expect(running.status).toBe("running");
      const stage = await rig.kiln.database.db.stage.findFirstOrThrow({ where: { jobId, name: "surface_validate" } });
      const pid = stage.remotePid as number;
      expect(
        execFileSync("ps", ["-o", "comm=", "-p", String(pid)])
          .toString()
          .trim(),
      ).toBe("badblocks");
      const cancelled = await gql<{ cancelBurnIn: { __typename: string; data: { status: string } } }>(
        rig.kiln.url,
        "mutation($id: ID!) { cancelBurnIn(jobId: $id) { __typename ... on CancelBurnInSuccess { data { status } } } }",
        { id: jobId },
      );
      const returnedAt = Date.now();
      expect(cancelled.data?.cancelBurnIn).toEqual({ __typename: "CancelBurnInSuccess", data: { status: "cancelled" } });
      let alive = true;
      while (alive && Date.now() - returnedAt < 2000) {
        try {
          execFileSync("kill", ["-0", String(pid)]);
          const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
          alive = state !== "Z";
        } catch {
          alive = false;
        }
      }
      expect(alive).toBe(false);
      const job = await getJob(rig.kiln.url, jobId);
      expect(job.stages[2]).toMatchObject({ status: "cancelled" });
      expect(job.stages[2]?.log).toContain("[ABORTED]");
      // The run's directory on the host is gone with it, and so is the job's.
      expect(existsSync(stage.remoteDir as string)).toBe(false);
      expect(existsSync(path.dirname(stage.remoteDir as string))).toBe(false);
      expect(job.stages.slice(3).map((s) => s.status)).toEqual(["skipped", "skipped"]);
    },
    waitsBudget(2),
  );

  it(
    "refuses a drive holding data without a grant, accepts it with one, refuses again once the grant expired",
    async () => {
      const drive = driveOf(3);
      // A profile that writes (quick and the SMART-only profiles run on a drive holding data).
      const refused = await startJob(rig.kiln.url, [drive.id], "full");
      // An ext4 filesystem nobody has mounted: data at rest, found on the device itself.
      expect(refused).toMatchObject({ __typename: "DriveInUseError", usage: [{ kind: "filesystem", name: rig.host.loops[3]?.device }] });
      expect(refused.message).toMatch(/is in use \(filesystem .*\).*grant a time-limited unlock/);

      const grant = (confirmSerial: string) =>
        gql<{ grantUnlock: { __typename: string; field?: string; message?: string; data?: { id: string; expiresAt: string } } }>(
          rig.kiln.url,
          'mutation($d: ID!, $s: String!) { grantUnlock(driveId: $d, confirmSerial: $s, reason: "re-test after RMA", minutes: 30) { __typename ... on GrantUnlockSuccess { data { id expiresAt } } ... on ValidationError { field message } } }',
          { d: drive.id, s: confirmSerial },
        ).then((r) => r.data?.grantUnlock);
      const wrong = await grant("WRONG-SERIAL");
      expect(wrong).toMatchObject({ __typename: "ValidationError", field: "confirmSerial" });
      // The answer must not hand the right serial to whoever guessed wrong.
      expect(wrong?.message).not.toContain(drive.serial);
      const granted = await grant(drive.serial);
      expect(granted?.__typename).toBe("GrantUnlockSuccess");

      const accepted = await startJob(rig.kiln.url, [drive.id], "full");
      expect(accepted.__typename).toBe("StartBurnInSuccess");
      const job = await waitForJob(rig.kiln.url, accepted.data?.[0]?.id as string, ended);
      expect(job.status).toBe("passed");
      expect(job.stages[0]?.log).toMatch(/drive holds data \(filesystem .*\): unlock grant .* used/);
      const used = await rig.kiln.database.db.unlockGrant.findUniqueOrThrow({ where: { id: granted?.data?.id as string } });
      expect(used.consumedByJobId).toBe(job.id);

      // The grant was used by that job: the next start needs a new one.
      expect(await startJob(rig.kiln.url, [drive.id], "full")).toMatchObject({
        __typename: "UnlockRequiredError",
        reason: expect.stringMatching(/was used by job/),
      });
      // A new grant that has expired does not count.
      const second = await grant(drive.serial);
      await rig.kiln.database.db.unlockGrant.update({
        where: { id: second?.data?.id as string },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      expect(await startJob(rig.kiln.url, [drive.id], "full")).toMatchObject({
        __typename: "UnlockRequiredError",
        reason: expect.stringMatching(/expired at/),
      });
      // Nor does one for another serial (the drive was swapped since).
      await rig.kiln.database.db.unlockGrant.create({
        data: {
          driveId: drive.id,
          serial: "OTHER-SERIAL",
          reason: "old drive",
          grantedBy: "operator",
          expiresAt: new Date(Date.now() + 600_000),
        },
      });
      expect(await startJob(rig.kiln.url, [drive.id], "full")).toMatchObject({
        __typename: "UnlockRequiredError",
        reason: expect.stringMatching(/for serial OTHER-SERIAL/),
      });

      const actions = (await rig.kiln.database.db.auditEvent.findMany({ where: { subjectId: drive.id }, orderBy: { at: "asc" } })).map(
        (e) => e.action,
      );
      expect(actions).toEqual(["unlock.grant", "unlock.use", "unlock.grant"]);
    },
    waitsBudget(1),
  );

  it(
    "aborts before any write when the device path now holds a drive with another serial",
    async () => {
      const loop = rig.host.loops[2] as { device: string; file: string };
      const drive = driveOf(2);
      // A recognisable pattern on the "drive", to prove nothing wrote to it.
      execFileSync("dd", ["if=/dev/urandom", `of=${loop.device}`, "bs=1M", "count=1", "conv=fsync", "status=none"]);
      const before = readFileSync(loop.file).subarray(0, MiB);
      // The drive at that path is swapped for another one (another recorded serial).
      mapSmartctl(rig.host.sshd.binDir, loop.device, path.join(fixtures as string, "smart-fail2.json"));
      const started = await startJob(rig.kiln.url, [drive.id], "full");
      const job: JobView = await waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
      // Nothing is known about either drive's health: unknown, never the verdict word "failed".
      expect(job.status).toBe("unknown");
      expect(job.errorText).toMatch(/serial changed: .* now reports MSK423Y20S3HBC, the job is for .*aborted before any write/);
      expect(job.stages.map((s) => s.status)).toEqual(["unknown", "skipped", "skipped", "skipped", "skipped"]);
      const surface = await rig.kiln.database.db.stage.findFirstOrThrow({ where: { jobId: job.id, name: "surface_validate" } });
      expect(surface.remotePid).toBeNull();
      expect(readFileSync(loop.file).subarray(0, MiB).equals(before)).toBe(true);
      mapSmartctl(rig.host.sshd.binDir, loop.device, path.join(fixtures as string, "smart-megaraid0.json"));
    },
    waitsBudget(1),
  );

  it(
    "refuses bad input naming the field, and repeats the first answer for a reused idempotency key",
    async () => {
      // A profile is an enum: one that does not exist is refused before anything runs, naming it.
      const unknownProfile = await gql(
        rig.kiln.url,
        "mutation($ids: [ID!]!) { startBurnIn(driveIds: $ids, profile: everything) { __typename } }",
        {
          ids: [driveOf(0).id],
        },
      );
      expect(unknownProfile.errors?.[0]?.message).toMatch(/"everything".*Profile/);
      expect(await startJob(rig.kiln.url, [driveOf(0).id], "full", { blockSize: 3000 })).toMatchObject({
        __typename: "ValidationError",
        field: "options.blockSize",
      });
      expect(await startJob(rig.kiln.url, [], "full")).toMatchObject({ __typename: "ValidationError", field: "driveIds" });
      // A scan badblocks could not run is refused now, not found out by a running job.
      const jobsBefore = await rig.kiln.database.db.burnInJob.count();
      expect(await startJob(rig.kiln.url, [driveOf(0).id], "full", { blockSize: 4096, blocksAtOnce: 65_536 })).toMatchObject({
        __typename: "ValidationError",
        field: "options.blocksAtOnce",
        message: expect.stringMatching(/268435456 bytes per request; at most 67108864/),
      });
      expect(await rig.kiln.database.db.burnInJob.count()).toBe(jobsBefore);
      const call = (profile: string) =>
        gql<{ startBurnIn: { __typename: string; data?: Array<{ id: string }>; field?: string } }>(
          rig.kiln.url,
          'mutation($ids: [ID!]!, $p: Profile!) { startBurnIn(driveIds: $ids, profile: $p, idempotencyKey: "batch-7") { __typename ... on StartBurnInSuccess { data { id } } ... on ValidationError { field } } }',
          { ids: [driveOf(0).id], p: profile },
        ).then((r) => r.data?.startBurnIn);
      const first = await call("quick");
      const again = await call("quick");
      expect(again?.data).toEqual(first?.data);
      expect(await call("full")).toMatchObject({ __typename: "ValidationError", field: "idempotencyKey" });
      expect(await rig.kiln.database.db.burnInJob.count({ where: { idempotencyKey: { startsWith: "batch-7#" } } })).toBe(1);
      // A second job on a busy drive is refused.
      expect(await startJob(rig.kiln.url, [driveOf(0).id], "quick")).toMatchObject({ __typename: "DriveBusyError" });
      const done = await waitForJob(rig.kiln.url, first?.data?.[0]?.id as string, ended);
      // What an ended job cannot do is a state conflict, not bad input.
      const conflict = (mutation: "cancelBurnIn" | "resumeBurnIn") =>
        gql<Record<string, { __typename: string; status?: string; message?: string }>>(
          rig.kiln.url,
          `mutation($id: ID!) { ${mutation}(jobId: $id) { __typename ... on JobStateError { status message } } }`,
          { id: done.id },
        ).then((r) => r.data?.[mutation]);
      expect(await conflict("cancelBurnIn")).toEqual({
        __typename: "JobStateError",
        status: "passed",
        message: "job already ended (passed)",
      });
      expect(await conflict("resumeBurnIn")).toMatchObject({ __typename: "JobStateError", status: "passed" });
    },
    waitsBudget(1),
  );
});
