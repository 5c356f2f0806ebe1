// How the UI writes times, rates and states.
import { ENDED_JOB_STATUSES } from "../../server/runner/job-status";

export { formatBytes } from "../../server/units";
export { formatDuration } from "./burn-in/scan";

export function formatMbps(mbps: number | null | undefined): string {
  return mbps == null ? "–" : `${mbps.toFixed(mbps < 10 ? 1 : 0)} MB/s`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

/** What a GraphQL result union said when it was not a success. */
export function failureText(result: { __typename?: string; message?: string } | null | undefined, fallback: string): string | null {
  if (!result) return fallback;
  if (result.__typename?.endsWith("Success")) return null;
  return result.message ?? `${result.__typename ?? "error"}`;
}

/** Queued or running: a job that has not ended (server/runner/job-status.ts says which have). */
export function jobActive(status: string | null | undefined): boolean {
  return status != null && !ENDED_JOB_STATUSES.has(status);
}
