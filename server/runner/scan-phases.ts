// The phases of a badblocks -w scan as Kiln stores them: 4 patterns, each written (odd phase) then
// verified (even phase), and the time each phase started (Stage.bbPhaseHistory, JSON of
// { "<phase>": ISO time }). The schema and the burn-in report read them from here.
import { STANDARD_PATTERNS } from "../parsers/badblocks.js";

export interface PhaseStart {
  phase: number;
  pattern: string;
  mode: "write" | "verify";
  startedAt: Date;
}

export function patternOf(phase: number): string {
  return STANDARD_PATTERNS[Math.min(Math.max(Math.ceil(phase / 2), 1), 4) - 1] ?? "0xaa";
}

export const modeOf = (phase: number): "write" | "verify" => (phase % 2 === 1 ? "write" : "verify");

/** The stored phase start times, in phase order; an unreadable record reads as none. */
export function phaseHistory(json: string | null): PhaseStart[] {
  if (!json) return [];
  try {
    const starts = JSON.parse(json) as Record<string, string>;
    return Object.entries(starts)
      .map(([phase, at]) => ({
        phase: Number(phase),
        pattern: patternOf(Number(phase)),
        mode: modeOf(Number(phase)),
        startedAt: new Date(at),
      }))
      .filter((p) => Number.isInteger(p.phase) && !Number.isNaN(p.startedAt.getTime()))
      .sort((a, b) => a.phase - b.phase);
  } catch {
    return [];
  }
}
