// Three real `kiln serve` processes on one PostgreSQL database and one Redis: what a refurbisher
// running Kiln behind a load balancer relies on.
// - started at once on an empty database, all come up and the migrations are applied once;
// - a session or token made on one instance works on the others;
// - 60 queued jobs run exactly once each, and the global and per-host limits hold at every sample;
// - a subscriber on one instance sees every event of a job another instance runs, in order;
// - an instance killed with SIGKILL, and one stopped (SIGSTOP) past its lease, lose their surface
//   scans to the third, which re-attaches to the same badblocks processes; the stopped one, once
//   continued, changes 0 rows (every write is counted by a trigger, per connection name) and the
//   scans pass.
import { readdirSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgConnectionString } from "../../server/db/url.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { type ServingKiln, serveKiln } from "../helpers/kiln-process.js";
import { subscribe } from "../helpers/sse.js";
import { removeTempDirs, type TempPostgres, tempDir, tempPostgres } from "../helpers/temp-db.js";
import { processState, until } from "../helpers/wait.js";

const REDIS_URL = process.env.KILN_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
// Long enough that an instance on a loaded machine (4 test files at once on 2 cores) renews in
// time (every quarter of it), short enough that a takeover is seen within the test.
const LEASE_SECONDS = 10;
const NAMES = ["kiln-a", "kiln-b", "kiln-c"] as const;
type Name = (typeof NAMES)[number];
const MIGRATIONS = readdirSync(path.resolve(import.meta.dirname, "../../prisma/postgres/migrations"), { withFileTypes: true }).filter((e) =>
  e.isDirectory(),
).length;

interface Instance {
  name: Name;
  kiln: ServingKiln;
}

