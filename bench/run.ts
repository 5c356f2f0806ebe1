// `npm run bench`: Kiln's performance figures, each against a baseline measured in the same run.
//   npm run bench                 everything
//   npm run bench -- parser       one part (startup | parser | runner | history | export | heavy | fanout | claims | ui | scan)
import os from "node:os";
import { benchBadblocksParser, benchOverlongLog } from "./badblocks-parser.js";
import { benchClaims } from "./claims.js";
import { benchExportMemory } from "./export-memory.js";
import { benchFanout } from "./fanout.js";
import { benchHeavy } from "./heavy.js";
import { benchHistory } from "./history.js";
import { benchRunnerCost } from "./runner-cost-all.js";
import { benchScan } from "./scan.js";
import { benchStartup } from "./startup.js";
import { benchUiBundle } from "./ui-bundle.js";
import { benchUiLoad } from "./ui-load.js";
import { benchUiTransfer } from "./ui-transfer.js";

const only = process.argv[2];
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`machine: ${machine}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

if (!only || only === "startup") {
  const figures = await benchStartup(Number(process.env.KILN_BENCH_STARTUP_RUNS ?? 5));
  console.log("start-up: spawn to the first 200, and RSS after 10 s idle (up-to-date database, no hosts; median of the runs):");
  const [http, yoga] = figures;
  for (const f of figures) {
    const ratio = yoga
      ? ` | ${(f.startMs / yoga.startMs).toFixed(2)}x the yoga hello's time, ${(f.rssMiB / yoga.rssMiB).toFixed(2)}x its RSS`
      : "";
    console.log(
      `  ${f.name.padEnd(24)} ${f.startMs.toFixed(0).padStart(5)} ms  ${f.rssMiB.toFixed(1).padStart(6)} MiB${f === yoga || f === http ? "" : ratio}`,
    );
    console.log(`  ${"".padEnd(24)} runs: ${f.runs.map((r) => `${r.startMs.toFixed(0)} ms/${r.rssMiB.toFixed(0)} MiB`).join(", ")}`);
    if (f.memory) {
      const kinds = Object.entries(f.memory)
        .filter(([, mib]) => mib >= 0.5)
        .sort((a, b) => b[1] - a[1]);
      console.log(`  ${"".padEnd(24)} memory: ${kinds.map(([k, v]) => `${k} ${v.toFixed(1)}`).join("; ")}`);
    }
  }
  console.log("  targets (SQLite): start at most 1,000 ms, idle RSS at most 120 MiB\n");
}

if (!only || only === "parser") {
  const bb = benchBadblocksParser();
  console.log("badblocks parser (recorded 2 GiB -c 1 run x200, 4 KiB chunks, median of 7):");
  console.log(`  input                      ${bb.inputMiB.toFixed(1)} MiB, ${fmt(bb.records)} records, ${fmt(bb.segments)} segments`);
  console.log(`  parser                     ${fmt(bb.parserRecordsPerSec)} records/s (${bb.parserMiBPerSec.toFixed(1)} MiB/s)`);
  console.log(`  baseline (split only)      ${fmt(bb.baselineSegmentsPerSec)} segments/s (${bb.baselineMiBPerSec.toFixed(1)} MiB/s)`);
  console.log(`  parser time / baseline     ${bb.timeRatio.toFixed(2)}x\n`);
  const hostile = benchOverlongLog();
  console.log(`badblocks parser on a hostile log (${hostile.mib} MiB without a line break, 64 KiB chunks, median of 5):`);
  console.log(`  parser                     ${hostile.parserMs.toFixed(1)} ms (${hostile.overlongSegments} overlong segment cut)`);
  console.log(`  baseline (scan each char)  ${hostile.baselineMs.toFixed(1)} ms`);
  console.log(`  parser time / baseline     ${hostile.timeRatio.toFixed(2)}x\n`);
}

