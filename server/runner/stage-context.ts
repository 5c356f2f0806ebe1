// What a stage gets, and what it returns. A stage must stop when `signal` aborts: with reason
// "cancel" it ends its work on the host (and says so), with "shutdown" it leaves it running
// (detached) for the next Kiln to re-attach.
import { setTimeout as sleep } from "node:timers/promises";
import type { Db } from "../db/client.js";
import type { BurnInJob, Drive, Host, Stage } from "../db/generated/sqlite/client.js";
import type { SanitizeMethod } from "../parsers/sanitize.js";
import type { Settings } from "../services/settings.js";
import { type Transport, TransportError } from "../transport/types.js";
import type { JobControl } from "./job-control.js";
import type { JobData, PendingWrite } from "./lease.js";
import type { StageProgress } from "./progress.js";

export interface JobOptions {
  blockSize?: number;
  blocksAtOnce?: number;
  passes?: number;
  maxBadBlocks?: number;
  readDelayFactor?: number;
  simulateSeconds?: number;
  simulateHz?: number;
  /** The sanitize end stage's method (the job's stages then end with `sanitize`). */
  sanitize?: SanitizeMethod;
}

export type StopReason = "cancel" | "shutdown";

export interface StageContext {
  db: Db;
  job: BurnInJob;
  stage: Stage;
  /** All stages of the job, in order. */
  stages: Stage[];
  drive: Drive;
  host: Host;
  transport: Transport;
  settings: Settings;
  options: JobOptions;
  signal: AbortSignal;
  /** Pause and continue requests (the surface scan takes them). */
  control: JobControl;
  progress: StageProgress;
  /**
   * Writes of this job (built with `db`, not awaited): one transaction that proves the lease
   * first (lease.ts) and writes `job` fields with the proof; resolves with the writes' results.
   * Throws LeaseLost, with nothing written, once another instance took the job over.
   */
  write(writes: PendingWrite[], job?: JobData): Promise<unknown[]>;
  now: () => number;
}

export type StageOutcome =
  | { status: "passed"; note?: string }
  | { status: "failed" | "unknown" | "cancelled"; error: string }
  /** Kiln is stopping; the work goes on on the host and the next start re-attaches. */
  | { status: "detached" };

export function stopReason(signal: AbortSignal): StopReason | null {
  if (!signal.aborted) return null;
  // A job's signal aborts with "cancel" (the operator), "shutdown" (Kiln is stopping) or
  // "lease-lost" (another instance took the job over). The last two leave the work on the host
  // going on: for the next start, or for the new holder.
  return signal.reason === "shutdown" || signal.reason === "lease-lost" ? "shutdown" : "cancel";
}

/** Kiln is stopping while a stage waited for its host: leave the job for the next start. */
export class DetachRequested extends Error {
  override name = "DetachRequested";
}

/** Thrown when the host stayed unreachable longer than the grace period. */
export class HostLostError extends Error {
  override name = "HostLostError";
}

/** Waited out: connection trouble, and a slow host whose command ran past its timeout. */
const CONNECTIVITY = new Set(["refused", "timeout", "unreachable", "command_timeout"]);

/**
 * Run something on the host, waiting out connection trouble: the job stays running but
 * unconfirmed (the stage says since when) and turns unknown after the grace period.
 */
export async function onHost<T>(ctx: StageContext, what: string, fn: () => Promise<T>): Promise<T> {
  let since: number | null = null;
  let delay = 1000;
  for (;;) {
    try {
      const value = await fn();
      if (since !== null) {
        ctx.progress.update({ errorText: null }, { immediate: true });
        ctx.progress.log(`host ${ctx.host.name} reachable again`);
      }
      return value;
    } catch (error) {
      if (!(error instanceof TransportError) || !CONNECTIVITY.has(error.reason)) throw error;
      since ??= ctx.now();
      const graceMs = ctx.settings.unreachableGraceMinutes * 60_000;
      if (ctx.now() - since >= graceMs) {
        throw new HostLostError(
          `host ${ctx.host.name} unreachable for ${formatDuration(ctx.now() - since)} while ${what}: ${error.message}`,
        );
      }
      ctx.progress.update(
        {
          errorText: `waiting for host ${ctx.host.name} since ${new Date(since).toISOString()} (${error.reason}); unknown after ${ctx.settings.unreachableGraceMinutes} min`,
        },
        { immediate: true },
      );
      if (stopReason(ctx.signal) === "shutdown") throw new DetachRequested("Kiln is stopping");
      if (ctx.signal.aborted) {
        throw new HostLostError(
          `cancelled while host ${ctx.host.name} was unreachable: whatever runs there could not be stopped (${error.message})`,
        );
      }
      await sleep(delay, undefined, { signal: ctx.signal }).catch(() => {});
      delay = Math.min(delay * 2, 30_000);
    }
  }
}

/** Sleep that ends early when the stage is told to stop. */
export function pause(ctx: StageContext, ms: number): Promise<void> {
  return sleep(ms, undefined, { signal: ctx.signal }).catch(() => {});
}

/** The device path to use: the stable by-id path when known. */
export function devicePathOf(drive: Drive): string {
  const path = drive.byIdPath ?? drive.devicePath;
  if (!path) throw new Error(`drive ${drive.serial} has no device path: refresh its host's inventory`);
  return path;
}

/** "3 s", "45 min", "3 h 5 min": durations in messages. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
