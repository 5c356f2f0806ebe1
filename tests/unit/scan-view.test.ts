// The drawer's reading of a surface scan: meters, caption, pattern durations, ETA rules and
// temperature colours (client/src/burn-in/scan.ts).
import { describe, expect, it } from "vitest";
import {
  fioCaption,
  fioMeter,
  formatDuration,
  patternDurations,
  patternMeters,
  phaseCaption,
  predictedRemainingMs,
  showEta,
  temperatureLevel,
} from "../../client/src/burn-in/scan.js";

const fills = (phase: number | null, pct: number | null, finished = false) =>
  patternMeters(phase, pct, finished).map((m) => `${m.pattern} ${m.write}/${m.verify}${m.current ? ` ${m.running}` : ""}`);

describe("pattern meters", () => {
  it("are empty with 0xaa writing from the first second of the stage, before badblocks prints a phase", () => {
    expect(fills(null, null)).toEqual(["0xaa 0/0 write", "0x55 0/0", "0xff 0/0", "0x00 0/0"]);
    expect(fills(0, 0)).toEqual(fills(null, null));
  });

  it("fill the write half, then the verify half, of each pattern in turn", () => {
    expect(fills(1, 30)).toEqual(["0xaa 30/0 write", "0x55 0/0", "0xff 0/0", "0x00 0/0"]);
    expect(fills(2, 100)).toEqual(["0xaa 100/100 verify", "0x55 0/0", "0xff 0/0", "0x00 0/0"]);
    expect(fills(4, 47)).toEqual(["0xaa 100/100", "0x55 100/47 verify", "0xff 0/0", "0x00 0/0"]);
    expect(fills(7, 0)).toEqual(["0xaa 100/100", "0x55 100/100", "0xff 100/100", "0x00 0/0 write"]);
    expect(fills(8, 99.9)).toEqual(["0xaa 100/100", "0x55 100/100", "0xff 100/100", "0x00 100/99.9 verify"]);
  });

  it("are full when the scan finished, and clamp what is out of range", () => {
    expect(fills(8, 12, true)).toEqual(["0xaa 100/100", "0x55 100/100", "0xff 100/100", "0x00 100/100"]);
    expect(fills(3, 150)).toEqual(["0xaa 100/100", "0x55 100/0 write", "0xff 0/0", "0x00 0/0"]);
    expect(fills(12, -5)).toEqual(["0xaa 100/100", "0x55 100/100", "0xff 100/100", "0x00 100/0 verify"]);
  });
});

describe("phase caption", () => {
  it("names the pattern, the pass and the percent within the phase", () => {
    expect(phaseCaption(4, 47.6)).toBe("Pattern 2 of 4 · Verify 0x55 · 47% within phase");
    expect(phaseCaption(1, 0)).toBe("Pattern 1 of 4 · Write 0xaa · 0% within phase");
    expect(phaseCaption(null, null)).toBe("Pattern 1 of 4 · Write 0xaa · 0% within phase");
    expect(phaseCaption(7, 100)).toBe("Pattern 4 of 4 · Write 0x00 · 100% within phase");
  });
});

describe("pattern durations", () => {
  const at = (hours: number) => new Date(Date.UTC(2026, 10, 1) + hours * 3_600_000).toISOString();
  // 0xaa took 14h 22m, 0x55 14h 30m; 0xff is being written.
  const history = [
    { phase: 1, startedAt: at(0) },
    { phase: 2, startedAt: at(7) },
    { phase: 3, startedAt: at(14 + 22 / 60) },
    { phase: 4, startedAt: at(21) },
    { phase: 5, startedAt: at(28 + 52 / 60) },
  ];

  it("diff consecutive write-phase starts, and end the last pattern at the stage's end", () => {
    expect(patternDurations(history).map((d) => `${d.pattern}: ${formatDuration(d.ms)}`)).toEqual(["0xaa: 14h 22m", "0x55: 14h 30m"]);
    const finished = [...history, { phase: 6, startedAt: at(35) }, { phase: 7, startedAt: at(43) }, { phase: 8, startedAt: at(50) }];
    expect(patternDurations(finished, at(57)).map((d) => formatDuration(d.ms))).toEqual(["14h 22m", "14h 30m", "14h 08m", "14h 00m"]);
  });

  it("leave out patterns a resumed scan never ran", () => {
    expect(
      patternDurations([
        { phase: 5, startedAt: at(0) },
        { phase: 7, startedAt: at(10) },
      ]),
    ).toEqual([{ pattern: "0xff", ms: 36_000_000 }]);
    expect(patternDurations([])).toEqual([]);
  });

  it("predict what is left from the finished patterns' mean, nothing before one has finished", () => {
    const mean = (14 * 60 + 26) * 60_000;
    // 2 h into 0xff: the rest of it and all of 0x00.
    const now = new Date(at(28 + 52 / 60 + 2)).getTime();
    expect(predictedRemainingMs(history, 5, now)).toBeCloseTo(mean - 2 * 3_600_000 + mean, -3);
    expect(predictedRemainingMs(history.slice(0, 2), 2, now)).toBeNull();
  });
});

describe("ETA and temperature rules", () => {
  it("shows an ETA from 0.5% overall while running, never before", () => {
    expect(showEta(0.4, 1e6)).toBe(false);
    expect(showEta(0.5, 1e6)).toBe(true);
    expect(showEta(50, null)).toBe(false);
    expect(showEta(100, 0)).toBe(false);
  });

  it("colours a temperature cool, warm from 42 °C and hot from 48 °C, or by the settings", () => {
    expect([30, 41, 42, 47, 48, 60].map((c) => temperatureLevel(c))).toEqual(["cool", "cool", "warm", "warm", "hot", "hot"]);
    expect(temperatureLevel(null)).toBe("unknown");
    expect(temperatureLevel(45, { warmC: 46, hotC: 50 })).toBe("cool");
  });
});

describe("fio's position-checked pass", () => {
  it("is one meter: the write half fills in phase 1, the verify half in phase 2", () => {
    expect(fioMeter(null, null)).toEqual({ write: 0, verify: 0, current: true, running: "write" });
    expect(fioMeter(1, 40)).toMatchObject({ write: 40, verify: 0, running: "write" });
    expect(fioMeter(2, 25)).toMatchObject({ write: 100, verify: 25, running: "verify" });
    expect(fioMeter(2, 60, true)).toEqual({ write: 100, verify: 100, current: false, running: null });
  });

  it("says what each phase does to every 4 KiB", () => {
    expect(fioCaption(1, 12.7)).toBe("Write · every 4 KiB marked with its offset · 12% within phase");
    expect(fioCaption(2, 99.9)).toBe("Verify · every 4 KiB checked against its offset · 99% within phase");
    expect(fioCaption(2, 100, true)).toBe("Every 4 KiB written and verified at its own offset");
  });
});
