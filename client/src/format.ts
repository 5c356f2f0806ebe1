// How the UI writes times, rates and states.
import type { CombinedError } from "urql";
import { ENDED_JOB_STATUSES } from "../../server/runner/job-status";
import { formatMs } from "../../server/units";

export { formatBytes, formatMs } from "../../server/units";
export { formatDuration } from "./burn-in/scan";

export function formatMbps(mbps: number | null | undefined): string {
  return mbps == null ? "–" : `${mbps.toFixed(mbps < 10 ? 1 : 0)} MB/s`;
}

/** An interval's completion latencies: median and 99th percentile. */
export function formatLatency(latency: { p50Ms: number; p99Ms: number } | null | undefined): string {
  return latency ? `p50 ${formatMs(latency.p50Ms)} · p99 ${formatMs(latency.p99Ms)}` : "–";
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

/**
 * What went wrong with a mutation, or null when it succeeded: the request's own error, or the
 * message of the error member of its result union (a ValidationError's message names its field).
 */
export function failureText(
  error: CombinedError | undefined,
  answer: { __typename?: string; message?: string } | null | undefined,
): string | null {
  if (error) return error.message;
  if (!answer) return "no answer";
  if (answer.__typename?.endsWith("Success")) return null;
  return answer.message ?? answer.__typename ?? "error";
}

/** Queued or running: a job that has not ended (server/runner/job-status.ts says which have). */
export function jobActive(status: string | null | undefined): boolean {
  return status != null && !ENDED_JOB_STATUSES.has(status);
}
