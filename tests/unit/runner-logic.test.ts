import { afterEach, describe, expect, it, vi } from "vitest";
import type { SmartReport } from "../../server/parsers/smartctl.js";
import { chooseGeometry, MAX_BADBLOCKS_BLOCKS } from "../../server/runner/geometry.js";
import { jobPercent, PROFILES } from "../../server/runner/profiles.js";
import { MIN_WRITE_INTERVAL_MS, StageProgress } from "../../server/runner/progress.js";
import { formatDuration } from "../../server/runner/stage-context.js";
import { verdictFrom } from "../../server/runner/verdict.js";

// A test that fails half-way must not leave fake timers to the next one.
afterEach(() => {
  vi.useRealTimers();
});

const TB = 1e12;

describe("badblocks geometry", () => {
  it("keeps 4096-byte blocks and 1 MiB requests while the block count fits in 32 bits", () => {
    expect(chooseGeometry(4 * TB, { physicalSectorSize: 4096 })).toEqual({
      blockSize: 4096,
      blocksAtOnce: 256,
      blocks: Math.floor((4 * TB) / 4096),
    });
  });

  it("doubles the block size for a 20 TB drive (badblocks refuses more than 2^32 blocks)", () => {
    const g = chooseGeometry(20 * TB);
    expect(g.blockSize).toBe(8192);
    expect(g.blocks).toBeLessThanOrEqual(MAX_BADBLOCKS_BLOCKS);
    expect(g.blocksAtOnce).toBe(128);
  });

  it("goes to 16384-byte blocks above 35 TB (8192 stops at 2^32 x 8 KiB), and 8192 just below", () => {
    expect(chooseGeometry(35 * TB).blockSize).toBe(8192);
    for (const size of [36 * TB, 40 * TB, 44 * TB]) {
      const g = chooseGeometry(size);
      expect(g.blockSize, `${size / TB} TB`).toBe(16_384);
      expect(g.blocks).toBeLessThanOrEqual(MAX_BADBLOCKS_BLOCKS);
      expect(g.blocksAtOnce).toBe(64);
    }
  });

  it("takes the operator's -b / -c and refuses a -b that cannot cover the drive", () => {
    expect(chooseGeometry(TB, { blockSize: 65536, blocksAtOnce: 4 })).toMatchObject({ blockSize: 65536, blocksAtOnce: 4 });
    expect(() => chooseGeometry(20 * TB, { blockSize: 4096 })).toThrow(/options.blockSize: 4096 gives more than 2\^32 blocks/);
    expect(() => chooseGeometry(TB, { blockSize: 2048, logicalSectorSize: 4096 })).toThrow(
      /not a multiple of the drive's 4096-byte sectors/,
    );
    expect(() => chooseGeometry(0)).toThrow(/size is unknown/);
  });
});

describe("verdict from the SMART difference", () => {
  const report = (counters: SmartReport["counters"], health?: "passed" | "failed"): SmartReport => ({
    counters,
    failingAttributes: [],
    attributes: [],
    selfTests: [],
    selfTestMinutes: {},
    messages: [],
    ...(health ? { health } : {}),
  });

  it("fails new reallocated, pending and offline-uncorrectable sectors", () => {
    const v = verdictFrom(
      report({ reallocatedSectors: 0, pendingSectors: 0, offlineUncorrectable: 1 }),
      report({ reallocatedSectors: 3, pendingSectors: 2, offlineUncorrectable: 1 }),
    );
    expect(v).toEqual({
      result: "failed",
      reasons: ["3 new reallocated sectors (0 -> 3)", "2 new pending sectors (0 -> 2)"],
      warnings: [],
    });
  });

  it("fails NVMe media errors and a critical warning", () => {
    expect(verdictFrom(report({ mediaErrors: 0, criticalWarning: 0 }), report({ mediaErrors: 7, criticalWarning: 4 })).reasons).toEqual([
      "7 new NVMe media errors (0 -> 7)",
      "NVMe critical warning 0x4",
    ]);
  });

  it("passes a rising UDMA CRC count with a cable warning", () => {
    expect(verdictFrom(report({ udmaCrcErrors: 0, reallocatedSectors: 0 }), report({ udmaCrcErrors: 12, reallocatedSectors: 0 }))).toEqual({
      result: "passed",
      reasons: [],
      warnings: ["UDMA CRC errors rose 0 -> 12: check the cable (not a drive fault)"],
    });
  });

  it("does not compare a counter missing on one side, and fails SMART health FAILED", () => {
    expect(verdictFrom(report({}), report({ reallocatedSectors: 100 })).result).toBe("passed");
    expect(verdictFrom(report({ reallocatedSectors: 0 }), report({ reallocatedSectors: 0 }, "failed")).reasons).toEqual([
      "SMART overall health: FAILED",
    ]);
  });
});

