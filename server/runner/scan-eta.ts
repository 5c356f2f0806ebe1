// Time left in a surface scan from the speeds it measured, not a straight line. A hard drive
// writes its outer tracks (low LBAs) about twice as fast as its inner ones: at 50% of the first
// pass a straight line says "as long again" while the second half takes about 1.4x the first.
// Pure.
//
// The drive is cut into 100 zones (1% each). A scan's samples (one per 0.25% of each phase, with
// the MB/s of that moment) give the seconds per MB of each zone a phase went through. The time
// left is the sum over the zones still to do:
// - the shape along the drive: the newest earlier phase that measured a zone; a zone no phase
//   measured yet the line fitted to the zones that were (or, with under 10 of them, the drive
//   kind's speed curve from estimates.ts, scaled to them);
// - the level of each phase against that shape: the current phase's own measured zones, a later
//   phase the newest one of its mode (write or verify), else 1.

import type { SpeedCurve } from "./estimates.js";
import { modeOf } from "./scan-phases.js";

export const ZONES = 100;

export interface ScanSample {
  phase: number;
  phasePct: number;
  /** MB/s at that moment; null on a phase's first sample. */
  mbps: number | null;
}

export interface ScanEtaInput {
  sizeBytes: number;
  /** How many phases the scan has: 8 for badblocks' 4 patterns, 2 for fio's pass. */
  phases: number;
  phase: number;
  phasePct: number;
  /** The scan's samples so far, oldest first. */
  samples: readonly ScanSample[];
  /** The speed curve of the drive's kind: the shape before anything was measured. */
  curve: SpeedCurve;
}

type Zones = Map<number, number>;

const zoneOf = (pct: number) => Math.min(ZONES - 1, Math.max(0, Math.floor((pct / 100) * ZONES)));

/** Seconds per MB of each zone a phase measured (the mean over its samples there). */
function measuredZones(samples: readonly ScanSample[]): Map<number, Zones> {
  const sums = new Map<number, Map<number, { sum: number; n: number }>>();
  for (const s of samples) {
    if (s.mbps === null || !(s.mbps > 0) || !Number.isFinite(s.mbps)) continue;
    const zones = sums.get(s.phase) ?? new Map<number, { sum: number; n: number }>();
    sums.set(s.phase, zones);
    const zone = zoneOf(s.phasePct);
    const acc = zones.get(zone) ?? { sum: 0, n: 0 };
    acc.sum += 1 / s.mbps;
    acc.n += 1;
    zones.set(zone, acc);
  }
  const out = new Map<number, Zones>();
  for (const [phase, zones] of sums) out.set(phase, new Map([...zones].map(([z, a]) => [z, a.sum / a.n])));
  return out;
}

/** Seconds per MB of a zone along the drive kind's curve (speed falls linearly with the LBA). */
function curvePace(curve: SpeedCurve, zone: number): number {
  const at = (zone + 0.5) / ZONES;
  return 1 / (curve.outerMBps + (curve.innerMBps - curve.outerMBps) * at);
}

/** Below this many measured zones the drive kind's curve gives the shape, not a fitted line. */
export const MIN_ZONES_TO_FIT = 10;

/**
 * The seconds per MB of zones nothing measured yet. With 10 or more measured zones: the straight
 * line (MB/s against the position) fitted to them, so a drive's own slope carries on, never below
 * a quarter of its fitted outer speed; with fewer: the kind's curve, scaled to the measured zones.
 */
function unmeasuredPace(shape: ReadonlyArray<number | undefined>, curve: SpeedCurve): (zone: number) => number {
  const known = shape.flatMap((pace, z) => (pace === undefined ? [] : [{ x: (z + 0.5) / ZONES, speed: 1 / pace, pace, z }]));
  if (known.length >= MIN_ZONES_TO_FIT) {
    const n = known.length;
    const mx = known.reduce((sum, k) => sum + k.x, 0) / n;
    const my = known.reduce((sum, k) => sum + k.speed, 0) / n;
    const sxx = known.reduce((sum, k) => sum + (k.x - mx) ** 2, 0);
    const slope = sxx > 0 ? known.reduce((sum, k) => sum + (k.x - mx) * (k.speed - my), 0) / sxx : 0;
    const outer = my - slope * mx;
    if (outer > 0) return (zone) => 1 / Math.max(outer / 4, outer + slope * ((zone + 0.5) / ZONES));
  }
  const scale = known.reduce((sum, k) => sum + k.pace, 0) / known.reduce((sum, k) => sum + curvePace(curve, k.z), 0);
  return (zone) => curvePace(curve, zone) * scale;
}

/** Seconds left in the scan, or null before any phase measured a speed. */
export function scanSecondsLeft(input: ScanEtaInput): number | null {
  const { phases, phase, curve } = input;
  if (!(input.sizeBytes > 0) || phase < 1 || phase > phases) return null;
  const measured = measuredZones(input.samples);
  const current = measured.get(phase) ?? new Map<number, number>();
  if (![...measured.values()].some((zones) => zones.size > 0)) return null;

  // The shape: per zone, the newest earlier phase that measured it, then the current phase.
  const shape: Array<number | undefined> = new Array(ZONES).fill(undefined);
  const earlier = [...measured.keys()].filter((p) => p < phase).sort((a, b) => b - a);
  for (let z = 0; z < ZONES; z++) {
    for (const p of earlier) {
      const pace = measured.get(p)?.get(z);
      if (pace !== undefined) {
        shape[z] = pace;
        break;
      }
    }
    if (shape[z] === undefined) shape[z] = current.get(z);
  }
  const fill = unmeasuredPace(shape, curve);
  const paces = shape.map((pace, z) => pace ?? fill(z));

  /** A phase's level against the shape, over the zones it measured (1 with none). */
  const levelOf = (zones: Zones | undefined): number => {
    if (!zones || zones.size === 0) return 1;
    let own = 0;
    let base = 0;
    for (const [z, pace] of zones) {
      own += pace;
      base += paces[z] as number;
    }
    return own / base;
  };
  const newestOfMode = (mode: "write" | "verify"): Zones | undefined => {
    for (let p = phase; p >= 1; p--) if (modeOf(p) === mode && (measured.get(p)?.size ?? 0) > 0) return measured.get(p);
    return undefined;
  };

  const zoneMB = input.sizeBytes / 1e6 / ZONES;
  const position = (Math.min(100, Math.max(0, input.phasePct)) / 100) * ZONES;
  let seconds = 0;
  const currentLevel = current.size > 0 ? levelOf(current) : levelOf(newestOfMode(modeOf(phase)));
  for (let z = Math.floor(position); z < ZONES; z++) {
    const share = z === Math.floor(position) ? 1 - (position - z) : 1;
    seconds += share * (paces[z] as number) * zoneMB * currentLevel;
  }
  const whole = paces.reduce((sum, pace) => sum + pace, 0) * zoneMB;
  for (let p = phase + 1; p <= phases; p++) seconds += whole * levelOf(newestOfMode(modeOf(p)));
  return seconds;
}
