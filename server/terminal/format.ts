// How the terminal client writes durations, a job's progress line and tables (sizes and
// latencies: ../units.ts).
import { formatMs } from "../units.js";
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
  /** badblocks | fio for a surface scan, else null. */
  scanEngine: string | null;
  phase: number | null;
  phases: number | null;
  pattern: number | null;
  mode: string | null;
  phasePct: number | null;
  mbps: number | null;
  /** fio scans: the last status interval's completion latencies. */
  latency: { p50Ms: number; p99Ms: number; maxMs: number } | null;
  temperatureC: number | null;
  badBlocks: number | null;
  elapsedSeconds: number | null;
  etaSeconds: number | null;
}

export const PROGRESS_FIELDS =
  "jobId status progressPct stageName scanEngine phase phases pattern mode phasePct mbps latency { p50Ms p99Ms maxMs } temperatureC badBlocks elapsedSeconds etaSeconds";

/**
 * A scan's phase and the percent within it: "3/8 write #2 41.0%" for badblocks' patterns,
 * "1/2 write 41.0%" for fio's one pass (`digits`: decimals of the percent, cut, not rounded up).
 */
function phaseText(p: Progress, digits: 0 | 1): string {
  const pct = p.phasePct ?? 0;
  const shown = digits === 0 ? String(Math.floor(pct)) : pct.toFixed(1);
  const pattern = p.scanEngine === "fio" ? "" : ` #${p.pattern ?? "?"}`;
  return `${p.phase}/${p.phases ?? 8} ${p.mode ?? ""}${pattern} ${shown}%`;
}

/** What the current stage is doing: "surface_validate 3/8 write #2 41.0%", "surface_validate 1/2 write 41.0%" or "smart_short". */
export function stageText(p: Progress): string {
  if (!p.stageName) return p.status;
  return p.phase ? `${printable(p.stageName, 40)} ${phaseText(p, 1)}` : printable(p.stageName, 40);
}

/** "scan 3/8 write #2 41%": the stage in few characters, for a narrow terminal. */
export function shortStageText(p: Progress): string {
  if (!p.stageName) return p.status;
  const name = p.stageName === "surface_validate" ? "scan" : printable(p.stageName, 20);
  return p.phase ? `${name} ${phaseText(p, 0)}` : name;
}

/** A fio interval's latencies for a log line: "latency p50 1.2 ms p99 8.1 ms max 12 ms" ("latency --" before the first). */
export function latencyText(p: Progress): string | null {
  if (p.scanEngine !== "fio" || !p.phase) return null;
  const l = p.latency;
  return l ? `latency p50 ${formatMs(l.p50Ms)} p99 ${formatMs(l.p99Ms)} max ${formatMs(l.maxMs)}` : "latency --";
}

/** How `kiln watch` lays a job's bar out in a terminal `columns` wide: every line fits. */
export interface BarLayout {
  format: string;
  barsize: number;
  labelWidth: number;
  stageWidth: number;
  /** Short texts (shortStageText, whole MB/s) for a narrow terminal. */
  short: boolean;
  /** Room at the end for a fio interval's 99th percentile ("  p99 8.1 ms"). */
  latency: boolean;
}

// `{eta}` is cli-progress's own (seconds at its own rate): Kiln's is `{timeLeft}`.
const WIDE_FORMAT = " {label} |{bar}| {percentage}% {stage}  {mbps}  {temp}  bad {bad}  ETA {timeLeft}{lat}";
// What the wide line holds besides its label, stage and bar at its longest: " ", " |", "| ",
// "100%", " ", "  ", "9999.9 MB/s", "  ", "100°C", "  bad ", "9999", "  ETA ", "100d00h".
const WIDE_FIXED = 55;
// "  p99 " and formatMs's longest below 1000 s ("999 ms", "12.3 s"): last on the line, so that
// the bars of badblocks scans (none) and fio scans line up.
const LATENCY_WIDTH = 12;
const NARROW_FORMAT = "{label} {percentage}% |{bar}| {stage} {mbps} {temp} {bad}ETA {timeLeft}";
// The narrow line at its longest: " ", "100%", " |", "| ", " ", "9999 MB/s", " ", "100°C", " ",
// "bad 9999 ", "ETA ", "100d00h".
const NARROW_FIXED = 46;
const NARROW_STAGE = 19;

export function barLayout(columns: number): BarLayout {
  const wide = { labelWidth: 28, stageWidth: 38, format: WIDE_FORMAT, short: false };
  const wideRest = columns - wide.labelWidth - wide.stageWidth - WIDE_FIXED;
  if (wideRest - LATENCY_WIDTH >= 20) return { ...wide, barsize: Math.min(40, wideRest - LATENCY_WIDTH), latency: true };
  if (wideRest >= 20) return { ...wide, barsize: Math.min(40, wideRest), latency: false };
  // The label gives way first (cut from the left: the serial's end stays), then the bar.
  const labelWidth = Math.max(8, Math.min(20, columns - NARROW_FIXED - NARROW_STAGE - 3));
  return {
    format: NARROW_FORMAT,
    barsize: Math.max(3, Math.min(40, columns - labelWidth - NARROW_STAGE - NARROW_FIXED)),
    labelWidth,
    stageWidth: NARROW_STAGE,
    short: true,
    latency: false,
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
      mbps: p.mbps == null ? "-- MB/s" : `${p.mbps < 9999.95 ? p.mbps.toFixed(1) : upTo4(p.mbps)} MB/s`,
      temp: p.temperatureC == null ? "--°C" : `${p.temperatureC}°C`.slice(0, 5),
      bad: upTo4(p.badBlocks ?? 0),
      timeLeft: formatDuration(p.etaSeconds),
      lat: layout.latency && p.latency && p.scanEngine === "fio" ? `  p99 ${formatMs(p.latency.p99Ms)}`.slice(0, LATENCY_WIDTH) : "",
    };
  }
  return {
    label: fit(shownLabel, layout.labelWidth),
    stage: fit(`${status}${shortStageText(p)}`, layout.stageWidth),
    mbps: `${(p.mbps == null ? "--" : upTo4(p.mbps)).padStart(4)} MB/s`,
    temp: p.temperatureC == null ? "--°C" : `${p.temperatureC}°C`.slice(0, 5),
    // Shown once there is one: most scans never have any.
    bad: p.badBlocks ? `bad ${upTo4(p.badBlocks)} ` : "",
    timeLeft: formatDuration(p.etaSeconds),
  };
}

/** A count or rate in at most 4 characters: 9999, then 10k to 999k, then 1M+. */
function upTo4(n: number): string {
  const whole = Math.round(n);
  if (whole < 10_000) return String(whole);
  return whole < 999_500 ? `${Math.round(whole / 1000)}k` : "1M+";
}

/** One line per event for logs and pipes. */
export function progressLine(label: string, p: Progress): string {
  return [
    printable(label, 60),
    p.status,
    `${p.progressPct.toFixed(1)}%`,
    stageText(p),
    p.mbps == null ? "-- MB/s" : `${p.mbps.toFixed(1)} MB/s`,
    ...[latencyText(p)].filter((t) => t !== null),
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
