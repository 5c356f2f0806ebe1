// Start-up time and idle memory of `kiln serve`, as a user measures them: from spawn to the first
// 200 from /health, and the RSS after 10 s of doing nothing, on an up-to-date database with no
// hosts. Against baselines spawned the same way in the same run: a bare node:http server and a
// bare graphql-yoga hello server. The memory of Kiln's process is broken down from its smaps.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { tempPostgres } from "../tests/helpers/temp-db.js";

const REPO = path.resolve(import.meta.dirname, "..");
const IDLE_MS = 10_000;
const PORT = 4791;

export interface StartFigure {
  name: string;
  /** Median over the runs. */
  startMs: number;
  rssMiB: number;
  runs: Array<{ startMs: number; rssMiB: number }>;
  /** Kiln only: the idle process's memory by kind, MiB (median run). */
  memory?: Record<string, number>;
}

/** The compiled server is what `npm start` and the image run: build it when it is missing or stale. */
export function ensureCompiledServer(): void {
  execFileSync(process.execPath, [path.join(REPO, "tools", "build-server.mjs")], { stdio: "inherit" });
}

const NODE_HTTP = `require("node:http").createServer((q, s) => s.end("ok")).listen(${PORT}, "127.0.0.1");`;

async function measure(
  command: string[],
  healthPath: string,
  env: Record<string, string>,
): Promise<StartFigure["runs"][number] & { smaps: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, command, { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.resume();
  child.stderr.on("data", (d: Buffer) => process.stderr.write(d));
  try {
    const startMs = await firstOk(`http://127.0.0.1:${PORT}${healthPath}`, child, started);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    const smaps = readFileSync(`/proc/${child.pid}/smaps`, "utf8");
    return { startMs, rssMiB: rssKiB / 1024, smaps };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

async function firstOk(url: string, child: ChildProcess, started: number): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode}) before answering`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** RSS by kind, from /proc/<pid>/smaps. */
export function memoryByKind(smaps: string): Record<string, number> {
  const kinds: Record<string, number> = {};
  let kind = "";
  for (const line of smaps.split("\n")) {
    const region = /^([0-9a-f]+)-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (region) {
      const [, start = "", , name = ""] = region;
      const address = BigInt(`0x${start}`);
      if (name.endsWith("/node")) kind = "node binary (code and data, file-backed)";
      else if (name.includes("/")) kind = "shared libraries and native addons";
      else if (name === "[heap]") kind = "malloc, main arena";
      // glibc gives each thread that mallocs an arena of its own, aligned to 64 MiB.
      else if (!name && address > 0x7f0000000000n && (address & 0x3ffffffn) === 0n) kind = "malloc, thread arenas";
      else if (!name) kind = "V8 heap, code and other anonymous memory";
      else kind = name;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kinds[kind] = (kinds[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return kinds;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function series(
  name: string,
  runs: number,
  command: string[],
  healthPath: string,
  env: Record<string, string> = {},
): Promise<StartFigure> {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await measure(command, healthPath, env));
  const byRss = [...results].sort((a, b) => a.rssMiB - b.rssMiB);
  const middle = byRss[Math.floor(byRss.length / 2)];
  return {
    name,
    startMs: median(results.map((r) => r.startMs)),
    rssMiB: median(results.map((r) => r.rssMiB)),
    runs: results.map(({ startMs, rssMiB }) => ({ startMs, rssMiB })),
    memory: name.startsWith("kiln") && middle ? memoryByKind(middle.smaps) : undefined,
  };
}

export async function benchStartup(runs = 5): Promise<StartFigure[]> {
  ensureCompiledServer();
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-bench-startup-"));
  const pgdb = await tempPostgres();
  try {
    const sqliteData = path.join(dir, "sqlite");
    const kiln = path.join(REPO, "bin", "kiln.js");
    // Up to date, with the schema fingerprint stored: what every start after the first sees.
    execFileSync(process.execPath, [kiln, "migrate", "--data", sqliteData], { stdio: "ignore" });
    execFileSync(process.execPath, [kiln, "migrate", "--data", path.join(dir, "pg")], {
      stdio: "ignore",
      env: { ...process.env, DATABASE_URL: pgdb.url },
    });
    const serve = (data: string) => [kiln, "serve", "--port", String(PORT), "--data", data, "--no-demo"];
    const env = { KILN_AUTH: "off", KILN_INVENTORY_INTERVAL: "0" };
    const figures = [
      await series("node:http hello", runs, ["-e", NODE_HTTP], "/"),
      await series("graphql-yoga hello", runs, [path.join(REPO, "bench", "yoga-hello.mjs"), String(PORT)], "/graphql?query=%7Bhello%7D"),
      await series("kiln serve, SQLite", runs, serve(sqliteData), "/health", env),
      await series("kiln serve, PostgreSQL", runs, serve(path.join(dir, "pg")), "/health", { ...env, DATABASE_URL: pgdb.url }),
    ];
    return figures;
  } finally {
    await pgdb.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
