// Profile estimates before a start: a 24 TB hard drive, a small SSD, an NVMe drive.
import { describe, expect, it } from "vitest";
import { estimateProfiles, passSeconds, speedCurveOf } from "../../server/runner/estimates.js";

const TB = 1e12;
const HOUR = 3600;
const DAY = 24 * HOUR;
const byProfile = (estimates: ReturnType<typeof estimateProfiles>) =>
  Object.fromEntries(estimates.map((e) => [e.profile, e.seconds])) as Record<string, number>;

describe("profile estimates", () => {
  it("a 24 TB 7200 rpm drive: one pass about 32 h on the falling curve; standard about 4 days, full about 12", () => {
    const curve = speedCurveOf({ sizeBytes: 24 * TB, rotationRate: 7200, busType: "sata" });
    expect(curve).toEqual({ outerMBps: 285, innerMBps: 142.5 });
    // Between a pass at the outer speed and one at the inner speed, nearer the outer.
    const pass = passSeconds(24 * TB, curve);
    expect(pass).toBeGreaterThan((24 * TB) / 285e6);
    expect(pass).toBeLessThan((24 * TB) / 142.5e6);
    expect(pass / HOUR).toBeCloseTo(32.4, 1);
    const drive = { sizeBytes: 24 * TB, rotationRate: 7200, busType: "sata", selfTestMinutes: { short: 2, extended: 1800 } };
    const all = byProfile(estimateProfiles(drive));
    expect(Object.keys(all)).toEqual(["standard", "full", "quick", "ssd"]);
    const { standard = Number.NaN, full = Number.NaN, quick = Number.NaN } = all;
    const s = { standard, full, quick };
    expect(s.standard / DAY).toBeCloseTo((2 * pass + 1800 * 60 + 120 + 120) / DAY, 3);
    expect(s.standard / DAY).toBeGreaterThan(3.5);
    expect(s.standard / DAY).toBeLessThan(4.5);
    // 8 passes: the 10.5 days of issue 22, plus the long self-test.
    expect((8 * pass) / DAY).toBeGreaterThan(10.5);
    expect(s.full / DAY).toBeGreaterThan(11.5);
    expect(s.full / DAY).toBeLessThan(12.5);
    expect(s.quick).toBe(120 + 120);
  });

  it("uses the drive's own self-test minutes, and reads the drive once for a long test it does not state", () => {
    const stated = estimateProfiles({ sizeBytes: TB, rotationRate: 5400, busType: "sata", selfTestMinutes: { short: 1, extended: 100 } });
    const ssd = stated.find((e) => e.profile === "ssd");
    expect(ssd?.parts).toEqual([
      { stage: "precheck", seconds: 60 },
      { stage: "smart_short", seconds: 60 },
      { stage: "smart_long", seconds: 6000 },
      { stage: "final_check", seconds: 60 },
    ]);
    const unstated = estimateProfiles({ sizeBytes: TB, rotationRate: 5400, busType: "sata" });
    const pass = passSeconds(TB, { outerMBps: 200, innerMBps: 100 });
    expect(unstated.find((e) => e.profile === "ssd")?.parts[2]?.seconds).toBe(Math.round(pass));
  });

  it("flash at a flat speed; NVMe drives get the nvme profile; no size, no estimate", () => {
    expect(speedCurveOf({ sizeBytes: TB, rotationRate: 0, busType: "sata" })).toEqual({ outerMBps: 500, innerMBps: 500 });
    const nvme = estimateProfiles({ sizeBytes: 2 * TB, rotationRate: 0, busType: "nvme" });
    expect(nvme.map((e) => e.profile)).toEqual(["standard", "full", "quick", "ssd", "nvme"]);
    expect(nvme.find((e) => e.profile === "standard")?.parts[2]).toEqual({ stage: "surface_validate", seconds: 2000 });
    expect(estimateProfiles({ sizeBytes: null, rotationRate: 7200, busType: "sata" })).toEqual([]);
  });
});
