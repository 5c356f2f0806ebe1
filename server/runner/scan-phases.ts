// The phases of a surface scan as Kiln stores them: badblocks' 4 patterns, each written (odd
// phase) then verified (even phase), or fio's one position-checked pass (phase 1 the write, 2 the
// verify), and the time each phase started (Stage.bbPhaseHistory, JSON of { "<phase>": ISO time }).
// The schema and the burn-in report read them from here.
import { STANDARD_PATTERNS } from "../parsers/badblocks.js";
import { scanEngineOf } from "./profiles.js";

export interface PhaseStart {
  phase: number;
  pattern: string;
  mode: "write" | "verify";
  startedAt: Date;
}

export type ScanEngineName = "badblocks" | "fio";

/** The pattern a fio scan records (Stage.bbPatterns): fio's data, each 4 KiB naming its offset. */
export const FIO_PATTERN = "position-checked";

/** Which program ran a stage's scan, from the patterns it recorded. */
export function engineOfPatterns(bbPatterns: string | null): ScanEngineName {
  return bbPatterns === JSON.stringify([FIO_PATTERN]) ? "fio" : "badblocks";
}

/**
 * The scan engine of a surface scan's stage, or null for a stage that scans nothing (a self-test):
 * what its scan recorded, or before it started, what the job's profile runs.
 */
export function stageScanEngine(stage: { name: string; bbPatterns: string | null }, profile: string): ScanEngineName | null {
  if (stage.name !== "surface_validate") return null;
  return stage.bbPatterns ? engineOfPatterns(stage.bbPatterns) : scanEngineOf(profile);
}

/** How many phases a scan of `engine` has: badblocks' 4 patterns written and read back, fio's one pass. */
export const phaseCountOf = (engine: ScanEngineName): number => (engine === "fio" ? 2 : 8);

export function patternOf(phase: number, engine: ScanEngineName = "badblocks"): string {
  if (engine === "fio") return FIO_PATTERN;
  return STANDARD_PATTERNS[Math.min(Math.max(Math.ceil(phase / 2), 1), 4) - 1] ?? "0xaa";
}

export const modeOf = (phase: number): "write" | "verify" => (phase % 2 === 1 ? "write" : "verify");

/** The stored phase start times, in phase order; an unreadable record reads as none. */
export function phaseHistory(json: string | null, engine: ScanEngineName = "badblocks"): PhaseStart[] {
  if (!json) return [];
  try {
    const starts = JSON.parse(json) as Record<string, string>;
    return Object.entries(starts)
      .map(([phase, at]) => ({
        phase: Number(phase),
        pattern: patternOf(Number(phase), engine),
        mode: modeOf(Number(phase)),
        startedAt: new Date(at),
      }))
      .filter((p) => Number.isInteger(p.phase) && !Number.isNaN(p.startedAt.getTime()))
      .sort((a, b) => a.phase - b.phase);
  } catch {
    return [];
  }
}
