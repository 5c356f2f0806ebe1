// Three real `kiln serve` processes on a PostgreSQL server and a Redis server of this test's own,
// which the test stops and starts again while the instances run surface scans on the demo host:
// - PostgreSQL away for 30 s: every instance stays up and says so once in its log (no stack per
//   tick), /health answers 503 and then 200 again, and every scan ends passed, run once;
// - Redis away: /health says "degraded" with redis unreachable, open subscriptions over SSE and
//   graphql-ws get an EVENTS_UNAVAILABLE error instead of silence, a pause sent to an instance
//   that does not run the job fails at once with "Redis is not reachable", and once Redis is back
//   events and commands flow again.
import { createClient } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { pgConnectionString } from "../../server/db/url.js";
import { COMMAND_TIMEOUT_MS } from "../../server/runner/commands.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { type ServingKiln, serveKiln } from "../helpers/kiln-process.js";
import { type PrivatePostgres, type PrivateRedis, privatePostgres, privateRedis } from "../helpers/private-services.js";
import { removeTempDirs, tempDir } from "../helpers/temp-db.js";
import { until } from "../helpers/wait.js";

const NAMES = ["kiln-a", "kiln-b", "kiln-c"] as const;
type Name = (typeof NAMES)[number];
const OUTAGE_MS = 30_000;

