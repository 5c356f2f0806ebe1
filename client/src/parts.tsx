// Small pieces every screen uses: badges, the progress bar, the temperature, states of a load.
import type { ReactNode } from "react";
import type { CombinedError } from "urql";
import { type TemperatureThresholds, temperatureLevel } from "./burn-in/scan";

const STATUS_CLASS: Record<string, string> = {
  passed: "ok",
  failed: "bad",
  running: "run",
  queued: "idle",
  cancelled: "idle",
  unknown: "warn",
  pending: "idle",
  skipped: "idle",
  paused: "warn",
};

export function StatusBadge({ status, title }: { status: string; title?: string }) {
  return (
    <span className={`badge ${STATUS_CLASS[status] ?? "idle"}`} title={title}>
      {status === "unknown" ? "UNKNOWN" : status}
    </span>
  );
}

export function BadBlocks({ count }: { count: number }) {
  return (
    <span className={`badge ${count > 0 ? "bad" : "ok"}`} title="bad blocks found">
      {count} bad
    </span>
  );
}

export function ProgressBar({ pct, label }: { pct: number; label: string }) {
  const value = Math.min(100, Math.max(0, pct));
  return (
    <div className="bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.floor(value)}>
      <div className="bar-fill" style={{ width: `${value}%` }} />
      <span className="bar-text">
        <span>{value < 10 ? value.toFixed(1) : Math.floor(value)}%</span>
      </span>
    </div>
  );
}

export function Temperature({ celsius, thresholds }: { celsius: number | null | undefined; thresholds: TemperatureThresholds }) {
  const level = temperatureLevel(celsius, thresholds);
  return (
    <span className={`temp ${level}`} title={level === "unknown" ? "not reported" : level}>
      {celsius == null ? "?" : `${celsius} °C`}
    </span>
  );
}

/** Loading, error and empty states, the same on every screen. */
export function LoadState({
  fetching,
  error,
  empty,
  what,
  children,
}: {
  fetching: boolean;
  error: CombinedError | undefined;
  empty: boolean;
  what: string;
  children: ReactNode;
}) {
  if (error && empty)
    return (
      <p role="alert">
        Could not load {what}: {error.message}
      </p>
    );
  if (fetching && empty) return <p className="hint">Loading {what}…</p>;
  return <>{children}</>;
}