if (!only || only === "runner") {
  // npm run bench -- runner --ssh: the scans on 10 SSH hosts (the test harness's real sshd) instead.
  const ssh = process.argv.includes("--ssh");
  const cost = ssh ? await benchRunnerCost([0, 50, 200], 20, 10) : await benchRunnerCost();
  console.log(
    `runner cost per running scan (${ssh ? "10 SSH hosts, one real sshd on 127.0.0.1" : "local host"}, SQLite, badblocks output at 1 Hz, 20 s windows):`,
  );
  for (const s of cost.samples) {
    console.log(
      `  ${String(s.scans).padStart(3)} scans                  ${s.cpuPctOfCore.toFixed(2)}% of a core, RSS ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB${ssh ? `, ${s.channelsPerSec.toFixed(1)} SSH channels/s` : ""}`,
    );
  }
  console.log(
    `  slope per scan (all)       ${cost.cpuPctPerScan.toFixed(4)}% of a core, ${cost.rssKiBPerScan.toFixed(0)} KiB RSS, ${cost.heapKiBPerScan.toFixed(0)} KiB heap`,
  );
  console.log(`  slope (0/50/200 only)      ${cost.cpuPctPerScan3.toFixed(4)}% of a core, ${cost.rssKiBPerScan3.toFixed(0)} KiB RSS`);
  console.log(
    ssh
      ? "  target                     at most 0.04% of a core per scan (2x the local target); channels/s that do not grow with the scans per host\n"
      : "  target                     0.02% of a core, 32 KiB heap per scan\n",
  );
}
if (!only || only === "history") {
  const sizes = process.env.KILN_BENCH_HISTORY_SIZES?.split(",").map(Number) ?? [10_000, 1_000_000];
  console.log("job history: a page of 50 jobs with drive and stages, autocannon 10 connections x 10 s (after 2 s warm-up):");
  for (const engine of await benchHistory(sizes)) {
    for (const s of engine.sizes) {
      for (const name of ["page", "failed"] as const) {
        const k = s.kiln[name];
        const b = s.baseline[name];
        console.log(
          `  ${engine.engine.padEnd(10)} ${fmt(s.jobs).padStart(9)} jobs  ${name.padEnd(6)}  Kiln ${k.rps.toFixed(0).padStart(5)} req/s p50 ${k.p50} ms p99 ${k.p99} ms | baseline ${b.rps.toFixed(0).padStart(5)} req/s p99 ${b.p99} ms | throughput ${(k.rps / b.rps).toFixed(2)}x`,
        );
      }
    }
    for (const s of engine.sizes) {
      console.log(
        `  ${engine.engine.padEnd(10)} ${fmt(s.jobs).padStart(9)} jobs  /api/jobs.csv: ${fmt(s.csv.rows)} rows in ${s.csv.seconds.toFixed(1)} s (${fmt(s.csv.rows / s.csv.seconds)} rows/s), Kiln RSS ${s.csv.rssBeforeMiB.toFixed(0)} MiB before, at most ${s.csv.rssPeakMiB.toFixed(0)} MiB during`,
      );
    }
    const [small, large] = [engine.sizes[0], engine.sizes.at(-1)];
    if (small && large && small !== large) {
      for (const name of ["page", "failed"] as const) {
        console.log(
          `  ${engine.engine.padEnd(10)} p99 at ${fmt(large.jobs)} / p99 at ${fmt(small.jobs)} (${name}): ${(large.kiln[name].p99 / small.kiln[name].p99).toFixed(2)}x (target at most 1.2x)`,
        );
      }
    }
  }
  console.log("  targets: Kiln throughput at least 0.7x the baseline; p99 at 1M at most 1.2x p99 at 10k\n");
}
if (!only || only === "export") {
  const exp = await benchExportMemory();
  console.log(`history export (the rows behind /api/jobs.csv), SQLite, ${fmt(exp.rows)} jobs in ${exp.seconds.toFixed(1)} s:`);
  console.log(`  heap after a full GC       ${exp.heapMiB.map(([rows, mib]) => `${fmt(rows)}: ${mib.toFixed(1)} MiB`).join(", ")}\n`);
}

