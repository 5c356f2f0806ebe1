import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BadblocksParser, type BadblocksState, parseBadblocksOutput } from "../../server/parsers/badblocks.js";
import { FIXTURES } from "../helpers/shared-fixtures.js";

const fixture = (name: string) => readFileSync(path.join(FIXTURES, "badblocks", name), "latin1");
const WRITE_1G = fixture("write-mode-1GiB-file.raw");
const WRITE_2G = fixture("write-mode-2GiB-file-c1.raw");
const BAD = fixture("write-mode-bad-blocks-48M-on-40M-tmpfs.raw");
const INTERRUPTED = fixture("write-mode-interrupted-sigterm.raw");
const READ_ONLY = fixture("read-only-64MiB-file.raw");
const NON_DESTRUCTIVE = fixture("non-destructive-64MiB-file.raw");

/** A small deterministic PRNG so a failing split can be reproduced from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseInChunks(text: string, seed: number, maxChunk: number): { state: BadblocksState; overall: number[] } {
  const random = mulberry32(seed);
  const parser = new BadblocksParser();
  const overall: number[] = [];
  let i = 0;
  while (i < text.length) {
    const size = 1 + Math.floor(random() * maxChunk);
    parser.push(text.slice(i, i + size));
    overall.push(parser.state().overallPct);
    i += size;
  }
  parser.end();
  overall.push(parser.state().overallPct);
  return { state: parser.state(), overall };
}

describe("badblocks parser on recorded runs", () => {
  it("reads a clean 4-pattern write run to the end: 8 phases in order, 0 bad blocks, 100%", () => {
    const s = parseBadblocksOutput(WRITE_1G);
    expect(s.testMode).toBe("write");
    expect([s.firstBlock, s.lastBlock]).toEqual([0, 262143]);
    expect(s.done).toBe(true);
    expect(s.overallPct).toBe(100);
    expect(s.badBlocks).toBe(0);
    expect(s.reportedBadBlocks).toBe(0);
    expect(s.history.map((h) => [h.phase, h.pattern, h.mode])).toEqual([
      [1, "0xaa", "write"],
      [2, "0xaa", "verify"],
      [3, "0x55", "write"],
      [4, "0x55", "verify"],
      [5, "0xff", "write"],
      [6, "0xff", "verify"],
      [7, "0x00", "write"],
      [8, "0x00", "verify"],
    ]);
    expect(s.history.every((h) => h.completed)).toBe(true);
    expect(s.unrecognised).toEqual([]);
  });

  it("lists every bad block of a scan that finds them and agrees with badblocks' own count", () => {
    const s = parseBadblocksOutput(BAD);
    expect(s.done).toBe(true);
    expect(s.reportedBadBlocks).toBe(2064);
    expect(s.badBlocks).toBe(2064);
    expect(s.badBlockList[0]).toBe(10240);
    expect(s.badBlockList).toContain(12287);
    expect(s.badBlockList.at(-1)).toBe(12303);
    expect(s.errors).toEqual({ read: 0, write: 2048, corruption: 16 });
    expect(s.unrecognised).toEqual([]);
  });

  it("stops at the interrupted block of a scan killed with SIGTERM, not done and not 100%", () => {
    const s = parseBadblocksOutput(INTERRUPTED);
    expect(s.interruptedAt).toBe(54818);
    expect(s.done).toBe(false);
    expect(s.phase).toBe(1);
    expect(s.phasePct).toBeCloseTo(83.59);
    expect(s.overallPct).toBeCloseTo(83.59 / 8, 2);
  });

  it("reads read-only and non-destructive runs as one phase each", () => {
    const ro = parseBadblocksOutput(READ_ONLY);
    expect(ro.testMode).toBe("read-only");
    expect(ro.phaseCount).toBe(1);
    expect(ro.done).toBe(true);
    expect([ro.firstBlock, ro.lastBlock]).toEqual([0, 16383]);
    const nd = parseBadblocksOutput(NON_DESTRUCTIVE);
    expect(nd.testMode).toBe("non-destructive");
    expect(nd.phaseCount).toBe(1);
    expect(nd.pattern).toBe("random");
    expect(nd.done).toBe(true);
    expect(nd.unrecognised).toEqual([]);
  });

  it("tracks the long run's percent per phase and overall = ((phase-1)*100 + pct)/8", () => {
    const parser = new BadblocksParser();
    const samples: Array<{ phase: number; phasePct: number; overallPct: number }> = [];
    for (const event of parser.push(WRITE_2G)) {
      if (event.kind === "progress") samples.push(event);
    }
    expect(samples.length).toBeGreaterThan(200);
    for (const s of samples) {
      expect(s.overallPct).toBeCloseTo(Math.min(((s.phase - 1) * 100 + s.phasePct) / 8, 99.99), 1);
    }
    // The per-phase percent resets at every phase, the overall percent does not.
    expect(samples.some((s, i) => i > 0 && s.phasePct < (samples[i - 1]?.phasePct ?? 0))).toBe(true);
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i]?.overallPct).toBeGreaterThanOrEqual(samples[i - 1]?.overallPct ?? 0);
    }
  });
});

describe("badblocks parser on chunks split anywhere", () => {
  for (const [name, text] of [
    ["1 GiB write", WRITE_1G],
    ["2 GiB write", WRITE_2G],
    ["bad blocks", BAD],
    ["interrupted", INTERRUPTED],
  ] as const) {
    it(`gives the same result as the whole for 25 random splits (${name})`, () => {
      const whole = parseBadblocksOutput(text);
      for (let seed = 1; seed <= 25; seed++) {
        const { state, overall } = parseInChunks(text, seed, seed % 2 ? 7 : 300);
        expect(state).toEqual(whole);
        for (let i = 1; i < overall.length; i++) expect(overall[i]).toBeGreaterThanOrEqual(overall[i - 1] ?? 0);
      }
    });
  }

  it("does not read a number split across two chunks as two numbers", () => {
    const parser = new BadblocksParser();
    parser.push("Checking for bad blocks in read-write mode\nFrom block 0 to 99\nTesting with pattern 0xaa:  4");
    expect(parser.state().phasePct).toBe(0);
    parser.push("2.50% done, 0:01 elapsed. (0/0/0 errors)\b\b\b");
    expect(parser.state().phasePct).toBe(42.5);
    parser.push("1024");
    expect(parser.state().badBlocks).toBe(0);
    parser.push("0\n");
    expect(parser.state().badBlockList).toEqual([10240]);
  });
});

describe("badblocks parser phase history", () => {
  it("stamps each phase with the time it was first seen", () => {
    const parser = new BadblocksParser();
    const lines = WRITE_1G.split("\n");
    lines.forEach((line, i) => {
      parser.push(`${line}\n`, 1000 * (i + 1));
    });
    const starts = parser.state().history.map((h) => h.startedAt);
    expect(starts).toHaveLength(8);
    expect(starts.every((t) => typeof t === "number")).toBe(true);
    expect([...starts].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(starts);
  });

  it("keeps the first timestamp when a phase header is seen again (log re-read after a restart)", () => {
    const parser = new BadblocksParser();
    parser.push("Testing with pattern 0xaa:  10.00% done, 0:01 elapsed. (0/0/0 errors)\b\b", 100);
    parser.push("Testing with pattern 0xaa:  20.00% done, 0:02 elapsed. (0/0/0 errors)\b\b", 200);
    const s = parser.state();
    expect(s.history).toHaveLength(1);
    expect(s.history[0]?.startedAt).toBe(100);
    expect(s.phasePct).toBe(20);
  });

  it("numbers a resumed scan's phases by pattern: -t 0xff -t 0x00 starts at phase 5", () => {
    const resumed = WRITE_1G.slice(WRITE_1G.indexOf("Testing with pattern 0xff"));
    const s = parseBadblocksOutput(`Checking for bad blocks in read-write mode\nFrom block 0 to 262143\n${resumed}`, {
      patterns: ["0xff", "0x00"],
    });
    expect(s.history.map((h) => h.phase)).toEqual([5, 6, 7, 8]);
    expect(s.done).toBe(true);
    expect(s.overallPct).toBe(100);
  });

  it("shows phase 1 at 0% as soon as the first header arrives", () => {
    const parser = new BadblocksParser();
    parser.push("Checking for bad blocks in read-write mode\nFrom block 0 to 999\nTesting with pattern 0xaa: ");
    // The header is not terminated yet; it becomes a phase once badblocks prints its status.
    parser.push("  0.00% done, 0:00 elapsed. (0/0/0 errors)\b");
    const s = parser.state();
    expect([s.phase, s.phasePct, s.pattern, s.mode, s.overallPct]).toEqual([1, 0, "0xaa", "write", 0]);
  });
});
