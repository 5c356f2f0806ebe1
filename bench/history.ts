// History bench: a page of 50 jobs with their drives and stages, and the same page filtered to
// failed jobs, under autocannon (10 connections, 10 s) at 10k and at 1M jobs, on SQLite and on
// PostgreSQL. Kiln (`kiln serve`) and the baseline (bare yoga + hand-written SQL,
// bench/history-baseline.ts) run as their own processes on the same database in the same run.
// Also the whole history as CSV (/api/jobs.csv): rows per second and Kiln's RSS during it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { tempPostgres } from "../tests/helpers/temp-db.js";
import { addJobs, prepare } from "./history-seed.js";

const REPO = path.resolve(import.meta.dirname, "..");
const SELECTION =
  "edges { cursor node { id serial profile status progressPct createdAt finishedAt drive { serial model } stages { name status progressPct } } }";
const QUERIES = {
  page: { kiln: `{ jobs(first: 50) { ${SELECTION} } }`, baseline: `{ jobs(first: 50) { ${SELECTION} } }` },
  failed: {
    kiln: `{ jobs(first: 50, filter: { status: [failed] }) { ${SELECTION} } }`,
    baseline: `{ jobs(first: 50, status: ["failed"]) { ${SELECTION} } }`,
  },
};

export interface LoadFigure {
  rps: number;
  p50: number;
  p99: number;
}

function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (ready.test(out)) resolve(child);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${command} exited (${code}) before it was ready:\n${out}`)));
  });
}

async function load(url: string, query: string): Promise<LoadFigure> {
  const body = JSON.stringify({ query });
  // A check first: the page must really be 50 jobs, not an error answered fast.
  const check = (await (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })).json()) as {
    data?: { jobs?: { edges?: unknown[] } };
  };
  if (check.data?.jobs?.edges?.length !== 50) throw new Error(`${url} did not answer a page of 50: ${JSON.stringify(check).slice(0, 300)}`);
  const options = { url, method: "POST" as const, headers: { "content-type": "application/json" }, body, connections: 10 };
  await autocannon({ ...options, duration: 2 }); // warm-up
  const result = await autocannon({ ...options, duration: 10 });
  if (result.non2xx || result.errors) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

export interface ExportFigure {
  rows: number;
  seconds: number;
  /** Kiln's RSS before the export, and the most it reached during it (MiB). */
  rssBeforeMiB: number;
  rssPeakMiB: number;
}

export interface EngineFigures {
  engine: string;
  sizes: Array<{
    jobs: number;
    kiln: Record<keyof typeof QUERIES, LoadFigure>;
    baseline: Record<keyof typeof QUERIES, LoadFigure>;
    csv: ExportFigure;
  }>;
}

const rssMiB = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
};

/** The whole history as CSV from /api/jobs.csv, with Kiln's RSS sampled every 50 ms. */
async function exportAll(url: string, pid: number): Promise<ExportFigure> {
  const rssBeforeMiB = rssMiB(pid);
  let rssPeakMiB = rssBeforeMiB;
  const sampler = setInterval(() => {
    rssPeakMiB = Math.max(rssPeakMiB, rssMiB(pid));
  }, 50);
  const started = performance.now();
  let rows = -1; // the header
  try {
    const response = await fetch(url);
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      for (const byte of chunk) if (byte === 10) rows += 1;
    }
  } finally {
    clearInterval(sampler);
  }
  return { rows, seconds: (performance.now() - started) / 1000, rssBeforeMiB, rssPeakMiB };
}

async function benchEngine(engine: "sqlite" | "postgresql", sizes: number[]): Promise<EngineFigures> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "kiln-bench-history-"));
  const pgdb = engine === "postgresql" ? await tempPostgres() : null;
  const url = pgdb?.url ?? `file:${path.join(dataDir, "kiln.db")}`;
  const figures: EngineFigures = { engine, sizes: [] };
  const children: ChildProcess[] = [];
  try {
    await prepare(url);
    let have = 0;
    for (const size of sizes) {
      const started = Date.now();
      await addJobs(url, have, size);
      have = size;
      console.error(`  ${engine}: ${size.toLocaleString("en-US")} jobs seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const kiln = await startProcess(
        "node",
        ["bin/kiln.js", "serve", "--port", "4781", "--data", dataDir, "--no-demo"],
        { DATABASE_URL: url, KILN_AUTH: "off", KILN_INVENTORY_INTERVAL: "0" },
        /listening on/,
      );
      children.push(kiln);
      const baseline = await startProcess(
        path.join(REPO, "node_modules", ".bin", "tsx"),
        ["bench/history-baseline.ts", url, "4782"],
        {},
        /ready/,
      );
      children.push(baseline);
      const entry = {
        jobs: size,
        kiln: {} as Record<keyof typeof QUERIES, LoadFigure>,
        baseline: {} as Record<keyof typeof QUERIES, LoadFigure>,
        csv: await exportAll("http://127.0.0.1:4781/api/jobs.csv", kiln.pid as number),
      };
      for (const [name, q] of Object.entries(QUERIES) as Array<[keyof typeof QUERIES, (typeof QUERIES)["page"]]>) {
        entry.kiln[name] = await load("http://127.0.0.1:4781/graphql", q.kiln);
        entry.baseline[name] = await load("http://127.0.0.1:4782/graphql", q.baseline);
      }
      figures.sizes.push(entry);
      for (const child of children.splice(0)) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
    }
  } finally {
    for (const child of children) child.kill("SIGKILL");
    await pgdb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}

export async function benchHistory(sizes = [10_000, 1_000_000]): Promise<EngineFigures[]> {
  const results: EngineFigures[] = [];
  for (const engine of ["sqlite", "postgresql"] as const) results.push(await benchEngine(engine, sizes));
  return results;
}
