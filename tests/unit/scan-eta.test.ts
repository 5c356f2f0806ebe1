// The time left in a scan from its measured zones: a simulated hard drive whose speed falls from
// 250 MB/s at its first LBA to 150 at its last (not the 2:1 of Kiln's curve for the kind), read
// 10% faster than it writes. The truth is computed from that drive; the straight line is what the
// ETA was before (time so far x the share left).
import { describe, expect, it } from "vitest";
import { speedCurveOf } from "../../server/runner/estimates.js";
import { type ScanSample, scanSecondsLeft } from "../../server/runner/scan-eta.js";

const SIZE = 20e12;
const curve = speedCurveOf({ sizeBytes: SIZE, rotationRate: 7200, busType: "sata" });
const writeMBps = (at: number) => 250 - 100 * at;
/** The simulated drive reads this much faster than it writes. */
let readFactor = 1.1;
const speed = (phase: number, at: number) => writeMBps(at) * (phase % 2 === 0 ? readFactor : 1);

/** Seconds the simulated drive takes for `phase` from `from` to `to` (fractions of the drive). */
function truth(phase: number, from: number, to: number): number {
  const steps = 10_000;
  let seconds = 0;
  for (let i = 0; i < steps; i++) {
    const at = from + ((to - from) * (i + 0.5)) / steps;
    seconds += ((to - from) * SIZE) / steps / 1e6 / speed(phase, at);
  }
  return seconds;
}

/** The samples Kiln keeps (one per 0.25%) of whole phases before `phase`, then `phase` up to `pct`. */
function samplesUpTo(phase: number, pct: number): ScanSample[] {
  const out: ScanSample[] = [];
  for (let p = 1; p <= phase; p++) {
    const end = p < phase ? 100 : pct;
    for (let step = 0; step * 0.25 <= end; step++) {
      const at = step * 0.25;
      out.push({ phase: p, phasePct: at, mbps: step === 0 ? null : speed(p, at / 100) });
    }
  }
  return out;
}

const relativeError = (estimate: number, real: number) => Math.abs(estimate - real) / real;

describe("scan time left from the measured zones", () => {
  it("half way through fio's write: within 1% of the truth, where the straight line is 15% short or more", () => {
    readFactor = 1;
    const left = scanSecondsLeft({ sizeBytes: SIZE, phases: 2, phase: 1, phasePct: 50, samples: samplesUpTo(1, 50), curve });
    const real = truth(1, 0.5, 1) + truth(2, 0, 1);
    expect(relativeError(left as number, real)).toBeLessThan(0.01);
    const elapsed = truth(1, 0, 0.5);
    const straight = (elapsed * (200 - 50)) / 50;
    expect(relativeError(straight, real)).toBeGreaterThan(0.15);
    readFactor = 1.1;
  });

  it("5% into the write: the kind's curve gives the shape, nearer the truth than the straight line", () => {
    const left = scanSecondsLeft({ sizeBytes: SIZE, phases: 2, phase: 1, phasePct: 5, samples: samplesUpTo(1, 5), curve });
    const real = truth(1, 0.05, 1) + truth(2, 0, 1);
    const elapsed = truth(1, 0, 0.05);
    const straight = (elapsed * (200 - 5)) / 5;
    // Kiln's 2:1 curve is steeper than this drive's 250:150 and the verify is taken as fast as the
    // write: an estimate, but a closer one.
    expect(relativeError(left as number, real)).toBeLessThan(relativeError(straight, real));
    expect(relativeError(left as number, real)).toBeLessThan(0.15);
  });

  it("30% into the verify, which reads 10% faster than it wrote: within 0.5%, from the write's own zones", () => {
    const left = scanSecondsLeft({ sizeBytes: SIZE, phases: 2, phase: 2, phasePct: 30, samples: samplesUpTo(2, 30), curve });
    expect(relativeError(left as number, truth(2, 0.3, 1))).toBeLessThan(0.005);
  });

  it("badblocks' third phase at 10%: the 6 phases to come at the speeds of the first write and the first verify", () => {
    const left = scanSecondsLeft({ sizeBytes: SIZE, phases: 8, phase: 3, phasePct: 10, samples: samplesUpTo(3, 10), curve });
    let real = truth(3, 0.1, 1);
    for (let p = 4; p <= 8; p++) real += truth(p, 0, 1);
    expect(relativeError(left as number, real)).toBeLessThan(0.005);
  });

  it("a resumed verify that measured only from 40%: the zones before take the write's measured speed", () => {
    const write = samplesUpTo(1, 100);
    const verify = samplesUpTo(2, 60).filter((s) => s.phase === 2 && s.phasePct >= 40);
    const left = scanSecondsLeft({ sizeBytes: SIZE, phases: 2, phase: 2, phasePct: 60, samples: [...write, ...verify], curve });
    expect(relativeError(left as number, truth(2, 0.6, 1))).toBeLessThan(0.005);
  });

  it("says nothing before a speed was measured, and ignores speeds a host could not have measured", () => {
    const input = { sizeBytes: SIZE, phases: 2, phase: 1, phasePct: 0.25, curve };
    expect(scanSecondsLeft({ ...input, samples: [{ phase: 1, phasePct: 0, mbps: null }] })).toBeNull();
    const hostile = [0, -5, Number.NaN, Number.POSITIVE_INFINITY].map((mbps) => ({ phase: 1, phasePct: 0.25, mbps }));
    expect(scanSecondsLeft({ ...input, samples: hostile })).toBeNull();
    const good = scanSecondsLeft({ ...input, samples: [...hostile, { phase: 1, phasePct: 0.25, mbps: 250 }] });
    expect(Number.isFinite(good)).toBe(true);
    expect(scanSecondsLeft({ ...input, phase: 3, samples: samplesUpTo(1, 10) })).toBeNull();
    expect(scanSecondsLeft({ ...input, sizeBytes: 0, samples: samplesUpTo(1, 10) })).toBeNull();
  });
});
