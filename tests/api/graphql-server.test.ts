import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import type { Db } from "../../server/db/client.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { gql } from "../helpers/graphql.js";
import { migratedDataDir, removeTempDirs, type TempPostgres, tempDir, tempPostgres } from "../helpers/temp-db.js";

async function seed(db: Db) {
  const host = await db.host.create({ data: { name: "nas-1", transport: "ssh", address: "192.0.2.10", username: "root" } });
  const drive = await db.drive.create({
    data: {
      hostId: host.id,
      serial: "ZVT0CCCC",
      model: "ST20000NM007D",
      devicePath: "/dev/sdd",
      sizeBytes: 20000588955648n,
      rotationRate: 7200,
      temperatureC: 34,
      usage: JSON.stringify([{ kind: "zfs", name: "tank", detail: "ONLINE mirror-0 /dev/sdd2" }]),
      inUse: true,
    },
  });
  const jobs = [];
  for (let i = 0; i < 5; i++) {
    jobs.push(
      await db.burnInJob.create({
        data: {
          driveId: drive.id,
          serial: drive.serial,
          profile: i % 2 ? "quick" : "full",
          status: i === 4 ? "running" : "passed",
          createdAt: new Date(Date.UTC(2026, 10, 1 + i)),
          stages: {
            create: [
              { name: "precheck", position: 0, status: "passed", progressPct: 100 },
              {
                name: "surface_validate",
                position: 1,
                status: i === 4 ? "running" : "passed",
                bbPhase: 3,
                bbPhasePct: 41.5,
                bbPhaseHistory: JSON.stringify({
                  "1": "2026-11-05T10:00:00.000Z",
                  "2": "2026-11-05T20:00:00.000Z",
                  "3": "2026-11-06T06:00:00.000Z",
                }),
                bbBadBlocks: 0,
                bbMbps: 212.5,
              },
            ],
          },
        },
      }),
    );
  }
  return { host, drive, jobs };
}

