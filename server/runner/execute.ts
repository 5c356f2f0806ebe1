// Runs one claimed job: its stages in order, each to an outcome, and the job to its end state.
import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "../db/client.js";
import type { Stage } from "../db/generated/sqlite/client.js";
import { type DependencyHealth, firstLine, isDatabaseUnreachable, outageBackoffMs, throughOutages } from "../dependency-health.js";
import { publishJobState } from "../events/job-state.js";
import type { KilnPubSub } from "../events/pubsub.js";
import type { HostRegistry } from "../services/host-registry.js";
import { getSettings } from "../services/settings.js";
import { readEtaPlan, readScanSamples } from "./eta-plan.js";
import { JobControl } from "./job-control.js";
import { fencedWrite, type Lease, LeaseLost } from "./lease.js";
import type { StageName } from "./profiles.js";
import { StageProgress } from "./progress.js";
import { DetachRequested, type JobOptions, type StageContext, type StageOutcome } from "./stage-context.js";
import { finalCheckStage } from "./stages/final-check.js";
import { precheckStage } from "./stages/precheck.js";
import { sanitizeStage } from "./stages/sanitize.js";
import { selfTestStage } from "./stages/self-test.js";
import { simulateStage } from "./stages/simulate.js";
import { surfaceValidateStage } from "./stages/surface-validate.js";

const STAGES: Record<StageName, (ctx: StageContext) => Promise<StageOutcome>> = {
  precheck: precheckStage,
  smart_short: (ctx) => selfTestStage(ctx, "short"),
  smart_long: (ctx) => selfTestStage(ctx, "extended"),
  nvme_selftest: (ctx) => selfTestStage(ctx, "extended"),
  surface_validate: surfaceValidateStage,
  final_check: finalCheckStage,
  simulate: simulateStage,
  sanitize: sanitizeStage,
};

export interface ExecuteDeps {
  db: Db;
  registry: HostRegistry;
  pubsub: KilnPubSub;
  instanceId: string;
  now: () => number;
  log: (line: string) => void;
  /** Database outages are waited out: the job's writes and its stages carry on once it is back. */
  health: DependencyHealth;
}

/**
 * "detached": Kiln is stopping and left the job running for the next start. "lost": another
 * instance took the job over (this one was paused or cut off past its lease); it goes on there.
 */
export type JobEnd = "passed" | "failed" | "cancelled" | "unknown" | "detached" | "lost";

export interface Following {
  signal: AbortSignal;
  control?: JobControl;
  /** The lease this run holds: every write proves it (lease.ts). */
  lease: Lease;
  /** Called when a write finds the lease taken over: the runner stops the run (reason "lease-lost"). */
  onLeaseLost: () => void;
}

export async function executeJob(deps: ExecuteDeps, jobId: string, following: Following): Promise<JobEnd> {
  try {
    return await runStages(deps, jobId, following);
  } catch (error) {
    if (!(error instanceof LeaseLost)) throw error;
    following.onLeaseLost();
    return "lost";
  }
}