describe("scale-out: three Kiln instances on PostgreSQL and Redis", () => {
  let database: TempPostgres;
  let sql: pg.Client;
  const dataDir = tempDir("kiln-scale-");
  const instances = new Map<Name, Instance>();
  let creds: Credentials;
  let demoJobs: { killed: string; stopped: string };
  /** The first write of kiln-c taking the stopped instance's job over, and that job's stages. */
  let takeover: { id: string };
  let stageIds: string[];
  const url = (name: Name) => (instances.get(name) as Instance).kiln.url;
  const pidOf = (name: Name) => (instances.get(name) as Instance).kiln.child.pid as number;
  const one = async <T>(text: string, values: unknown[] = []) => (await sql.query(text, values)).rows[0] as T;

  const start = (name: Name) =>
    serveKiln(["--port", "0", "--data", dataDir, ...(name === "kiln-a" ? ["--demo"] : [])], {
      DATABASE_URL: database.url,
      REDIS_URL,
      KILN_INSTANCE_ID: name,
      // Every connection carries the instance's name: the write trigger below tells them apart.
      PGAPPNAME: name,
      KILN_LEASE_SECONDS: String(LEASE_SECONDS),
      KILN_INVENTORY_INTERVAL: "0",
    }).then((kiln) => instances.set(name, { name, kiln }));

  const startJobs = async (driveIds: string[], profile: string, options: Record<string, unknown> = {}, on: Name = "kiln-c") => {
    const result = await gqlAs<{ startBurnIn: { data?: Array<{ id: string }>; message?: string } }>(
      url(on),
      creds.tokens.operate,
      `mutation($d: [ID!]!, $p: Profile!, $o: BurnInOptions) { startBurnIn(driveIds: $d, profile: $p, options: $o) {
        ... on StartBurnInSuccess { data { id } } ... on Error { message } } }`,
      { d: driveIds, p: profile, o: options },
    );
    const jobs = result.data?.startBurnIn.data;
    if (!jobs) throw new Error(`startBurnIn: ${JSON.stringify(result)}`);
    return jobs.map((j) => j.id);
  };

  /** Queue a job that only `on` can claim: the other two are stopped until it has. */
  const startOn = async (on: Name, driveId: string) => {
    const others = NAMES.filter((n) => n !== on && instances.has(n));
    for (const n of others) process.kill(pidOf(n), "SIGSTOP");
    try {
      // 8 KiB blocks without the demo's read delay: a scan of about 30 s instead of 70.
      const [jobId] = await startJobs([driveId], "full", { blockSize: 8192, readDelayFactor: 1 }, on);
      await until(
        `job claimed by ${on}`,
        async () => (await one<{ lockedBy: string | null }>(`SELECT "lockedBy" FROM "BurnInJob" WHERE id = $1`, [jobId])).lockedBy === on,
      );
      return jobId as string;
    } finally {
      for (const n of others) process.kill(pidOf(n), "SIGCONT");
    }
  };

  /** A simulate job on the drive with `serial`, once claimed: who runs it, and another instance. */
  const simulateOn = async (serial: string, options: Record<string, number>) => {
    const drive = await one<{ id: string }>(`SELECT id FROM "Drive" WHERE serial = $1`, [serial]);
    const [jobId] = (await startJobs([drive.id], "simulate", options)) as [string];
    const holder = await until(
      "the job claimed",
      async () => (await one<{ lockedBy: string | null }>(`SELECT "lockedBy" FROM "BurnInJob" WHERE id = $1`, [jobId])).lockedBy,
    );
    return { jobId, holder, elsewhere: NAMES.find((n) => n !== holder) as Name };
  };

  beforeAll(async () => {
    database = await tempPostgres();
    // All three at once, on an empty database.
    await Promise.all(NAMES.map(start));
    sql = new pg.Client({ connectionString: pgConnectionString(database.url), application_name: "kiln-test" });
    await sql.connect();
    // Every row change of the jobs' tables, with the name of the connection that made it (in a
    // schema of its own: Kiln refuses to start on tables its migrations did not make).
    await sql.query(`
        CREATE SCHEMA kiln_test;
        CREATE TABLE kiln_test.writes (id bigserial PRIMARY KEY, app text NOT NULL, tbl text NOT NULL, row jsonb NOT NULL);
        CREATE FUNCTION kiln_test.write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
          INSERT INTO kiln_test.writes (app, tbl, row)
            VALUES (current_setting('application_name'), TG_TABLE_NAME, to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END));
          RETURN NULL; END $$;
        CREATE TRIGGER w AFTER INSERT OR UPDATE OR DELETE ON "BurnInJob" FOR EACH ROW EXECUTE FUNCTION kiln_test.write();
        CREATE TRIGGER w AFTER INSERT OR UPDATE OR DELETE ON "Stage" FOR EACH ROW EXECUTE FUNCTION kiln_test.write();
        CREATE TRIGGER w AFTER INSERT OR UPDATE OR DELETE ON "StageSample" FOR EACH ROW EXECUTE FUNCTION kiln_test.write();
        CREATE TRIGGER w AFTER INSERT OR UPDATE OR DELETE ON "DriveTemperature" FOR EACH ROW EXECUTE FUNCTION kiln_test.write();
        CREATE TRIGGER w AFTER INSERT OR UPDATE OR DELETE ON "SmartSnapshot" FOR EACH ROW EXECUTE FUNCTION kiln_test.write();
      `);
    creds = await setUpAccounts(url("kiln-a"));
    const demo = await gqlAs<{ drives: Array<{ id: string; host: { transport: string } }> }>(
      url("kiln-a"),
      creds.tokens.read,
      "{ drives { id host { transport } } }",
    );
    const demoDrives = (demo.data?.drives ?? []).filter((d) => d.host.transport === "demo").map((d) => d.id);
    expect(demoDrives).toHaveLength(4);
    // Two full burn-ins on demo drives, one held by kiln-a and one by kiln-b: they reach their
    // surface scans while the tests below run.
    demoJobs = { killed: await startOn("kiln-a", demoDrives[0] as string), stopped: await startOn("kiln-b", demoDrives[1] as string) };
  }, 180_000);

  afterAll(async () => {
    for (const { kiln } of instances.values()) {
      kiln.child.kill("SIGCONT");
      kiln.child.kill("SIGKILL");
    }
    await Promise.all([...instances.values()].map((i) => i.kiln.exited));
    await sql?.end();
    await database?.drop();
    removeTempDirs();
  });

  it("all three started at once on an empty database are up, and the migrations were applied once", async () => {
    const applied = await sql.query<{ migration_name: string; n: string }>(
      `SELECT migration_name, count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL GROUP BY migration_name`,
    );
    expect(applied.rows).toHaveLength(MIGRATIONS);
    expect(applied.rows.every((r) => r.n === "1")).toBe(true);
    const outputs = NAMES.map((n) => (instances.get(n) as Instance).kiln.output());
    expect(outputs.filter((o) => /database .*, applied \d{8}/.test(o))).toHaveLength(1);
    expect(outputs.filter((o) => /schema up to date/.test(o))).toHaveLength(2);
    for (const name of NAMES) expect((await fetch(`${url(name)}/health`)).status).toBe(200);
    // One report signing key for all (made once in the shared data directory): a report any
    // instance signed verifies against the key any instance serves.
    const keys = await Promise.all(NAMES.map(async (n) => (await fetch(`${url(n)}/.well-known/kiln-report-key`)).text()));
    expect(keys[0]).toMatch(/BEGIN PUBLIC KEY/);
    expect(new Set(keys).size).toBe(1);
  });

  it("takes a session and a token made on one instance on every other", async () => {
    for (const name of NAMES) {
      const byToken = await gqlAs<{ me: { scope: string; via: string } }>(url(name), creds.tokens.admin, "{ me { scope via } }");
      expect(byToken.data?.me).toEqual({ scope: "admin", via: "token" });
      const bySession = await fetch(`${url(name)}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: creds.cookie, "x-kiln-csrf": "1" },
        body: JSON.stringify({ query: "{ me { name via } }" }),
      });
      expect(await bySession.json()).toMatchObject({ data: { me: { name: "admin", via: "session" } } });
    }
  });

  it("hands the scans of a killed and of a stopped instance to the third, which re-attaches to the same badblocks; the stopped one's late writes change 0 rows", async () => {
    type Scan = { remotePid: number | null; status: string; jobStatus: string; lockedBy: string | null; leaseVersion: number };
    const scanOf = (jobId: string) =>
      one<Scan>(
        `SELECT s."remotePid", s.status, j.status AS "jobStatus", j."lockedBy", j."leaseVersion" FROM "Stage" s JOIN "BurnInJob" j ON j.id = s."jobId"
           WHERE s."jobId" = $1 AND s.name = 'surface_validate'`,
        [jobId],
      );
    const { killed, stopped } = demoJobs;
    // Both scans running, each recorded by its holder, with some of its log consumed.
    const before = await until("both surface scans running", async () => {
      const scans = await Promise.all([scanOf(killed), scanOf(stopped)]);
      const offsets = await sql.query<{ o: string }>(
        `SELECT "remoteLogOffset"::text AS o FROM "Stage" WHERE "jobId" = ANY($1) AND name = 'surface_validate'`,
        [[killed, stopped]],
      );
      return scans.every((s) => s.status === "running" && s.remotePid !== null) && offsets.rows.every((r) => Number(r.o) > 0) && scans;
    });
    const [killedScan, stoppedScan] = before as [Scan, Scan];
    expect([killedScan.lockedBy, stoppedScan.lockedBy]).toEqual(["kiln-a", "kiln-b"]);
    const pids = [killedScan.remotePid as number, stoppedScan.remotePid as number];

    process.kill(pidOf("kiln-b"), "SIGSTOP");
    const killedAt = Date.now();
    process.kill(pidOf("kiln-a"), "SIGKILL");
    await instances.get("kiln-a")?.kiln.exited;
    instances.delete("kiln-a");
    const takenOver = await until("kiln-c holds both jobs", async () => {
      const scans = await Promise.all([scanOf(killed), scanOf(stopped)]);
      return scans.every((s) => s.lockedBy === "kiln-c") && scans;
    });
    const tookMs = Date.now() - killedAt;
    // Not before the lease ran out; within the lease, a renewal interval, a sweep and slack for a busy machine.
    expect(tookMs).toBeGreaterThan(LEASE_SECONDS * 1000 - (LEASE_SECONDS * 1000) / 4);
    expect(tookMs).toBeLessThan(LEASE_SECONDS * 1000 * 1.5 + 15_000);
    // The same processes, never a second badblocks: the new holder follows them.
    expect(takenOver.map((s) => s.remotePid)).toEqual(pids);
    for (const pid of pids) expect(processState(pid)).not.toBeNull();
    expect(takenOver.map((s) => s.leaseVersion)).toEqual([killedScan.leaseVersion + 1, stoppedScan.leaseVersion + 1]);
    await until("kiln-c re-attached to both scans, from the stored log offsets", async () => {
      const logs = await sql.query<{ log: string }>(`SELECT log FROM "Stage" WHERE "jobId" = ANY($1) AND name = 'surface_validate'`, [
        [killed, stopped],
      ]);
      const text = logs.rows.map((r) => r.log).join("\n");
      return pids.every((pid) => new RegExp(`re-attaching to badblocks pid ${pid} at log offset [1-9]`).test(text)) || null;
    });

    // kiln-b wakes up with a scan it no longer holds: it tries to write, is refused, lets go.
    takeover = await one<{ id: string }>(
      `SELECT min(id) AS id FROM kiln_test.writes WHERE tbl = 'BurnInJob' AND row->>'id' = $1 AND row->>'lockedBy' = 'kiln-c'`,
      [stopped],
    );
    process.kill(pidOf("kiln-b"), "SIGCONT");
    const b = instances.get("kiln-b") as Instance;
    await until(
      "kiln-b let go of the job",
      () => b.kiln.output().includes(`job ${stopped}: lease ${stoppedScan.leaseVersion} was taken over`) || null,
    );
    stageIds = (await sql.query<{ id: string }>(`SELECT id FROM "Stage" WHERE "jobId" = $1`, [stopped])).rows.map((r) => r.id);
    const late = await one<{ n: string }>(
      `SELECT count(*) AS n FROM kiln_test.writes WHERE app = 'kiln-b' AND id > $1
           AND (row->>'id' = $2 OR row->>'jobId' = $2 OR row->>'stageId' = ANY($3))`,
      [takeover.id, stopped, stageIds],
    );
    expect(late.n).toBe("0");
    // The names are right: kiln-c's writes of the job since the takeover are counted.
    const byC = await one<{ n: string }>(
      `SELECT count(*) AS n FROM kiln_test.writes WHERE app = 'kiln-c' AND id > $1 AND (row->>'id' = $2 OR row->>'jobId' = $2)`,
      [takeover.id, stopped],
    );
    expect(Number(byC.n)).toBeGreaterThan(0);
    // Before the stop kiln-b did write this job: the count can see its writes.
    const earlier = await one<{ n: string }>(
      `SELECT count(*) AS n FROM kiln_test.writes WHERE app = 'kiln-b' AND (row->>'id' = $1 OR row->>'jobId' = $1)`,
      [stopped],
    );
    expect(Number(earlier.n)).toBeGreaterThan(0);
    expect(processState(pids[1] as number)).not.toBeNull();

    // kiln-a comes back (same name) for the tests below: three instances again.
    await start("kiln-a");
  }, 300_000);

  it("runs 60 queued jobs exactly once each across the instances, within the limits at every sample", async () => {
    const setSetting = async (key: string, value: number) => {
      const r = await gqlAs(url("kiln-b"), creds.tokens.admin, `mutation { setSetting(key: "${key}", value: "${value}") { __typename } }`);
      expect(r.data).toMatchObject({ setSetting: { __typename: "SetSettingSuccess" } });
    };
    await setSetting("maxConcurrentJobs", 9);
    await setSetting("maxJobsPerHost", 4);
    const driveIds: string[] = [];
    for (let h = 1; h <= 3; h++) {
      const { id } = await one<{ id: string }>(
        `INSERT INTO "Host" (id, name, transport, trusted, status, "createdAt", "updatedAt") VALUES ($1, $1, 'local', true, 'ok', now(), now()) RETURNING id`,
        [`rack-${h}`],
      );
      for (let d = 0; d < 20; d++) {
        const drive = await one<{ id: string }>(
          `INSERT INTO "Drive" (id, "hostId", serial, "devicePath", "createdAt", "updatedAt") VALUES ($1, $2, $1, '/dev/null', now(), now()) RETURNING id`,
          [`R${h}D${String(d).padStart(2, "0")}`, id],
        );
        driveIds.push(drive.id);
      }
    }
    const jobIds = await startJobs(driveIds, "simulate", { simulateSeconds: 1, simulateHz: 4 });
    expect(jobIds).toHaveLength(60);
    const deadline = Date.now() + 240_000;
    let samples = 0;
    let busiest = 0;
    const ranOn = new Set<string>();
    const over: string[] = [];
    for (;;) {
      const rows = await sql.query<{ hostId: string; lockedBy: string | null }>(
        `SELECT d."hostId", j."lockedBy" FROM "BurnInJob" j JOIN "Drive" d ON d.id = j."driveId" WHERE j.status = 'running'`,
      );
      samples += 1;
      busiest = Math.max(busiest, rows.rows.length);
      const perHost = new Map<string, number>();
      for (const r of rows.rows) {
        perHost.set(r.hostId, (perHost.get(r.hostId) ?? 0) + 1);
        if (r.lockedBy && jobIds.length) ranOn.add(r.lockedBy);
      }
      if (rows.rows.length > 9) over.push(`${rows.rows.length} running`);
      for (const [host, n] of perHost) if (n > 4) over.push(`${n} running on ${host}`);
      const left = await one<{ n: string }>(
        `SELECT count(*) AS n FROM "BurnInJob" WHERE id = ANY($1) AND status IN ('queued', 'running')`,
        [jobIds],
      );
      if (left.n === "0") break;
      if (Date.now() > deadline) throw new Error(`the 60 jobs did not finish: ${left.n} left`);
    }
    expect(over).toEqual([]);
    expect(samples).toBeGreaterThan(20);
    // The limits were reached, not merely never approached; and more than one instance claimed.
    expect(busiest).toBe(9);
    expect(ranOn.size).toBeGreaterThanOrEqual(2);
    const ended = await sql.query<{ status: string; attempts: number; leaseVersion: number; n: string }>(
      `SELECT status, attempts, "leaseVersion", count(*) AS n FROM "BurnInJob" WHERE id = ANY($1) GROUP BY 1, 2, 3`,
      [jobIds],
    );
    // Claimed once, never taken over, passed: each ran exactly once.
    expect(ended.rows).toEqual([{ status: "passed", attempts: 1, leaseVersion: 1, n: "60" }]);
  }, 300_000);

  it("gives a subscriber on one instance every event of a job another runs, in order; garbage on Redis is dropped", async () => {
    const { jobId, holder, elsewhere } = await simulateOn("R1D00", { simulateSeconds: 6, simulateHz: 5 });
    // What the holder publishes, read from Redis itself.
    const raw = new Redis(REDIS_URL);
    const published: Array<{ at: number; progressPct: number; status: string }> = [];
    raw.on("message", (_channel, message: string) => {
      const event = (() => {
        try {
          return JSON.parse(message);
        } catch {
          return null;
        }
      })();
      if (event && typeof event === "object") published.push(event);
    });
    await raw.subscribe(`kiln:job:${jobId}`);
    type Event = { at: string; progressPct: number; status: string };
    const live = subscribe<Event>(
      url(elsewhere),
      "subscription($j: ID!) { jobProgress(jobId: $j) { at progressPct status } }",
      { j: jobId },
      {
        authorization: `Bearer ${creds.tokens.read}`,
      },
    );
    try {
      // Whoever can publish on Kiln's Redis sends what is not an event: every instance drops it.
      await live.until(() => true);
      const hostile = new Redis(REDIS_URL);
      for (const channel of [`kiln:job:${jobId}`, "kiln:jobs", "kiln:hosts", "kiln:drives", `kiln:command:${holder}`]) {
        for (const message of ["not json {", "null", "42", '"text"', ""]) await hostile.publish(channel, message);
      }
      hostile.disconnect();
      await live.until((e) => e.status === "passed", 120_000);
      await live.ended;
      const received = live.events.slice(1).map((e) => Date.parse(e.at));
      const sent = published.map((e) => e.at);
      // From the first event both saw, the subscriber got exactly what was published, in order.
      const from = sent.indexOf(received[0] as number);
      expect(from).toBeGreaterThanOrEqual(0);
      expect(received).toEqual(sent.slice(from));
      expect(received.length).toBeGreaterThan(15);
      const pct = live.events.map((e) => e.progressPct);
      expect(pct).toEqual([...pct].sort((a, b) => a - b));
      expect(live.events.at(-1)?.status).toBe("passed");
      for (const name of NAMES) expect((await fetch(`${url(name)}/health`)).status).toBe(200);
    } finally {
      live.close();
      raw.disconnect();
    }
  }, 180_000);

  it("carries out a cancel or pause sent to an instance that does not run the job, on the one that does", async () => {
    const { jobId, holder, elsewhere } = await simulateOn("R2D00", { simulateSeconds: 600, simulateHz: 1 });
    const command = (action: "pauseBurnIn" | "cancelBurnIn") =>
      gqlAs<Record<string, { __typename: string; message?: string; data?: { status: string } }>>(
        url(elsewhere),
        creds.tokens.operate,
        `mutation($j: ID!) { ${action}(jobId: $j) { __typename ... on Error { message } ... on ${action === "pauseBurnIn" ? "PauseBurnInSuccess" : "CancelBurnInSuccess"} { data { status } } } }`,
        { j: jobId },
      );
    // The holder's own answer comes back: a simulated stage has no scan process to pause.
    const pause = await command("pauseBurnIn");
    expect(pause.data?.pauseBurnIn?.message).toMatch(/^cannot pause: only a running surface scan/);
    const cancel = await command("cancelBurnIn");
    expect(cancel.data?.cancelBurnIn).toMatchObject({ __typename: "CancelBurnInSuccess", data: { status: "cancelled" } });
    const row = await one<{ status: string; lockedBy: string | null }>(`SELECT status, "lockedBy" FROM "BurnInJob" WHERE id = $1`, [jobId]);
    expect(row).toEqual({ status: "cancelled", lockedBy: null });
    const audited = await one<{ actor: string; details: string }>(
      `SELECT actor, details FROM "AuditEvent" WHERE action = 'job.cancel' AND "subjectId" = $1`,
      [jobId],
    );
    expect(JSON.parse(audited.details)).toMatchObject({ was: "running", on: holder });
  });

  it("finishes both taken-over burn-ins under kiln-c, passed, with nothing more from kiln-b", async () => {
    const { killed, stopped } = demoJobs;
    for (const jobId of [killed, stopped]) {
      const end = await until(
        `job ${jobId} ended`,
        async () => {
          const s = await one<{ status: string; lockedBy: string | null }>(`SELECT status, "lockedBy" FROM "BurnInJob" WHERE id = $1`, [
            jobId,
          ]);
          return ["passed", "failed", "unknown", "cancelled"].includes(s.status) && s;
        },
        300_000,
      );
      expect(end.status).toBe("passed");
    }
    const ends = await sql.query<{ app: string }>(
      `SELECT DISTINCT app FROM kiln_test.writes WHERE tbl = 'BurnInJob' AND row->>'id' = ANY($1) AND row->>'status' = 'passed'`,
      [[killed, stopped]],
    );
    expect(ends.rows.map((r) => r.app)).toEqual(["kiln-c"]);
    const fromB = await one<{ n: string }>(
      `SELECT count(*) AS n FROM kiln_test.writes WHERE app = 'kiln-b' AND id > $1 AND (row->>'id' = $2 OR row->>'jobId' = $2 OR row->>'stageId' = ANY($3))`,
      [takeover.id, stopped, stageIds],
    );
    expect(fromB.n).toBe("0");
  }, 360_000);
});
