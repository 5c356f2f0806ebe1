// A job's state as one event, read from the database: the first event of jobProgress, and what
// is published when a job changes state outside a running stage (queued, claimed, cancelled,
// ended).
import type { Db } from "../db/client.js";
import { stageScanEngine } from "../runner/scan-phases.js";
import { type JobEvent, type KilnPubSub, publishJobEvent, scanLatency } from "./pubsub.js";

export async function readJobEvent(db: Db, jobId: string, now = Date.now()): Promise<JobEvent | null> {
  const job = await db.burnInJob.findUnique({
    where: { id: jobId },
    include: {
      drive: { select: { hostId: true, temperatureC: true } },
      stages: {
        orderBy: { position: "asc" },
        select: {
          id: true,
          name: true,
          status: true,
          progressPct: true,
          bbPhase: true,
          bbPhasePct: true,
          bbMbps: true,
          bbBadBlocks: true,
          bbLatP50Ms: true,
          bbLatP99Ms: true,
          bbLatMaxMs: true,
          bbPatterns: true,
          pausedAt: true,
          pauseReason: true,
        },
      },
    },
  });
  if (!job) return null;
  // The stage that runs now, else the last one that got anywhere.
  const stage =
    job.stages.find((s) => s.status === "running") ??
    [...job.stages].reverse().find((s) => s.status !== "pending" && s.status !== "skipped") ??
    null;
  return {
    jobId: job.id,
    driveId: job.driveId,
    hostId: job.drive.hostId,
    status: job.status,
    lease: job.leaseVersion,
    progressPct: job.progressPct,
    // The stored time left, less what passed since it was written.
    etaSeconds: job.etaSeconds !== null && job.etaAt ? Math.max(0, job.etaSeconds - (now - job.etaAt.getTime()) / 1000) : null,
    startedAt: job.startedAt?.getTime() ?? null,
    at: now,
    stage: stage && {
      id: stage.id,
      name: stage.name,
      status: stage.status,
      progressPct: stage.progressPct,
      engine: stageScanEngine(stage, job.profile),
      phase: stage.bbPhase,
      phasePct: stage.bbPhasePct,
      // A rate read from storage is not a live sample: the next live event brings one.
      mbps: stage.status === "running" ? stage.bbMbps : null,
      badBlocks: stage.bbBadBlocks,
      latency: stage.status === "running" ? scanLatency(stage.bbLatP50Ms, stage.bbLatP99Ms, stage.bbLatMaxMs) : null,
      temperatureC: job.drive.temperatureC,
      paused: stage.pausedAt !== null,
      pauseReason: stage.pauseReason,
    },
  };
}

/** Publish a job's state as stored now (after a state change). */
export async function publishJobState(db: Db, pubsub: KilnPubSub, jobId: string): Promise<void> {
  const event = await readJobEvent(db, jobId);
  if (event) publishJobEvent(pubsub, event);
}
