// Three real `kiln serve` processes on a PostgreSQL server and a Redis server of this test's own,
// which the test stops and starts again while the instances run surface scans on the demo host.
// The tests are one sequence over the same three scans (one per instance). The first is the one
// the Redis part follows: the test holds it (SIGSTOP of its badblocks, which a machine's speed
// cannot outrun) except while its progress is checked, so that it is still running when Redis
// comes back; the other two, `standard` burn-ins whose fio writes and verifies at 8 MiB/s (about a
// minute, fio sleeping between writes; badblocks -c 1 -d 200 made a system call per 4 KiB for
// about 90 s), run through the database outage and may end during it:
// - PostgreSQL away for 30 s: every instance stays up and says so once in its log (no stack per
//   tick), /health answers 503 and then 200 again;
// - then Redis away: /health says "degraded" with redis unreachable, open subscriptions over SSE
//   and graphql-ws get an EVENTS_UNAVAILABLE error instead of silence, a pause sent to an
//   instance that does not run the job fails at once with "Redis is not reachable", and once
//   Redis is back events and commands flow again;
// - every scan ends passed, run once by the badblocks or fio first started.
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

  let jobs: string[] = [];
  const pids = new Map<string, number>();
  const pgids = new Map<string, number>();
  let dbLogsFrom = new Map<Name, number>();
  let redisLogsFrom = new Map<Name, number>();

  /** A demo burn-in that only `on` can claim (the other two are stopped until it has). */
  const startOn = async (on: Name, driveId: string, profile: "full" | "standard") => {
    const others = NAMES.filter((n) => n !== on);
    for (const n of others) process.kill(instances.get(n)?.child.pid as number, "SIGSTOP");
    try {
      const result = await gqlAs<{ startBurnIn: { data?: Array<{ id: string }> } }>(
        url(on),
        creds.tokens.operate,
        `mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: ${profile}, confirmSsdWrite: true) { ... on StartBurnInSuccess { data { id } } ... on Error { message } } }`,
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
  /** Holds or releases a scan's badblocks (the demo host runs it on this machine), as no other event would. */
  const hold = (jobId: string, signal: "SIGSTOP" | "SIGCONT") => process.kill(-(pgids.get(jobId) as number), signal);
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
          // badblocks 4 blocks at a time (the held scan: about 40 s of work, a few of them while
          // the test lets it move), fio at 8 MiB/s (a minute for 256 MiB written and verified),
          // self-tests of 1 and 2 s: the scans are what the outages must not break.
          KILN_DEMO_PACE: "blocks=4,delay=0,rate=8,short=1,long=2",
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
    // A scan the test held (or any still running after a failure) goes with its instances.
    for (const pgid of pgids.values()) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already ended
      }
    }
    await sql?.end().catch(() => {});
    await Promise.all([postgres?.destroy(), redis?.destroy()]);
    removeTempDirs();
  });

  it("PostgreSQL stopped for 30 s: all three stay up, say it once, answer 503 then 200", async () => {
    const recordScan = async (id: string) => {
      const scan = await one<{ remotePid: number; remotePgid: number }>(
        `SELECT "remotePid", "remotePgid" FROM "Stage" WHERE "jobId" = $1 AND name = 'surface_validate'`,
        [id],
      );
      pids.set(id, scan.remotePid);
      pgids.set(id, scan.remotePgid);
    };
    // The held scan is held once it runs, before the others start.
    const first = await startOn("kiln-a", drives[0] as string, "full");
    await until("the first surface scan running", () => scanRunning(first), 180_000);
    await recordScan(first);
    jobs = [first];
    hold(first, "SIGSTOP");
    jobs.push(await startOn("kiln-b", drives[1] as string, "standard"), await startOn("kiln-c", drives[2] as string, "standard"));
    await until("three surface scans running", async () => (await each(jobs, scanRunning)).every(Boolean) || null, 180_000);
    for (const id of jobs.slice(1)) await recordScan(id);
    dbLogsFrom = new Map(NAMES.map((n) => [n, instances.get(n)?.output().length ?? 0]));

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

    // The scans were followed through it: the held one still running, the others running or
    // passed (ended while the database was away, and recorded once it was back); the progress of
    // those running is written again.
    hold(jobs[0] as string, "SIGCONT");
    expect(await jobStatus(jobs[0] as string)).toBe("running");
    await until("the scans that ran on through the outage recorded", async () =>
      (await each(jobs.slice(1), jobStatus)).every((s) => s === "running" || s === "passed"),
    );
    // Scans still running (a job whose scan ended may be in its next stage: its scan's log is done).
    const scanStatus = async (id: string) =>
      (await one<{ status: string }>(`SELECT status FROM "Stage" WHERE "jobId" = $1 AND name = 'surface_validate'`, [id])).status;
    const running: string[] = [];
    for (const id of jobs) if ((await scanStatus(id)) === "running") running.push(id);
    const offset = (id: string) =>
      one<{ o: string }>(`SELECT "remoteLogOffset"::text AS o FROM "Stage" WHERE "jobId" = $1 AND name = 'surface_validate'`, [id]).then(
        (r) => BigInt(r.o),
      );
    const offsetsBack = await each(running, offset);
    await until("every running scan's progress written again", async () =>
      (await each(running, offset)).every((o, i) => o > (offsetsBack[i] as bigint)),
    );
    hold(jobs[0] as string, "SIGSTOP");
    for (const name of NAMES) expect(instances.get(name)?.child.exitCode, `${name} still running`).toBeNull();
  }, 300_000);

  it("Redis stopped: /health says so, subscribers are told, commands fail at once, and all flows again once it is back", async () => {
    // The scan held through the database outage, and whichever instance holds its job now (its
    // lease ran out during the outage: another instance may have taken it over).
    const jobId = jobs[0] as string;
    expect(await scanRunning(jobId)).toBe(true);
    const holder = (await one<{ lockedBy: Name }>(`SELECT "lockedBy" FROM "BurnInJob" WHERE id = $1`, [jobId])).lockedBy;
    const [follower, dashboard] = NAMES.filter((n) => n !== holder) as [Name, Name];
    redisLogsFrom = new Map(NAMES.map((n) => [n, instances.get(n)?.output().length ?? 0]));

    // The job followed on another instance (SSE) and a dashboard on the third (graphql-ws): both run through Redis.
    const sse = await fetch(
      `${url(follower)}/graphql?query=${encodeURIComponent(`subscription { jobProgress(jobId: "${jobId}") { progressPct } }`)}`,
      { headers: { accept: "text/event-stream", authorization: `Bearer ${creds.tokens.read}` } },
    );
    const sseText = sse.text();
    const ws = createClient({
      url: `${url(dashboard).replace(/^http/, "ws")}/graphql`,
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
    // Let the scan move until the dashboard has its events, then hold it again until Redis is back.
    hold(jobId, "SIGCONT");
    await until("the dashboard gets the scan's events", () => wsResults.length > 0);
    hold(jobId, "SIGSTOP");

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
    const refused = await fetch(`${url(follower)}/graphql?query=${encodeURIComponent("subscription { hostUpdated { hostId } }")}`, {
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
    const refusal = await pause(follower, "pauseBurnIn");
    expect(Date.now() - asked).toBeLessThan(COMMAND_TIMEOUT_MS / 2);
    expect(refusal.data?.pauseBurnIn).toEqual({
      __typename: "JobStateError",
      message: expect.stringMatching(
        new RegExp(`^Redis is not reachable: the Kiln instance running the job \\(${holder}\\) cannot be asked to pause it`),
      ),
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
    hold(jobId, "SIGCONT");
    // Events of the holder's job reach a new subscriber on another instance again (beyond the first, read from the database).
    const again = new AbortController();
    const events: number[] = [];
    const follow = fetch(
      `${url(follower)}/graphql?query=${encodeURIComponent(`subscription { jobProgress(jobId: "${jobId}") { progressPct } }`)}`,
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
    await until(`events from ${holder} through Redis`, () => events.length >= 3, 120_000);
    again.abort();
    await follow.catch(() => {});
    // And commands: another instance pauses and continues the holder's scan.
    expect((await pause(follower, "pauseBurnIn")).data?.pauseBurnIn?.__typename).toBe("PauseBurnInSuccess");
    expect((await pause(follower, "continueBurnIn")).data?.continueBurnIn?.__typename).toBe("ContinueBurnInSuccess");
    expect(await jobStatus(jobId)).toBe("running");
    await ws.dispose();
  }, 300_000);

  it("every scan passes after both outages, each run once by the badblocks or fio first started; each outage said once", async () => {
    expect(jobs).toHaveLength(3);
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
      // The same badblocks or fio throughout: followed again, never started a second time.
      expect(scan.remotePid).toBe(pids.get(id));
      expect(scan.log.match(/started \S*(badblocks|fio) /g) ?? []).toHaveLength(1);
    }
    for (const name of NAMES) {
      const kiln = instances.get(name) as ServingKiln;
      expect(kiln.child.exitCode, `${name} still running`).toBeNull();
      const sinceDatabase = kiln.output().slice(dbLogsFrom.get(name));
      // Said once each way (a server starting up may be lost once more before it answers), no stack.
      expect((sinceDatabase.match(/database is not reachable/g) ?? []).length, sinceDatabase).toBeGreaterThanOrEqual(1);
      expect((sinceDatabase.match(/database is not reachable/g) ?? []).length, sinceDatabase).toBeLessThanOrEqual(3);
      expect(sinceDatabase, name).toMatch(/database is reachable again \(after \d+ s\)/);
      expect(sinceDatabase, name).not.toMatch(/^\s+at |Invalid `|unexpected error|crashed/m);
      const sinceRedis = kiln.output().slice(redisLogsFrom.get(name));
      expect((sinceRedis.match(/Redis is not reachable \(/g) ?? []).length, sinceRedis).toBe(1);
      expect(sinceRedis, name).toMatch(/Redis is reachable again \(after \d+ s\)/);
    }
  }, 600_000);
});