describe("outages of PostgreSQL and Redis under three instances", () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let sql: pg.Client;
  const dataDir = tempDir("kiln-outage-");
  const instances = new Map<Name, ServingKiln>();
  let creds: Credentials;
  let drives: string[] = [];
  const url = (name: Name) => (instances.get(name) as ServingKiln).url;
  const one = async <T>(text: string, values: unknown[] = []) => (await sql.query(text, values)).rows[0] as T;
  /** `probe` of each item, one query at a time (one connection). */
  const each = async <T, R>(items: T[], probe: (item: T) => Promise<R>) => {
    const results: R[] = [];
    for (const item of items) results.push(await probe(item));
    return results;
  };
  const health = async (name: Name) => {
    const response = await fetch(`${url(name)}/health`).catch(() => null);
    return response ? { status: response.status, body: (await response.json()) as Record<string, string> } : null;
  };

  /** A full demo burn-in that only `on` can claim (the other two are stopped until it has). */
  const startOn = async (on: Name, driveId: string) => {
    const others = NAMES.filter((n) => n !== on);
    for (const n of others) process.kill(instances.get(n)?.child.pid as number, "SIGSTOP");
    try {
      const result = await gqlAs<{ startBurnIn: { data?: Array<{ id: string }> } }>(
        url(on),
        creds.tokens.operate,
        "mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: full, confirmSsdWrite: true) { ... on StartBurnInSuccess { data { id } } ... on Error { message } } }",
        { d: [driveId] },
      );
      const jobId = result.data?.startBurnIn.data?.[0]?.id;
      if (!jobId) throw new Error(`startBurnIn: ${JSON.stringify(result)}`);
      await until(
        `job claimed by ${on}`,
        async () => (await one<{ lockedBy: string | null }>(`SELECT "lockedBy" FROM "BurnInJob" WHERE id = $1`, [jobId])).lockedBy === on,
      );
      return jobId;
    } finally {
      for (const n of others) process.kill(instances.get(n)?.child.pid as number, "SIGCONT");
    }
  };
  const scanRunning = async (jobId: string) => {
    const scan = await one<{ status: string; remotePid: number | null; bbPhase: number | null } | undefined>(
      `SELECT status, "remotePid", "bbPhase" FROM "Stage" WHERE "jobId" = $1 AND name = 'surface_validate'`,
      [jobId],
    );
    return scan?.status === "running" && scan.remotePid !== null && (scan.bbPhase ?? 0) >= 1;
  };
  const jobStatus = async (jobId: string) =>
    (await one<{ status: string }>(`SELECT status FROM "BurnInJob" WHERE id = $1`, [jobId])).status;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([privatePostgres(), privateRedis()]);
    await Promise.all(
      NAMES.map((name) =>
        serveKiln(["--port", "0", "--data", dataDir, ...(name === "kiln-a" ? ["--demo"] : [])], {
          DATABASE_URL: postgres.url,
          REDIS_URL: redis.url,
          KILN_INSTANCE_ID: name,
          KILN_LEASE_SECONDS: "10",
          KILN_INVENTORY_INTERVAL: "0",
          // Self-tests of 1 and 2 s: the scans are what the outages must not break.
          KILN_DEMO_PACE: "short=1,long=2",
        }).then((kiln) => instances.set(name, kiln)),
      ),
    );
    sql = new pg.Client({ connectionString: pgConnectionString(postgres.url) });
    // The test's own connection must outlive the outage too: a dropped one is reopened below.
    sql.on("error", () => {});
    await sql.connect();
    creds = await setUpAccounts(url("kiln-a"));
    const demo = await gqlAs<{ drives: Array<{ id: string }> }>(url("kiln-a"), creds.tokens.read, "{ drives { id } }");
    drives = (demo.data?.drives ?? []).map((d) => d.id);
    expect(drives).toHaveLength(4);
  }, 180_000);

  afterAll(async () => {
    for (const kiln of instances.values()) {
      kiln.child.kill("SIGCONT");
      kiln.child.kill("SIGKILL");
    }
    await Promise.all([...instances.values()].map((k) => k.exited));
    await sql?.end().catch(() => {});
    await Promise.all([postgres?.destroy(), redis?.destroy()]);
    removeTempDirs();
  });

  it("PostgreSQL stopped for 30 s: all three stay up, say it once, answer 503 then 200, and every scan passes, run once", async () => {
    const jobs = [
      await startOn("kiln-a", drives[0] as string),
      await startOn("kiln-b", drives[1] as string),
      await startOn("kiln-c", drives[2] as string),
    ];
    await until("three surface scans running", async () => (await each(jobs, scanRunning)).every(Boolean) || null, 180_000);
    const pids = new Map<string, number>();
    for (const id of jobs) {
      pids.set(
        id,
        (await one<{ remotePid: number }>(`SELECT "remotePid" FROM "Stage" WHERE "jobId" = $1 AND name = 'surface_validate'`, [id]))
          .remotePid,
      );
    }
    const logsBefore = new Map(NAMES.map((n) => [n, instances.get(n)?.output().length ?? 0]));

    await sql.end();
    await postgres.stop();
    const stoppedAt = Date.now();
    for (const name of NAMES) {
      await until(`${name} /health 503`, async () => {
        const h = await health(name);
        return h?.status === 503 && h.body.database === "unreachable" && h.body.status === "unavailable";
      });
    }
    // The API says what is wrong, and lets nothing through unchecked (credentials live in the database).
    for (const name of NAMES) {
      const answer = await gqlAs(url(name), creds.tokens.read, "{ hosts { id } }");
      expect(answer.status, name).toBe(503);
      expect(answer.errors?.[0]).toMatchObject({
        message: "the database is not reachable: try again shortly",
        extensions: { code: "DATABASE_UNAVAILABLE" },
      });
    }
    // A socket that cannot have its credential checked is told to try again later (1013), not
    // refused (4403 signs a browser tab out).
    const socket = new WebSocket(`${url("kiln-a").replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
    socket.on("open", () =>
      socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${creds.tokens.read}` } })),
    );
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed).toEqual({ code: 1013, reason: "the database is not reachable: try again shortly" });
    // The outage lasts its 30 s (a fault held on purpose, not a wait for an event).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt))));
    for (const name of NAMES) expect(instances.get(name)?.child.exitCode, `${name} still running`).toBeNull();
    await postgres.start();
    sql = new pg.Client({ connectionString: pgConnectionString(postgres.url) });
    sql.on("error", () => {});
    await sql.connect();
    for (const name of NAMES) {
      await until(`${name} /health 200`, async () => {
        const h = await health(name);
        return h?.status === 200 && h.body.database === "reachable";
      });
    }

    await until(
      "every job ended",
      async () => (await each(jobs, jobStatus)).every((s) => s !== "running" && s !== "queued") || null,
      300_000,
    );
    expect(await each(jobs, jobStatus)).toEqual(["passed", "passed", "passed"]);
    for (const id of jobs) {
      const scan = await one<{ remotePid: number; log: string }>(
        `SELECT "remotePid", log FROM "Stage" WHERE "jobId" = $1 AND name = 'surface_validate'`,
        [id],
      );
      // The same badblocks throughout: followed again, never started a second time.
      expect(scan.remotePid).toBe(pids.get(id));
      expect(scan.log.match(/started \S*badblocks /g) ?? []).toHaveLength(1);
    }
    for (const name of NAMES) {
      const kiln = instances.get(name) as ServingKiln;
      expect(kiln.child.exitCode, `${name} still running`).toBeNull();
      const during = kiln.output().slice(logsBefore.get(name));
      // Said once each way (a server starting up may be lost once more before it answers), no stack.
      expect((during.match(/database is not reachable/g) ?? []).length, during).toBeGreaterThanOrEqual(1);
      expect((during.match(/database is not reachable/g) ?? []).length, during).toBeLessThanOrEqual(3);
      expect(during, name).toMatch(/database is reachable again \(after \d+ s\)/);
      expect(during, name).not.toMatch(/^\s+at |Invalid `|unexpected error|crashed/m);
    }
  }, 600_000);

  it("Redis stopped: /health says so, subscribers are told, commands fail at once, and all flows again once it is back", async () => {
    const jobId = await startOn("kiln-a", drives[3] as string);
    await until("the surface scan running", () => scanRunning(jobId), 180_000);
    const logsBefore = new Map(NAMES.map((n) => [n, instances.get(n)?.output().length ?? 0]));

    // A job followed on kiln-b (SSE) and a dashboard on kiln-c (graphql-ws): both run through Redis.
    const sse = await fetch(
      `${url("kiln-b")}/graphql?query=${encodeURIComponent(`subscription { jobProgress(jobId: "${jobId}") { progressPct } }`)}`,
      { headers: { accept: "text/event-stream", authorization: `Bearer ${creds.tokens.read}` } },
    );
    const sseText = sse.text();
    const ws = createClient({
      url: `${url("kiln-c").replace(/^http/, "ws")}/graphql`,
      connectionParams: { authorization: `Bearer ${creds.tokens.read}` },
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    const wsResults: Array<{ errors?: Array<{ extensions?: { code?: string } }> }> = [];
    const wsEnded = new Promise<void>((resolve, reject) =>
      ws.subscribe(
        { query: "subscription { jobUpdates { jobId progressPct } }" },
        {
          next: (r) => void wsResults.push(r as (typeof wsResults)[number]),
          error: reject,
          complete: resolve,
        },
      ),
    );
    await until("the dashboard gets the scan's events", () => wsResults.length > 0);

    await redis.stop();
    for (const name of NAMES) {
      await until(`${name} /health degraded`, async () => {
        const h = await health(name);
        return h?.status === 200 && h.body.status === "degraded" && h.body.redis === "unreachable" && h.body.database === "reachable";
      });
    }
    // Told, and ended: not silence.
    await wsEnded;
    expect(wsResults.at(-1)?.errors?.[0]?.extensions?.code).toBe("EVENTS_UNAVAILABLE");
    const frames = await sseText;
    expect(frames).toMatch(/"code":"EVENTS_UNAVAILABLE"/);
    expect(frames).toMatch(/Redis is not reachable/);
    // A new subscription is answered the same at once.
    const refused = await fetch(`${url("kiln-b")}/graphql?query=${encodeURIComponent("subscription { hostUpdated { hostId } }")}`, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${creds.tokens.read}` },
    });
    expect(await refused.text()).toMatch(/EVENTS_UNAVAILABLE/);
    // A pause sent to an instance that does not run the job: refused at once, naming Redis.
    const pause = (on: Name, action: "pauseBurnIn" | "continueBurnIn") =>
      gqlAs<Record<string, { __typename: string; message?: string }>>(
        url(on),
        creds.tokens.operate,
        `mutation($id: ID!) { ${action}(jobId: $id) { __typename ... on Error { message } } }`,
        { id: jobId },
      );
    const asked = Date.now();
    const refusal = await pause("kiln-b", "pauseBurnIn");
    expect(Date.now() - asked).toBeLessThan(COMMAND_TIMEOUT_MS / 2);
    expect(refusal.data?.pauseBurnIn).toEqual({
      __typename: "JobStateError",
      message: expect.stringMatching(/^Redis is not reachable: the Kiln instance running the job \(kiln-a\) cannot be asked to pause it/),
    });
    // The instance that runs the job carries on: its scan goes on, its API answers.
    expect(await jobStatus(jobId)).toBe("running");
    await redis.start();
    for (const name of NAMES) {
      await until(`${name} /health ok`, async () => {
        const h = await health(name);
        return h?.status === 200 && h.body.status === "ok" && h.body.redis === "reachable";
      });
    }
    // Events of kiln-a's job reach a new subscriber on kiln-b again (beyond the first, read from the database).
    const again = new AbortController();
    const events: number[] = [];
    const follow = fetch(
      `${url("kiln-b")}/graphql?query=${encodeURIComponent(`subscription { jobProgress(jobId: "${jobId}") { progressPct } }`)}`,
      { headers: { accept: "text/event-stream", authorization: `Bearer ${creds.tokens.read}` }, signal: again.signal },
    ).then(async (response) => {
      const reader = response.body?.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) return;
        for (const m of decoder.decode(chunk.value).matchAll(/"progressPct":([\d.]+)/g)) events.push(Number(m[1]));
      }
    });
    await until("events from kiln-a through Redis", () => events.length >= 3, 120_000);
    again.abort();
    await follow.catch(() => {});
    // And commands: kiln-b pauses and continues kiln-a's scan.
    expect((await pause("kiln-b", "pauseBurnIn")).data?.pauseBurnIn?.__typename).toBe("PauseBurnInSuccess");
    expect((await pause("kiln-b", "continueBurnIn")).data?.continueBurnIn?.__typename).toBe("ContinueBurnInSuccess");
    await until("the job ended", async () => (await jobStatus(jobId)) !== "running" || null, 300_000);
    expect(await jobStatus(jobId)).toBe("passed");
    for (const name of NAMES) {
      const during = (instances.get(name) as ServingKiln).output().slice(logsBefore.get(name));
      expect((during.match(/Redis is not reachable \(/g) ?? []).length, during).toBe(1);
      expect(during, name).toMatch(/Redis is reachable again \(after \d+ s\)/);
      expect(during, name).not.toMatch(/^\s+at |unexpected error/m);
    }
    await ws.dispose();
  }, 600_000);
});
