// Runs bench/runner-cost.ts once per scan count, each in its own process, and fits the slope.
import { execFileSync } from "node:child_process";
import path from "node:path";
import type { CostSample } from "./runner-cost.js";

const TSX = path.resolve(import.meta.dirname, "..", "node_modules", ".bin", "tsx");

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return num / den;
}

export async function benchRunnerCost(counts = [0, 50, 200, 400], seconds = 20, sshHosts = 0) {
  const samples: CostSample[] = [];
  for (const n of counts) {
    const out = execFileSync(TSX, [path.join(import.meta.dirname, "runner-cost.ts"), String(n), String(seconds), String(sshHosts)], {
      encoding: "utf8",
    });
    samples.push(JSON.parse(out.trim().split("\n").at(-1) as string) as CostSample);
  }
  const asked = samples.filter((s) => [0, 50, 200].includes(s.scans));
  return {
    samples,
    /** Over 0 / 50 / 200 scans only. */
    cpuPctPerScan3: slope(asked.map((s) => [s.scans, s.cpuPctOfCore])),
    rssKiBPerScan3: slope(asked.map((s) => [s.scans, s.rssMiB * 1024])),
    cpuPctPerScan: slope(samples.map((s) => [s.scans, s.cpuPctOfCore])),
    rssKiBPerScan: slope(samples.map((s) => [s.scans, s.rssMiB * 1024])),
    heapKiBPerScan: slope(samples.map((s) => [s.scans, s.heapMiB * 1024])),
  };
}
