// Claim throughput with several Kiln instances on one PostgreSQL (+ Redis): 300 short simulate
// jobs (1 s each) on 30 hosts, at most 30 running (10 per host), run to the end by 1 instance
// (the baseline, same run) and by 3. Figures: jobs finished per second, and how the claims were
// spread over the instances. The runner looks for work once a second per instance, so the
// ideal is 30 jobs/s at most; claims of all instances take turns on one advisory lock.
import pg from "pg";
import { pgConnectionString } from "../server/db/url.js";
import { type ServingKiln, serveKiln } from "../tests/helpers/kiln-process.js";
import { tempDir, tempPostgres } from "../tests/helpers/temp-db.js";

export interface ClaimFigure {
  instances: number;
  jobs: number;
  seconds: number;
  jobsPerSec: number;
  /** Jobs each instance claimed. */
  spread: number[];
}

const JOBS = 300;

export async function benchClaims(counts = [1, 3]): Promise<ClaimFigure[]> {
  const figures: ClaimFigure[] = [];
  for (const n of counts) figures.push(await measure(n));
  return figures;
}

async function measure(n: number): Promise<ClaimFigure> {
  const database = await tempPostgres();
  const dataDir = tempDir("kiln-bench-claims-");
  const env = (i: number) => ({
    DATABASE_URL: database.url,
    REDIS_URL: process.env.KILN_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379",
    KILN_INSTANCE_ID: `bench-${i}`,
    KILN_AUTH: "off",
    KILN_INVENTORY_INTERVAL: "0",
  });
  const kilns: ServingKiln[] = [await serveKiln(["--port", "0", "--data", dataDir], env(0))];
  for (let i = 1; i < n; i++) kilns.push(await serveKiln(["--port", "0", "--data", dataDir], env(i)));
  const sql = new pg.Client({ connectionString: pgConnectionString(database.url) });
  await sql.connect();
  try {
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const response = await fetch(`${kilns[0]?.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: Record<string, { __typename?: string; data?: Array<{ id: string }> }> };
    };
    await gql(
      `mutation { a: setSetting(key: "maxConcurrentJobs", value: "30") { __typename } b: setSetting(key: "maxJobsPerHost", value: "10") { __typename } }`,
    );
    await sql.query(`
      INSERT INTO "Host" (id, name, transport, trusted, status, "createdAt", "updatedAt")
        SELECT 'h' || i, 'rack-' || i, 'local', true, 'ok', now(), now() FROM generate_series(1, 30) i;
      INSERT INTO "Drive" (id, "hostId", serial, "devicePath", "createdAt", "updatedAt")
        SELECT 'd' || i, 'h' || (1 + i % 30), 'S' || i, '/dev/null', now(), now() FROM generate_series(1, ${JOBS}) i;
    `);
    const driveIds = Array.from({ length: JOBS }, (_, i) => `d${i + 1}`);
    const started = performance.now();
    const result = await gql(
      `mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: simulate, options: { simulateSeconds: 1, simulateHz: 1 }) { __typename } }`,
      { d: driveIds },
    );
    if (result.data?.startBurnIn?.__typename !== "StartBurnInSuccess") throw new Error(`startBurnIn: ${JSON.stringify(result)}`);
    // Who holds each job, sampled while they run (a lock is cleared when its job ends).
    const holder = new Map<string, string>();
    for (;;) {
      const { rows } = await sql.query<{ id: string; lockedBy: string | null }>(
        `SELECT id, "lockedBy" FROM "BurnInJob" WHERE status IN ('queued', 'running')`,
      );
      if (rows.length === 0) break;
      for (const r of rows) if (r.lockedBy && !holder.has(r.id)) holder.set(r.id, r.lockedBy);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const counts = new Map<string, number>();
    for (const who of holder.values()) counts.set(who, (counts.get(who) ?? 0) + 1);
    const spread = [...counts.values()].sort((x, y) => y - x);
    return { instances: n, jobs: JOBS, seconds, jobsPerSec: JOBS / seconds, spread };
  } finally {
    await sql.end();
    for (const k of kilns) k.child.kill("SIGKILL");
    await Promise.all(kilns.map((k) => k.exited));
    await database.drop();
  }
}