describe.each([["sqlite"], ["postgresql"]] as const)("GraphQL API over HTTP on %s", (provider) => {
  let kiln: RunningKiln;
  let pgDb: TempPostgres | null = null;
  let seeded: Awaited<ReturnType<typeof seed>>;
  let dataDir: string;

  beforeAll(async () => {
    const env: Record<string, string> = { KILN_AUTH: "off" };
    if (provider === "postgresql") {
      pgDb = await tempPostgres();
      env.DATABASE_URL = pgDb.url;
    }
    // SQLite from the migrated copy; PostgreSQL migrates its new database.
    dataDir = provider === "sqlite" ? migratedDataDir() : tempDir();
    kiln = await startKiln(loadConfig(["--port", "0", "--data", dataDir], env), () => {});
    seeded = await seed(kiln.database.db);
  });
  afterAll(async () => {
    await kiln?.stop();
    await pgDb?.drop();
    removeTempDirs();
  });

  it("answers /health with 200 while the database is reachable", async () => {
    const response = await fetch(`${kiln.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", database: "reachable" });
  });

  it("serves GraphiQL at /graphql to a browser, from the installed package", async () => {
    const response = await fetch(`${kiln.url}/graphql`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Kiln GraphQL");
    expect(html).not.toMatch(/unpkg\.com|jsdelivr/);
  });

  it("lists hosts with their drives, and drives with what uses them", async () => {
    const { data, errors } = await gql<{
      hosts: Array<{ name: string; drives: Array<{ serial: string }> }>;
      drives: Array<{
        serial: string;
        sizeBytes: number;
        inUse: boolean;
        usage: Array<{ kind: string; name: string }>;
        host: { name: string };
      }>;
    }>(kiln.url, "{ hosts { name drives { serial } } drives { serial sizeBytes inUse usage { kind name } host { name } } }");
    expect(errors).toBeUndefined();
    expect(data?.hosts).toEqual([{ name: "nas-1", drives: [{ serial: "ZVT0CCCC" }] }]);
    expect(data?.drives).toEqual([
      { serial: "ZVT0CCCC", sizeBytes: 20000588955648, inUse: true, usage: [{ kind: "zfs", name: "tank" }], host: { name: "nas-1" } },
    ]);
  });

  it("pages job history newest first through the relay connection", async () => {
    const query = `query($after: String) { jobs(first: 2, after: $after) { edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } }`;
    type Page = {
      jobs: { edges: Array<{ node: { id: string; createdAt: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string } };
    };
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const { data, errors }: { data?: Page; errors?: unknown } = await gql<Page>(kiln.url, query, { after });
      expect(errors).toBeUndefined();
      seen.push(...(data?.jobs.edges.map((e) => e.node.id) ?? []));
      if (!data?.jobs.pageInfo.hasNextPage) break;
      after = data.jobs.pageInfo.endCursor;
    }
    expect(seen).toEqual([...seeded.jobs].reverse().map((j) => j.id));
  });

  it("filters job history by status", async () => {
    const { data } = await gql<{ jobs: { edges: Array<{ node: { status: string } }> } }>(
      kiln.url,
      "{ jobs(first: 10, filter: { status: [running] }) { edges { node { status } } } }",
    );
    expect(data?.jobs.edges.map((e) => e.node.status)).toEqual(["running"]);
  });

  it("returns one job with its stages in order and the surface scan's phase history", async () => {
    const id = seeded.jobs[4]?.id;
    const { data, errors } = await gql<{
      job: {
        status: string;
        stages: Array<{
          name: string;
          surfaceScan: null | {
            phase: number;
            pattern: string;
            mode: string;
            mbps: number;
            history: Array<{ phase: number; pattern: string; mode: string; startedAt: string }>;
          };
        }>;
      };
    }>(
      kiln.url,
      `query($id: ID!) { job(id: $id) { status stages { name surfaceScan { phase pattern mode mbps history { phase pattern mode startedAt } } } } }`,
      { id },
    );
    expect(errors).toBeUndefined();
    expect(data?.job.status).toBe("running");
    expect(data?.job.stages.map((s) => s.name)).toEqual(["precheck", "surface_validate"]);
    const scan = data?.job.stages[1]?.surfaceScan;
    expect(scan).toMatchObject({ phase: 3, pattern: "0x55", mode: "write", mbps: 212.5 });
    expect(scan?.history.map((h) => `${h.phase}:${h.pattern}:${h.mode}`)).toEqual(["1:0xaa:write", "2:0xaa:verify", "3:0x55:write"]);
    expect(scan?.history[0]?.startedAt).toBe("2026-11-05T10:00:00.000Z");
  });

  it("answers null for an unknown job or drive id", async () => {
    const { data, errors } = await gql(kiln.url, '{ job(id: "nope") { id } drive(id: "nope") { id } }');
    expect(errors).toBeUndefined();
    expect(data).toEqual({ job: null, drive: null });
  });

  it("reports a bad query as a GraphQL error naming the field", async () => {
    const { errors } = await gql(kiln.url, "{ drives { serialNumber } }");
    expect(errors?.[0]?.message).toMatch(/Cannot query field "serialNumber" on type "Drive"/);
  });

  it("takes only its own settings, plain work directories, and has safe defaults", async () => {
    const set = (key: string, value: string) =>
      gql<{ setSetting: { __typename: string; field?: string; message?: string } }>(
        kiln.url,
        "mutation($k: String!, $v: String!) { setSetting(key: $k, value: $v) { __typename ... on ValidationError { field message } } }",
        { k: key, v: value },
      ).then((r) => {
        expect(r.errors).toBeUndefined();
        return r.data?.setSetting;
      });
    for (const key of ["__proto__", "toString", "constructor"]) {
      expect(await set(key, "1"), key).toMatchObject({
        __typename: "ValidationError",
        field: "key",
        message: expect.stringMatching(/unknown setting/),
      });
    }
    expect(await set("remoteWorkDir", '"/var/lib/../../tmp"')).toMatchObject({
      __typename: "ValidationError",
      field: "value",
      message: expect.stringMatching(/no "." or ".." parts/),
    });
    const { data } = await gql<{ settings: Record<string, unknown> }>(kiln.url, "{ settings { remoteWorkDir sshMaxConnectionMinutes } }");
    expect(data?.settings).toEqual({ remoteWorkDir: "/var/lib/kiln", sshMaxConnectionMinutes: 60 });
    expect(await set("sshMaxConnectionMinutes", "5")).toMatchObject({ __typename: "SetSettingSuccess" });
    // The UI's temperature colours: warm stays below hot, whichever one changes.
    expect(await set("temperatureWarmC", "48")).toMatchObject({
      __typename: "ValidationError",
      field: "value",
      message: "value: temperatureWarmC: warm (48 °C) must be below hot (48 °C)",
    });
    expect(await set("temperatureHotC", "40")).toMatchObject({
      __typename: "ValidationError",
      message: expect.stringMatching(/below hot/),
    });
    expect(await set("temperatureHotC", "55")).toMatchObject({ __typename: "SetSettingSuccess" });
    expect(await set("temperatureWarmC", "50")).toMatchObject({ __typename: "SetSettingSuccess" });
  });

  it("reads usage recorded before active use was told apart as active (the safe side)", async () => {
    const { data } = await gql<{ drive: { usage: Array<{ kind: string; active: boolean }> } }>(
      kiln.url,
      "query($id: ID!) { drive(id: $id) { usage { kind active } } }",
      { id: seeded.drive.id },
    );
    expect(data?.drive.usage).toEqual([{ kind: "zfs", active: true }]);
  });

  it("answers /health with 503 once the database is gone", async () => {
    await kiln.database.close();
    if (provider === "sqlite") {
      // A closed Prisma client reconnects on demand: take the data directory away so it cannot.
      rmSync(dataDir, { recursive: true, force: true });
    } else {
      await pgDb?.drop();
      pgDb = null;
    }
    const response = await fetch(`${kiln.url}/health`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: "unavailable" });
  });
});
