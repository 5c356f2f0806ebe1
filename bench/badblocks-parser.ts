// Throughput of the badblocks parser against a plain line-splitting baseline, in the same run.
// Input: the recorded 2 GiB -c 1 run (270 progress samples) repeated, fed in 4 KiB chunks as a
// log tail would deliver it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { BadblocksParser } from "../server/parsers/badblocks.js";

const RECORDED = readFileSync(
  path.resolve(import.meta.dirname, "..", "tests", "fixtures", "badblocks", "write-mode-2GiB-file-c1.raw"),
  "latin1",
);
const CHUNK = 4096;

function chunks(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK) out.push(text.slice(i, i + CHUNK));
  return out;
}

/** Baseline: split the same chunks on \n and \b runs and count the segments, nothing else. */
function baseline(input: string[]): number {
  let pending = "";
  let segments = 0;
  for (const chunk of input) {
    const parts = (pending + chunk).split(/[\b\n\r]+/);
    pending = parts.pop() ?? "";
    for (const p of parts) if (p.trim()) segments += 1;
  }
  return segments + (pending.trim() ? 1 : 0);
}

function parse(input: string[]): number {
  // A fresh parser per recorded run, as each scan has its own.
  let records = 0;
  let parser = new BadblocksParser();
  for (const chunk of input) {
    records += parser.push(chunk).length;
    if (parser.state().done) {
      records += parser.end().length;
      parser = new BadblocksParser();
    }
  }
  return records + parser.end().length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

export function benchBadblocksParser(repeats = 200, rounds = 7) {
  const input = chunks(RECORDED.repeat(repeats));
  const bytes = RECORDED.length * repeats;
  const timings = { parser: [] as number[], baseline: [] as number[] };
  let records = 0;
  let segments = 0;
  parse(input);
  baseline(input); // warm-up
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    records = parse(input);
    timings.parser.push(performance.now() - t);
    t = performance.now();
    segments = baseline(input);
    timings.baseline.push(performance.now() - t);
  }
  const parserMs = median(timings.parser);
  const baselineMs = median(timings.baseline);
  return {
    inputMiB: bytes / 2 ** 20,
    records,
    segments,
    parserRecordsPerSec: records / (parserMs / 1000),
    baselineSegmentsPerSec: segments / (baselineMs / 1000),
    parserMiBPerSec: bytes / 2 ** 20 / (parserMs / 1000),
    baselineMiBPerSec: bytes / 2 ** 20 / (baselineMs / 1000),
    /** Parser time / baseline time for the same bytes: how much the full parse costs over splitting. */
    timeRatio: parserMs / baselineMs,
  };
}

/**
 * A hostile log: 32 MiB without a line break, in 64 KiB chunks. The parser must stay linear
 * (it cuts a segment past MAX_SEGMENT characters); the baseline touches every character once,
 * looking for a line break, and keeps nothing.
 */
export function benchOverlongLog(mib = 32, rounds = 5) {
  const chunk = "A".repeat(64 * 1024);
  const count = (mib * 2 ** 20) / chunk.length;
  const scan = () => {
    let breaks = 0;
    for (let n = 0; n < count; n++) for (let i = 0; i < chunk.length; i++) if (chunk.charCodeAt(i) === 10) breaks++;
    return breaks;
  };
  const parse = () => {
    const parser = new BadblocksParser();
    for (let n = 0; n < count; n++) parser.push(chunk, 0);
    parser.end(0);
    return parser.state().overlongSegments;
  };
  scan();
  parse(); // warm-up
  const timings = { parser: [] as number[], baseline: [] as number[] };
  let cut = 0;
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    cut = parse();
    timings.parser.push(performance.now() - t);
    t = performance.now();
    scan();
    timings.baseline.push(performance.now() - t);
  }
  const parserMs = median(timings.parser);
  const baselineMs = median(timings.baseline);
  return { mib, parserMs, baselineMs, timeRatio: parserMs / baselineMs, overlongSegments: cut };
}