if (!only || only === "fanout") {
  const fan = await benchFanout();
  console.log("subscription fan-out: 100 SSE subscribers to jobUpdates, drives reporting at 1 Hz, 10 s after 3 s warm-up:");
  for (const [i, k] of fan.kiln.entries()) {
    const r = fan.raw[i];
    if (!r) continue;
    console.log(
      `  ${String(k.drives).padStart(3)} drives  Kiln ${fmt(k.deliveriesPerSec)} deliveries/s, lag p50 ${k.p50LagMs} ms p99 ${k.p99LagMs} ms max ${k.maxLagMs} ms, ${k.cpuUsPerDelivery.toFixed(1)} us CPU each (${k.serverCpuPct.toFixed(0)}% of a core)`,
    );
    console.log(
      `              raw  ${fmt(r.deliveriesPerSec)} deliveries/s, lag p50 ${r.p50LagMs} ms p99 ${r.p99LagMs} ms, ${r.cpuUsPerDelivery.toFixed(1)} us CPU each | Kiln / raw CPU per delivery ${(k.cpuUsPerDelivery / r.cpuUsPerDelivery).toFixed(2)}x`,
    );
    const s = fan["kiln-shared"][i];
    if (s) {
      console.log(
        `  PostgreSQL + Redis  ${fmt(s.deliveriesPerSec)} deliveries/s, lag p50 ${s.p50LagMs} ms p99 ${s.p99LagMs} ms max ${s.maxLagMs} ms, ${s.cpuUsPerDelivery.toFixed(1)} us CPU each | / SQLite in-process CPU ${(s.cpuUsPerDelivery / k.cpuUsPerDelivery).toFixed(2)}x, / raw ${(s.cpuUsPerDelivery / r.cpuUsPerDelivery).toFixed(2)}x`,
      );
    }
  }
  console.log("  targets: 20k deliveries/s with p99 lag at most 100 ms; lag that plateaus at 2x load; CPU per delivery at most 2x raw\n");
}
if (!only || only === "claims") {
  const claims = await benchClaims();
  const [one] = claims;
  console.log("claim throughput: 300 simulate jobs of 1 s on 30 hosts, at most 30 running (10 per host), PostgreSQL + Redis:");
  for (const c of claims) {
    const ratio = one && c !== one ? ` | ${(c.jobsPerSec / one.jobsPerSec).toFixed(2)}x one instance` : "";
    console.log(
      `  ${c.instances} instance(s)  ${c.seconds.toFixed(1)} s, ${c.jobsPerSec.toFixed(1)} jobs/s, claims per instance ${c.spread.join(" / ")}${ratio}`,
    );
  }
  console.log("  ceiling: 30 running jobs of about 1 s each, 30 jobs/s\n");
}
if (!only || only === "heavy") {
  const heavy = await benchHeavy();
  console.log("/health while report zips are made (500 full burn-ins with 3,200 samples each, SQLite, 10 /health a second):");
  const idle = heavy[0];
  for (const f of heavy) {
    const ratio = idle && f !== idle ? ` | p50 ${(f.health.p50 / idle.health.p50).toFixed(2)}x idle` : "";
    console.log(
      `  ${f.name.padEnd(20)} /health p50 ${f.health.p50.toFixed(1)} ms, p99 ${f.health.p99.toFixed(1)} ms, max ${f.health.max.toFixed(1)} ms (n ${f.health.n})${f.zipSeconds ? `, zips done in ${f.zipSeconds.toFixed(1)} s` : ""}${ratio}`,
    );
  }
  console.log("  target: /health within 100 ms while zips are made; a 5th zip at once gets 429 (checked)\n");
}
if (!only || only === "ui") {
  const ui = benchUiBundle();
  console.log("web UI initial JavaScript (vite build, gzipped):");
  for (const f of ui.kiln) console.log(`  ${f.file.padEnd(44)} ${f.gzipKiB.toFixed(1)} KiB`);
  console.log(`  dashboard, first visit      ${ui.kilnKiB.toFixed(1)} KiB (all screens together ${ui.kilnAllKiB.toFixed(1)} KiB)`);
  console.log(
    `  baseline (React alone)      ${ui.baselineKiB.toFixed(1)} KiB | Kiln / baseline ${(ui.kilnKiB / ui.baselineKiB).toFixed(2)}x`,
  );
  console.log(`  target                      at most 250 KiB (${((ui.kilnKiB / 250) * 100).toFixed(0)}% of it)\n`);
  const t = await benchUiTransfer();
  console.log(`web UI over HTTP (${t.files.length} files: ${t.files.join(", ")}):`);
  console.log(`  baseline: uncompressed, every visit   ${t.uncompressedKiB.toFixed(1)} KiB`);
  console.log(
    `  first visit (brotli)                  ${t.firstVisitKiB.toFixed(1)} KiB | ${(t.firstVisitKiB / t.uncompressedKiB).toFixed(3)}x of the baseline`,
  );
  console.log(
    `  repeat visit (304 for index.html)     ${t.repeatVisitKiB.toFixed(1)} KiB | ${(t.repeatVisitKiB / t.uncompressedKiB).toFixed(3)}x\n`,
  );
  const load = await benchUiLoad(t.dist);
  const vs = (x: number, y: number) => `${x.toFixed(0).padStart(5)} ms | ${(x / y).toFixed(2)}x of the baseline`;
  console.log(`web UI load in Chromium over ${load.link} (loadEventEnd, median of ${load.rounds}):`);
  console.log(`  baseline first visit / repeat visit   ${load.baseline.firstMs.toFixed(0)} ms / ${load.baseline.repeatMs.toFixed(0)} ms`);
  console.log(`  Kiln first visit (cold cache)         ${vs(load.kiln.firstMs, load.baseline.firstMs)}`);
  console.log(`  Kiln repeat visit                     ${vs(load.kiln.repeatMs, load.baseline.repeatMs)}\n`);
}
if (!only || only === "scan") {
  const scan = await benchScan(Number(process.env.KILN_BENCH_SCAN_ROUNDS ?? 3));
  console.log(
    `surface scans on ${scan.device} (${scan.sizeBytes / 2 ** 20} MiB loop device, direct I/O, over SSH; whole device written and read back; median of the rounds):`,
  );
  const by = (name: string) => scan.runs.find((r) => r.name === name);
  for (const r of scan.runs) {
    console.log(
      `  ${r.name.padEnd(22)} ${r.mbps.toFixed(0).padStart(6)} MB/s  ${r.seconds.toFixed(1).padStart(6)} s  ${r.cpuSecondsPerGB.toFixed(2).padStart(6)} CPU s per GB moved`,
    );
  }
  for (const m of scan.marginal) {
    console.log(
      `  ${`${m.name}, large`.padEnd(22)} ${m.mbps.toFixed(0).padStart(6)} MB/s  ${m.cpuSecondsPerGB.toFixed(2).padStart(6)} CPU s per GB, plus ${m.fixedSeconds.toFixed(1)} s a scan (the rate between the small and the large device)`,
    );
  }
  const ratio = (x: { mbps: number; cpuSecondsPerGB: number } | undefined, b: string) => {
    const y = by(b);
    return x && y
      ? `${(x.mbps / y.mbps).toFixed(2)}x the MB/s, ${(x.cpuSecondsPerGB / y.cpuSecondsPerGB).toFixed(2)}x the CPU per GB`
      : "n/a";
  };
  const large = (name: string) => scan.marginal.find((m) => m.name === name);
  console.log(`  kiln fio, large / fio alone ${ratio(large("kiln fio"), "fio")} (target at least 0.9x the MB/s)`);
  console.log(`  kiln fio / fio alone        ${ratio(by("kiln fio"), "fio")} (with its fixed seconds, at this size)`);
  console.log(`  fio+verify / fio alone      ${ratio(by("fio+verify"), "fio")} (the verify headers and checks alone)`);
  console.log(`  fio io_uring / fio alone    ${ratio(by("fio io_uring"), "fio")} (libaio, Kiln's engine, is the baseline)`);
  console.log(`  kiln bb, large / dd         ${ratio(large("kiln bb"), "dd")}`);
  const drive = `${(scan.driveBytesPerSecond / 1e6).toFixed(0)} MB/s each way`;
  console.log(`  at a drive's speed (@drive: the loop device throttled to ${drive}):`);
  console.log(`  kiln fio @drive / fio alone @drive        ${ratio(by("kiln fio @drive"), "fio @drive")} (with its fixed seconds)`);
  console.log(
    `  kiln fio @drive, large / fio alone @drive ${ratio(large("kiln fio @drive"), "fio @drive")} (target at least 0.9x the MB/s)\n`,
  );
}
process.exit(0);
