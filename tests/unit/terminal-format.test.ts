// How `kiln watch` writes a job's progress: the scan's phases as its engine counts them, a fio
// interval's latencies, and bars that fit the terminal whatever the vitals hold. The same texts
// in a real pseudo-terminal: tests/api/terminal-client.test.ts.
import { describe, expect, it } from "vitest";
import { FIO_PATTERN, stageScanEngine } from "../../server/runner/scan-phases.js";
import { barLayout, barPayload, type Progress, progressLine, stageText } from "../../server/terminal/format.js";

const base: Progress = {
  jobId: "j1",
  status: "running",
  progressPct: 20.5,
  stageName: "surface_validate",
  scanEngine: "badblocks",
  phase: 3,
  phases: 8,
  pattern: 2,
  mode: "write",
  phasePct: 41.04,
  mbps: 182.3,
  latency: null,
  temperatureC: 38,
  badBlocks: 0,
  elapsedSeconds: 3725,
  etaSeconds: 90_000,
};
const fio: Progress = {
  ...base,
  scanEngine: "fio",
  phase: 2,
  phases: 2,
  pattern: 1,
  mode: "verify",
  latency: { p50Ms: 1.234, p99Ms: 8.1, maxMs: 12.4 },
};

/** A line as cli-progress draws `layout.format` with `payload`, the bar full and at 100%. */
function drawn(layout: ReturnType<typeof barLayout>, payload: Record<string, string>): string {
  return layout.format.replace(/\{(\w+)\}/g, (_, key: string) => {
    if (key === "bar") return "#".repeat(layout.barsize);
    if (key === "percentage") return "100";
    return payload[key] ?? `<${key}?>`;
  });
}

describe("which scan an event says runs (JobProgressEvent.scanEngine)", () => {
  it("is what the scan recorded, before its start the profile's engine, and none outside a scan", () => {
    const fioPatterns = JSON.stringify([FIO_PATTERN]);
    expect(stageScanEngine({ name: "surface_validate", bbPatterns: null }, "standard")).toBe("fio");
    expect(stageScanEngine({ name: "surface_validate", bbPatterns: null }, "full")).toBe("badblocks");
    expect(stageScanEngine({ name: "surface_validate", bbPatterns: fioPatterns }, "standard")).toBe("fio");
    expect(stageScanEngine({ name: "surface_validate", bbPatterns: '["0xaa","0x55","0xff","0x00"]' }, "full")).toBe("badblocks");
    expect(stageScanEngine({ name: "smart_long", bbPatterns: null }, "standard")).toBeNull();
  });
});

describe("kiln watch's texts", () => {
  it("counts a badblocks scan in 8 phases of 4 patterns and a fio scan in 2, without a pattern", () => {
    expect(stageText(base)).toBe("surface_validate 3/8 write #2 41.0%");
    expect(stageText(fio)).toBe("surface_validate 2/2 verify 41.0%");
    expect(stageText({ ...base, stageName: "smart_short", scanEngine: null, phase: null, phases: null })).toBe("smart_short");
  });

  it("gives a fio interval's median, 99th percentile and slowest on its line, and nothing of it for badblocks", () => {
    expect(progressLine("demo/S1", fio)).toBe(
      "demo/S1  running  20.5%  surface_validate 2/2 verify 41.0%  182.3 MB/s  latency p50 1.2 ms p99 8.1 ms max 12 ms  38°C  bad 0  elapsed 1h02m  ETA 1d01h",
    );
    // Before fio's first report: a place for it, empty.
    expect(progressLine("demo/S1", { ...fio, latency: null })).toContain("  182.3 MB/s  latency --  38°C  ");
    expect(progressLine("demo/S1", base)).not.toContain("latency");
    expect(progressLine("demo/S1", { ...fio, stageName: "final_check", scanEngine: null, phase: null })).not.toContain("latency");
  });

  it("draws every bar within the terminal's width, the 99th percentile last where there is room", () => {
    const longest: Progress = {
      ...fio,
      status: "paused",
      phasePct: 99.99,
      mbps: 12345.6,
      temperatureC: 100,
      badBlocks: 4_000_000,
      etaSeconds: 99 * 86_400,
      latency: { p50Ms: 900, p99Ms: 999.4, maxMs: 99_999 },
    };
    const label = "a-very-long-host-name/WD-WCC7K0123456789ABCDEF";
    for (let columns = 80; columns <= 240; columns += 1) {
      const layout = barLayout(columns);
      for (const p of [longest, { ...longest, scanEngine: "badblocks", phases: 8, latency: null }, base, fio]) {
        const line = drawn(layout, barPayload(layout, label, p));
        expect(line.length, `${columns} columns: ${line}`).toBeLessThanOrEqual(columns);
      }
    }
    const wide = barLayout(160);
    expect(wide.latency).toBe(true);
    expect(drawn(wide, barPayload(wide, "demo/S1", fio))).toMatch(/ ETA 1d01h {2}p99 8\.1 ms$/);
    expect(drawn(wide, barPayload(wide, "demo/S1", base))).toMatch(/ ETA 1d01h$/);
    // Narrower: the bar keeps its room and the latency goes (the line view and the web UI have it).
    const narrower = barLayout(150);
    expect(narrower).toMatchObject({ short: false, latency: false });
    expect(drawn(narrower, barPayload(narrower, "demo/S1", fio))).toMatch(/ ETA 1d01h$/);
    expect(drawn(barLayout(80), barPayload(barLayout(80), "demo/S1", fio))).toContain(" scan 2/2 verify 41% ");
    // An 80-column bar keeps a whole demo serial (the label is cut from the left).
    expect(drawn(barLayout(80), barPayload(barLayout(80), "demo/KDEMO-A1004", fio))).toContain("KDEMO-A1004 ");
  });
});