describe("job percent", () => {
  it("weights stages by their share of the work", () => {
    const stages = PROFILES.full.map((s) => ({ weight: s.weight, progressPct: 0, status: "pending" }));
    expect(jobPercent(stages)).toBe(0);
    stages[0] = { ...(stages[0] as (typeof stages)[number]), status: "passed" };
    stages[1] = { ...(stages[1] as (typeof stages)[number]), status: "passed" };
    stages[2] = { ...(stages[2] as (typeof stages)[number]), status: "running", progressPct: 50 };
    expect(jobPercent(stages)).toBe(45.5);
  });
});

const lease = { jobId: "j1", holder: "kiln-test", version: 1 };

describe("stage progress writes", () => {
  it("publishes every update but writes at most once a second, phase changes at once", async () => {
    vi.useFakeTimers();
    let clock = 10_000;
    const writes: unknown[] = [];
    const db = {
      $transaction: async (ops: unknown[]) => {
        writes.push(ops);
        return ops;
      },
      stage: { updateMany: (args: unknown) => args },
      burnInJob: { update: (args: unknown) => args },
    };
    const published: unknown[] = [];
    const pubsub = { publish: (...args: unknown[]) => published.push(args) };
    const stage = { id: "s1", name: "surface_validate", weight: 1, status: "running", progressPct: 0, log: "" };
    const progress = new StageProgress(
      db as never,
      pubsub as never,
      { id: "j1", driveId: "d1", profile: "full", status: "running", progressPct: 0, startedAt: null, drive: { hostId: "h1" } },
      [stage],
      stage,
      { lease, now: () => clock },
    );
    progress.update({ progressPct: 1, bbPhase: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toHaveLength(1);
    for (let i = 2; i <= 10; i++) {
      clock += 100;
      progress.update({ progressPct: i, bbPhase: 1 });
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toHaveLength(1);
    expect(published.length).toBe(20); // "jobs" and "job" topics, 10 updates
    clock += 50;
    progress.update({ progressPct: 13, bbPhase: 2 }, { immediate: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toHaveLength(2);
    clock += MIN_WRITE_INTERVAL_MS;
    progress.update({ progressPct: 14 });
    await vi.advanceTimersByTimeAsync(MIN_WRITE_INTERVAL_MS);
    expect(writes).toHaveLength(3);
  });
});

describe("a lost lease", () => {
  it("writes nothing, publishes nothing more and tells the runner once, when the job row no longer names this holder", async () => {
    const written: unknown[] = [];
    const db = {
      // The fence: another instance holds the job now, so the conditional update of the job row
      // matches nothing and the transaction (with the stage's write) is rolled back.
      $transaction: async (ops: unknown[]) => {
        if ((ops[0] as { where: { lockedBy: string } }).where.lockedBy === "kiln-test") {
          throw Object.assign(new Error("No record was found for an update."), { code: "P2025", meta: { modelName: "BurnInJob" } });
        }
        written.push(...ops);
      },
      burnInJob: { update: (args: unknown) => args },
      stage: { updateMany: (args: unknown) => args },
    };
    const published: unknown[] = [];
    let told = 0;
    const stage = { id: "s1", name: "surface_validate", weight: 1, status: "running", progressPct: 0, log: "" };
    const progress = new StageProgress(
      db as never,
      { publish: (...args: unknown[]) => published.push(args) } as never,
      { id: "j1", driveId: "d1", profile: "full", status: "running", progressPct: 0, startedAt: null, drive: { hostId: "h1" } },
      [stage],
      stage,
      { lease, onLeaseLost: () => told++ },
    );
    progress.update({ progressPct: 5, bbPhase: 1 }, { immediate: true });
    await progress.flush();
    expect({ written, told, lost: progress.lost, published: published.length }).toEqual({ written: [], told: 1, lost: true, published: 2 });
    progress.update({ progressPct: 6, bbPhase: 1 }, { immediate: true });
    await progress.flush();
    expect({ told, published: published.length }).toEqual({ told: 1, published: 2 });
  });
});

describe("chart series kept by stage progress", () => {
  it("keeps one sample per 0.25% step of a phase and one temperature a minute, written with the progress", async () => {
    vi.useFakeTimers();
    let clock = 0;
    const samples: Array<{ phase: number; phasePct: number; mbps: number | null; temperatureC: number | null }> = [];
    const temperatures: Array<{ celsius: number; jobId: string }> = [];
    const db = {
      $transaction: async (ops: unknown[]) => ops,
      stage: { updateMany: (args: unknown) => args },
      burnInJob: { update: (args: unknown) => args },
      stageSample: { createMany: (args: { data: typeof samples }) => samples.push(...args.data) },
      driveTemperature: { createMany: (args: { data: typeof temperatures }) => temperatures.push(...args.data) },
    };
    const stage = { id: "s1", name: "surface_validate", weight: 1, status: "running", progressPct: 0, log: "" };
    const job = { id: "j1", driveId: "d1", profile: "full", status: "running", progressPct: 0, startedAt: null, drive: { hostId: "h1" } };
    const progress = new StageProgress(db as never, { publish: () => {} } as never, job, [stage], stage, { lease, now: () => clock });
    progress.temperatureC = 38;
    // A whole phase 1 in steps of 0.1%, then phase 2 from 0, one update a second.
    for (let tenths = 0; tenths <= 1000; tenths++) {
      clock += 1000;
      if (tenths % 100 === 0) progress.temperatureC = 38 + tenths / 100;
      progress.update({ bbPhase: 1, bbPhasePct: tenths / 10, bbMbps: tenths === 0 ? null : 180 });
    }
    clock += 1000;
    progress.update({ bbPhase: 2, bbPhasePct: 0, bbMbps: null }, { immediate: true });
    await progress.flush();
    const phase1 = samples.filter((x) => x.phase === 1);
    expect(phase1).toHaveLength(401); // 0, 0.25, ..., 100
    expect(phase1.slice(0, 3).map((x) => x.phasePct)).toEqual([0, 0.3, 0.5]);
    expect(phase1[0]).toMatchObject({ mbps: null, temperatureC: 38 });
    expect(phase1[1]).toMatchObject({ mbps: 180 });
    expect(samples.at(-1)).toMatchObject({ phase: 2, phasePct: 0 });
    // 1,002 seconds of readings every 100 s: kept when a minute has passed since the last kept.
    expect(temperatures.map((t) => t.celsius)).toEqual([38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48]);
    expect(temperatures.every((t) => t.jobId === "j1")).toBe(true);
  });
});

describe("durations in messages", () => {
  it("says seconds, minutes or hours", () => {
    expect([formatDuration(3_000), formatDuration(45 * 60_000), formatDuration(185 * 60_000)]).toEqual(["3 s", "45 min", "3 h 5 min"]);
  });
});
