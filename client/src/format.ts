// How the UI writes times, rates and states.
export { formatBytes } from "../../server/units";
export { formatDuration } from "./burn-in/scan";

export function formatMbps(mbps: number | null | undefined): string {
  return mbps == null ? "–" : `${mbps.toFixed(mbps < 10 ? 1 : 0)} MB/s`;
}

export function formatPct(pct: number | null | undefined): string {
  return pct == null ? "–" : `${pct < 10 ? pct.toFixed(1) : Math.floor(pct)}%`;
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

export const ACTIVE_STATUSES = new Set(["queued", "running"]);