async function runStages(deps: ExecuteDeps, jobId: string, following: Following): Promise<JobEnd> {
  const { db, health } = deps;
  const { signal, lease } = following;
  const control = following.control ?? new JobControl();
  // Kiln stopping while the database is away gives up waiting: the job stays as stored.
  const stopping = () => signal.aborted && signal.reason === "shutdown";
  const waitOut = <T>(work: () => Promise<T>) => throughOutages(health, work, stopping);
  const write: StageContext["write"] = (writes, job) => waitOut(() => fencedWrite(db, lease, writes, job));
  const job = await waitOut(() =>
    db.burnInJob.findUniqueOrThrow({
      where: { id: jobId },
      include: { drive: { include: { host: true } }, stages: { orderBy: { position: "asc" } } },
    }),
  );
  const { drive, stages } = job;
  const { host } = drive;
  const settings = await waitOut(() => getSettings(db));
  const options = JSON.parse(job.options) as JobOptions;
  const transport = deps.registry.transportFor(host);
  const views = stages.map((s) => ({ ...s }));

  for (const stage of stages) {
    if (stage.status === "passed" || stage.status === "skipped") continue;
    // Told to stop between stages: do not begin the next one.
    if (signal.aborted) {
      if (signal.reason === "lease-lost") return "lost";
      if (signal.reason === "shutdown") return "detached";
      await endJob(deps, lease, waitOut, "cancelled", "cancelled by the operator", job.progressPct);
      return "cancelled";
    }
    const view = views.find((v) => v.id === stage.id) as Stage;
    // Read again for each stage: the precheck's SMART baseline brings the drive's self-test minutes.
    const eta = await waitOut(() => readEtaPlan(db, job.profile, drive, options.sanitize));
    // A scan entered again (after a restart) keeps its time left from the zones measured before.
    const samples =
      stage.name === "surface_validate" && stage.status === "running" ? await waitOut(() => readScanSamples(db, stage.id)) : [];
    const progress = new StageProgress(db, deps.pubsub, job, views, view, {
      lease,
      ...(eta ? { eta } : {}),
      samples,
      onLeaseLost: following.onLeaseLost,
      now: deps.now,
      writeIntervalMs: settings.progressWriteSeconds * 1000,
      health,
      stopWaiting: stopping,
    });
    if (stage.status === "pending") {
      const startedAt = new Date(deps.now());
      progress.update({ status: "running", startedAt, errorText: null }, { immediate: true });
      stage.startedAt = startedAt;
      stage.status = "running";
    }
    let outcome: StageOutcome | null = null;
    for (let attempt = 0; outcome === null; attempt++) {
      try {
        outcome = await STAGES[stage.name as StageName]({
          db,
          job,
          stage,
          stages,
          drive,
          host,
          transport,
          settings,
          options,
          signal,
          control,
          progress,
          write,
          now: deps.now,
        });
      } catch (error) {
        if (error instanceof LeaseLost) throw error;
        if (error instanceof DetachRequested) {
          await progress.flush();
          return "detached";
        }
        if (isDatabaseUnreachable(error) && !stopping()) {
          // A read of the stage's own (peers' speeds, a grant) found the database away: the drive
          // told nothing. The stage runs again once it answers; each stage can be entered again
          // (a scan re-attaches to its process, a self-test follows the one running).
          health.lost("database", firstLine(error));
          progress.log(`the database is away (${firstLine(error)}): ${stage.name} goes on once it is back`);
          await sleep(outageBackoffMs(attempt), undefined, { signal }).catch(() => {});
          continue;
        }
        // Kiln did not see the drive fail: it lost sight of the work. That is unknown, not failed.
        deps.log(`kiln: job ${job.id} stage ${stage.name}: ${(error as Error).stack ?? error}`);
        outcome = { status: "unknown", error: `${stage.name}: ${(error as Error).message}` };
      }
    }
    if (outcome.status === "detached") {
      await progress.flush();
      return signal.reason === "lease-lost" || progress.lost ? "lost" : "detached";
    }
    if (progress.lost) return "lost";
    const finishedAt = new Date(deps.now());
    if (outcome.status === "passed") {
      progress.update({ status: "passed", progressPct: 100, finishedAt, errorText: null }, { immediate: true });
      await progress.flush();
      if (progress.lost) return "lost";
      continue;
    }
    progress.update({ status: outcome.status, finishedAt, errorText: outcome.error }, { immediate: true });
    await progress.flush();
    if (progress.lost) return "lost";
    const { status, error } = outcome;
    await endJob(deps, lease, waitOut, status, error, progress.jobProgressPct);
    return outcome.status;
  }
  await endJob(deps, lease, waitOut, "passed", null, 100);
  return "passed";
}

/**
 * The job's end, written by the holder of its lease only (else LeaseLost, nothing written), then
 * published. Each step waits out a database outage on its own: the end is written once.
 */
async function endJob(
  deps: Pick<ExecuteDeps, "db" | "pubsub" | "now">,
  lease: Lease,
  waitOut: <T>(work: () => Promise<T>) => Promise<T>,
  status: "passed" | "failed" | "cancelled" | "unknown",
  error: string | null,
  progressPct: number,
): Promise<void> {
  const { db } = deps;
  const finishedAt = new Date(deps.now());
  await waitOut(() =>
    fencedWrite(db, lease, [db.stage.updateMany({ where: { jobId: lease.jobId, status: "pending" }, data: { status: "skipped" } })], {
      status,
      errorText: error,
      finishedAt,
      lockedBy: null,
      lockedAt: null,
      progressPct: status === "passed" ? 100 : progressPct,
    }),
  );
  await waitOut(() => publishJobState(db, deps.pubsub, lease.jobId));
}
