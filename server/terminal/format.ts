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

/** "scan 3/8 write #2 41%": the stage in few characters, for a narrow terminal. */
export function shortStageText(p: Progress): string {
  if (!p.stageName) return p.status;
  const name = p.stageName === "surface_validate" ? "scan" : printable(p.stageName, 20);
  return p.phase ? `${name} ${p.phase}/8 ${p.mode ?? ""} #${p.pattern ?? "?"} ${Math.floor(p.phasePct ?? 0)}%` : name;
}

/** How `kiln watch` lays a job's bar out in a terminal `columns` wide: every line fits. */
export interface BarLayout {
  format: string;
  barsize: number;
  labelWidth: number;
  stageWidth: number;
  /** Short texts (shortStageText, whole MB/s) for a narrow terminal. */
  short: boolean;
}

// `{eta}` is cli-progress's own (seconds at its own rate): Kiln's is `{timeLeft}`.
const WIDE_FORMAT = " {label} |{bar}| {percentage}% {stage}  {mbps}  {temp}  bad {bad}  ETA {timeLeft}";
// What the wide line holds besides its label, stage and bar: " |", "| ", "100%", the vitals.
const WIDE_FIXED = 52;
const NARROW_FORMAT = "{label} {percentage}% |{bar}| {stage} {mbps} {temp} {bad}ETA {timeLeft}";
const NARROW_FIXED = 42;

export function barLayout(columns: number): BarLayout {
  const wide = { labelWidth: 28, stageWidth: 38 };
  const wideRest = columns - wide.labelWidth - wide.stageWidth - WIDE_FIXED;
  if (wideRest >= 20) return { format: WIDE_FORMAT, barsize: Math.min(40, wideRest), ...wide, short: false };
  const labelWidth = columns >= 90 ? 20 : 16;
  const stageWidth = 22;
  return {
    format: NARROW_FORMAT,
    barsize: Math.max(3, Math.min(40, columns - labelWidth - stageWidth - NARROW_FIXED)),
    labelWidth,
    stageWidth,
    short: true,
  };
}

/** The values a bar of `layout` shows for `p` (the label cut from the left: the serial matters most). */
export function barPayload(layout: BarLayout, label: string, p: Progress): Record<string, string> {
  const status = p.status === "running" ? "" : `${p.status} `;
  const fit = (text: string, width: number) => text.padEnd(width).slice(0, width);
  const shownLabel = label.length > layout.labelWidth ? `…${label.slice(label.length - layout.labelWidth + 1)}` : label;
  if (!layout.short) {
    return {
      label: fit(shownLabel, layout.labelWidth),
      stage: fit(`${status}${stageText(p)}`, layout.stageWidth),
      mbps: p.mbps == null ? "-- MB/s" : `${p.mbps.toFixed(1)} MB/s`,
      temp: p.temperatureC == null ? "--°C" : `${p.temperatureC}°C`,
      bad: String(p.badBlocks ?? 0),
      timeLeft: formatDuration(p.etaSeconds),
    };
  }
  return {
    label: fit(shownLabel, layout.labelWidth),
    stage: fit(`${status}${shortStageText(p)}`, layout.stageWidth),
    mbps: `${(p.mbps == null ? "--" : String(Math.round(p.mbps))).padStart(4)} MB/s`,
    temp: p.temperatureC == null ? "--°C" : `${p.temperatureC}°C`,
    // Shown once there is one: most scans never have any.
    bad: p.badBlocks ? `bad ${p.badBlocks} ` : "",
    timeLeft: formatDuration(p.etaSeconds),
  };
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
