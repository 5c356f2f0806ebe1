// What the drawer shows of a badblocks write+verify scan, computed from (phase, percent within
// phase) and the phase start times: the four pattern meters, the caption, the durations of
// finished patterns and the time left. Pure: no React, no I/O, so tests/unit covers it.
//
// badblocks -w runs 4 patterns, each written then read back: phase 2p-1 writes pattern p, phase
// 2p verifies it (8 phases).

export const PATTERNS = ["0xaa", "0x55", "0xff", "0x00"] as const;
export const PHASES = PATTERNS.length * 2;

export interface PatternMeter {
  pattern: (typeof PATTERNS)[number];
  /** 0-100: how much of the pattern's write pass is done. */
  write: number;
  /** 0-100: how much of its verify pass is done. */
  verify: number;
  /** The pattern being written or verified now. */
  current: boolean;
  /** Which half is running now, for the current meter. */
  running: "write" | "verify" | null;
}

const clampPct = (pct: number) => Math.min(100, Math.max(0, Number.isFinite(pct) ? pct : 0));

/**
 * The four meters. A stage that has begun but not yet printed a phase (phase null or 0) shows
 * empty meters with 0xaa current and writing, as soon as the stage starts. `finished` fills all.
 */
export function patternMeters(phase: number | null, phasePct: number | null, finished = false): PatternMeter[] {
  if (finished) return PATTERNS.map((pattern) => ({ pattern, write: 100, verify: 100, current: false, running: null }));
  const p = Math.min(Math.max(phase ?? 1, 1), PHASES);
  const pct = clampPct(phasePct ?? 0);
  return PATTERNS.map((pattern, i) => {
    const writePhase = 2 * i + 1;
    const verifyPhase = writePhase + 1;
    const fill = (own: number) => (p > own ? 100 : p === own ? pct : 0);
    const current = p === writePhase || p === verifyPhase;
    return {
      pattern,
      write: fill(writePhase),
      verify: fill(verifyPhase),
      current,
      running: current ? (p === writePhase ? "write" : "verify") : null,
    };
  });
}

/** "Pattern 2 of 4 · Verify 0x55 · 47% within phase". */
export function phaseCaption(phase: number | null, phasePct: number | null): string {
  const p = Math.min(Math.max(phase ?? 1, 1), PHASES);
  const index = Math.ceil(p / 2);
  const mode = p % 2 === 1 ? "Write" : "Verify";
  return `Pattern ${index} of ${PATTERNS.length} · ${mode} ${PATTERNS[index - 1]} · ${Math.floor(clampPct(phasePct ?? 0))}% within phase`;
}

/**
 * fio's position-checked pass (the standard profile): one meter, phase 1 the write and phase 2 the
 * verify of the whole drive.
 */
export function fioMeter(phase: number | null, phasePct: number | null, finished = false): Omit<PatternMeter, "pattern"> {
  if (finished) return { write: 100, verify: 100, current: false, running: null };
  const p = Math.min(Math.max(phase ?? 1, 1), 2);
  const pct = clampPct(phasePct ?? 0);
  return { write: p > 1 ? 100 : pct, verify: p === 2 ? pct : 0, current: true, running: p === 1 ? "write" : "verify" };
}

/** "Verify · every 4 KiB checked against its offset · 47% within phase". */
export function fioCaption(phase: number | null, phasePct: number | null, finished = false): string {
  if (finished) return "Every 4 KiB written and verified at its own offset";
  const p = Math.min(Math.max(phase ?? 1, 1), 2);
  const what = p === 1 ? "Write · every 4 KiB marked with its offset" : "Verify · every 4 KiB checked against its offset";
  return `${what} · ${Math.floor(clampPct(phasePct ?? 0))}% within phase`;
}

export interface PhaseStart {
  phase: number;
  startedAt: string | Date;
}

export interface PatternDuration {
  pattern: (typeof PATTERNS)[number];
  ms: number;
}

/**
 * How long each finished pattern took (write + verify): from its write phase's start to the next
 * pattern's write start, or to the stage's end for the last one. A pattern whose start was not
 * recorded (a resumed scan that began at a later pattern) is left out.
 */
export function patternDurations(history: PhaseStart[], stageFinishedAt?: string | Date | null): PatternDuration[] {
  const startOf = new Map(history.map((h) => [h.phase, new Date(h.startedAt).getTime()]));
  const durations: PatternDuration[] = [];
  PATTERNS.forEach((pattern, i) => {
    const start = startOf.get(2 * i + 1);
    const next = i + 1 < PATTERNS.length ? startOf.get(2 * i + 3) : stageFinishedAt ? new Date(stageFinishedAt).getTime() : undefined;
    if (start !== undefined && next !== undefined && next >= start) durations.push({ pattern, ms: next - start });
  });
  return durations;
}

/**
 * Time left in the scan from the finished patterns' mean duration: the patterns not begun, plus
 * what is left of the current one. Null until one pattern has finished (nothing to go by).
 */
export function predictedRemainingMs(history: PhaseStart[], phase: number | null, now: number): number | null {
  const done = patternDurations(history);
  if (done.length === 0 || phase == null || phase < 1) return null;
  const mean = done.reduce((sum, d) => sum + d.ms, 0) / done.length;
  const current = Math.ceil(Math.min(phase, PHASES) / 2);
  const currentStart = history.find((h) => h.phase === 2 * current - 1);
  const spent = currentStart ? now - new Date(currentStart.startedAt).getTime() : 0;
  const notBegun = PATTERNS.length - current;
  return Math.max(0, mean - spent) + notBegun * mean;
}

/** An ETA is shown from 0.5% overall: before that the extrapolation says "47 days". */
export const ETA_MIN_PCT = 0.5;

export function showEta(overallPct: number | null | undefined, etaSeconds: number | null | undefined): boolean {
  return overallPct != null && overallPct >= ETA_MIN_PCT && overallPct < 100 && etaSeconds != null && Number.isFinite(etaSeconds);
}

export type TemperatureLevel = "cool" | "warm" | "hot" | "unknown";

export interface TemperatureThresholds {
  warmC: number;
  hotC: number;
}

export const DEFAULT_THRESHOLDS: TemperatureThresholds = { warmC: 42, hotC: 48 };

export function temperatureLevel(celsius: number | null | undefined, t: TemperatureThresholds = DEFAULT_THRESHOLDS): TemperatureLevel {
  if (celsius == null || !Number.isFinite(celsius)) return "unknown";
  if (celsius >= t.hotC) return "hot";
  if (celsius >= t.warmC) return "warm";
  return "cool";
}

/** "14h 22m", "3m 05s", "42s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}
