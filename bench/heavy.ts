// Does a heavy request hold up the rest? `kiln serve` (dist/) on a SQLite database of 500
// finished full burn-ins, each with its surface scan's 3,200 samples (reports made from the data,
// as for any job younger than retentionDays). /health is asked 10 times a second, one request at
// a time, from this process: its latency idle (the baseline), then while 1, 2 and 4 zips of all
// 500 reports (500 PDFs each) are made, the 4 from 4 addresses (accounts off: the address is the
// caller), and a 5th zip refused at once (429).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "../server/db/client.js";
import { migrateDatabase } from "../server/db/migrations.js";
import { seedFinishedScans } from "../tests/helpers/finished-scans.js";
import { ensureCompiledServer } from "./startup.js";

const REPO = path.resolve(import.meta.dirname, "..");
const PORT = 4793;
const JOBS = 500;

export interface HeavyFigure {
  name: string;
  health: { p50: number; p99: number; max: number; n: number };
  zipSeconds: number | null;
}

function get(pathname: string, localAddress?: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: PORT, path: pathname, localAddress, agent: false }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => {
        bytes += c.length;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** /health latencies (ms), 10 a second, until `until` settles (or `count` when there is nothing to wait for). */
async function healthWhile(until: Promise<unknown> | null, count = 100): Promise<number[]> {
  let done = false;
  void until?.finally(() => {
    done = true;
  });
  const latencies: number[] = [];
  while (until ? !done : latencies.length < count) {
    const t = performance.now();
    await get("/health");
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  return latencies;
}

function stats(ms: number[]): HeavyFigure["health"] {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0, n: sorted.length };
}

export async function benchHeavy(): Promise<HeavyFigure[]> {
  ensureCompiledServer();
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-bench-heavy-"));
  const url = `file:${path.join(dir, "kiln.db")}`;
  let child: ChildProcess | null = null;
  try {
    await migrateDatabase({ url });
    const database = await openDatabase({ url });
    try {
      const host = await database.db.host.create({ data: { name: "rack-1", transport: "local" } });
      await seedFinishedScans(database.db, path.join(dir, "kiln.db"), host.id, JOBS);
    } finally {
      await database.close();
    }
    child = spawn(process.execPath, [path.join(REPO, "bin", "kiln.js"), "serve", "--port", String(PORT), "--data", dir], {
      env: { ...process.env, DATABASE_URL: url, KILN_AUTH: "off", KILN_INVENTORY_INTERVAL: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => {
      let out = "";
      child?.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("listening on")) resolve();
      });
    });
    const zipPath = "/reports.zip?status=passed";
    // Warm: the PDF chunk and its fonts load on the first one.
    await get(`${zipPath}&createdBefore=2023-11-14T22:20:00Z`);
    const figures: HeavyFigure[] = [{ name: "idle (baseline)", health: stats(await healthWhile(null)), zipSeconds: null }];
    for (const zips of [1, 2, 4]) {
      const started = performance.now();
      const all = Promise.all(Array.from({ length: zips }, (_, i) => get(zipPath, `127.0.0.${10 + i}`)));
      const latencies = await healthWhile(all);
      const answers = await all;
      if (answers.some((a) => a.status !== 200)) throw new Error(`a zip answered ${answers.map((a) => a.status).join(", ")}`);
      figures.push({ name: `${zips} zip(s) of ${JOBS}`, health: stats(latencies), zipSeconds: (performance.now() - started) / 1000 });
    }
    const four = Promise.all(Array.from({ length: 4 }, (_, i) => get(zipPath, `127.0.0.${20 + i}`)));
    await new Promise((r) => setTimeout(r, 300));
    const fifth = await get(zipPath, "127.0.0.30");
    await four;
    if (fifth.status !== 429) throw new Error(`a 5th zip at once answered ${fifth.status}, not 429`);
    return figures;
  } finally {
    if (child) {
      child.kill("SIGTERM");
      await new Promise((r) => child?.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
