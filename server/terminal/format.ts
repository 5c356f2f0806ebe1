// How the terminal client writes durations, a job's progress line and tables (sizes: ../units.ts).
import { printable } from "./api.js";

/** 3725 -> "1h02m", 75 -> "1m15s", null -> "--". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "--";
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d${String(h).padStart(2, "0")}h`;
  if (h) return `${h}h${String(m).padStart(2, "0")}m`;
  return `${m}m${String(s % 60).padStart(2, "0")}s`;
}

export interface Progress {
  jobId: string;
  status: string;
  progressPct: number;
  stageName: string | null;
  phase: number | null;
  pattern: number | null;
  mode: string | null;
  phasePct: number | null;
  mbps: number | null;
  temperatureC: number | null;
  badBlocks: number | null;
  elapsedSeconds: number | null;
  etaSeconds: number | null;
}

export const PROGRESS_FIELDS =
  "jobId status progressPct stageName phase pattern mode phasePct mbps temperatureC badBlocks elapsedSeconds etaSeconds";

/** What the current stage is doing: "surface_validate 3/8 write #2 41.0%" or "smart_short". */
export function stageText(p: Progress): string {
  if (!p.stageName) return p.status;
  const scan = p.phase ? ` ${p.phase}/8 ${p.mode ?? ""} #${p.pattern ?? "?"} ${(p.phasePct ?? 0).toFixed(1)}%` : "";
  return `${printable(p.stageName, 40)}${scan}`;
}

/** One line per event for logs and pipes. */
export function progressLine(label: string, p: Progress): string {
  return [
    printable(label, 60),
    p.status,
    `${p.progressPct.toFixed(1)}%`,
    stageText(p),
    p.mbps == null ? "-- MB/s" : `${p.mbps.toFixed(1)} MB/s`,
    p.temperatureC == null ? "--°C" : `${p.temperatureC}°C`,
    `bad ${p.badBlocks ?? 0}`,
    `elapsed ${formatDuration(p.elapsedSeconds)}`,
    `ETA ${formatDuration(p.etaSeconds)}`,
  ].join("  ");
}

/** A plain table: columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
