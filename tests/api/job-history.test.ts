// Job history for integrations, over real HTTP on a real SQLite file: keyset pages that neither
// skip nor repeat a job (even with equal creation times), every filter against the same
// selection done by hand, bad input naming its field, drive(serial), and the CSV / NDJSON
// exports with the same filters, authorised, and safe to open in a spreadsheet.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { EXPORT_COLUMNS, exportRows } from "../../server/exports.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

interface Seeded {
  id: string;
  serial: string;
  model: string;
  hostId: string;
  profile: string;
  status: string;
  verdictOutcome: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

const STATUSES = ["passed", "failed", "unknown", "cancelled", "running", "queued"];
const PROFILES = ["full", "quick", "ssd"];
const T0 = Date.parse("2026-01-01T00:00:00Z");

describe("job history and exports", () => {
  let kiln: RunningKiln;
  let creds: Credentials;
  const jobs: Seeded[] = [];

  type Page = {
    jobs: { edges: Array<{ cursor: string; node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  };
  const page = (variables: Record<string, unknown>) =>
    gqlAs<Page>(
      kiln.url,
      creds.tokens.read,
      "query($first: Int, $after: String, $filter: JobFilter, $orderBy: JobOrder) { jobs(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }",
      variables,
    );
  /** Every id the query lists, following endCursor. */
  const all = async (variables: Record<string, unknown>, first = 37) => {
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r = await page({ ...variables, first, after });
      expect(r.errors).toBeUndefined();
      ids.push(...(r.data?.jobs.edges.map((e) => e.node.id) ?? []));
      if (!r.data?.jobs.pageInfo.hasNextPage) return ids;
      after = r.data.jobs.pageInfo.endCursor;
    }
  };
  const byCreatedDesc = (a: Seeded, b: Seeded) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

  beforeAll(async () => {
    kiln = await startKiln(loadConfig(["--port", "0", "--data", migratedDataDir()], { KILN_INVENTORY_INTERVAL: "0" }), () => {});
    creds = await setUpAccounts(kiln.url);
    const db = kiln.database.db;
    const hosts = await Promise.all(["rack-a", "rack-b"].map((name) => db.host.create({ data: { name, transport: "local" } })));
    const models = ["WDC WD40EFRX-68N32N0", "ST4000NM0043", '=HYPERLINK("http://evil.example","x")'];
    const drives = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        db.drive.create({ data: { hostId: hosts[i % 2]?.id as string, serial: `SER${i}`, model: models[i % 3] } }),
      ),
    );
    for (let i = 0; i < 300; i++) {
      const drive = drives[i % 6] as (typeof drives)[number];
      const status = STATUSES[i % STATUSES.length] as string;
      const ended = !["running", "queued"].includes(status);
      // Groups of three jobs share a creation time: the id breaks the tie.
      const createdAt = new Date(T0 + Math.floor(i / 3) * 60_000);
      const row = await db.burnInJob.create({
        data: {
          driveId: drive.id,
          serial: drive.serial,
          profile: PROFILES[i % 3] as string,
          status,
          verdictOutcome: status === "passed" ? "passed" : status === "failed" ? "failed" : null,
          createdAt,
          finishedAt: ended ? new Date(createdAt.getTime() + ((i * 7919) % 500) * 60_000) : null,
        },
      });
      jobs.push({ ...row, model: drive.model ?? "", hostId: drive.hostId });
    }
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it("pages through every job newest first, without a gap or a repeat", async () => {
    expect(await all({})).toEqual([...jobs].sort(byCreatedDesc).map((j) => j.id));
    // Oldest first, and by finish time (only jobs that finished).
    expect(await all({ orderBy: { field: "createdAt", direction: "asc" } })).toEqual(
      [...jobs]
        .sort(byCreatedDesc)
        .reverse()
        .map((j) => j.id),
    );
    const finished = jobs
      .filter((j) => j.finishedAt)
      .sort((a, b) => (a.finishedAt?.getTime() ?? 0) - (b.finishedAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1));
    expect(await all({ orderBy: { field: "finishedAt", direction: "asc" } }, 50)).toEqual(finished.map((j) => j.id));
  });

  it("filters by status, verdict, profile, host, serial, model and time, as a hand-made selection does", async () => {
    const hostB = jobs.find((j) => j.serial === "SER1")?.hostId;
    const cases: Array<[Record<string, unknown>, (j: Seeded) => boolean]> = [
      [{ status: ["failed"] }, (j) => j.status === "failed"],
      [{ status: ["unknown", "cancelled"] }, (j) => j.status === "unknown" || j.status === "cancelled"],
      [{ verdict: ["passed"] }, (j) => j.verdictOutcome === "passed"],
      [{ profile: ["ssd"], status: ["unknown", "passed"] }, (j) => j.profile === "ssd" && ["unknown", "passed"].includes(j.status)],
      [{ hostId: hostB }, (j) => j.hostId === hostB],
      [{ serial: "SER4" }, (j) => j.serial === "SER4"],
      [{ model: "ST4000" }, (j) => j.model.includes("ST4000")],
      [
        { createdAfter: new Date(T0 + 10 * 60_000).toISOString(), createdBefore: new Date(T0 + 40 * 60_000).toISOString() },
        (j) => j.createdAt.getTime() >= T0 + 10 * 60_000 && j.createdAt.getTime() < T0 + 40 * 60_000,
      ],
      [{ finishedAfter: new Date(T0 + 200 * 60_000).toISOString() }, (j) => (j.finishedAt?.getTime() ?? 0) >= T0 + 200 * 60_000],
    ];
    for (const [filter, keep] of cases) {
      const expected = jobs
        .filter(keep)
        .sort(byCreatedDesc)
        .map((j) => j.id);
      expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(await all({ filter }), JSON.stringify(filter)).toEqual(expected);
    }
    // A model's part in any case; % and _ are plain characters (they matched everything as LIKE
    // wildcards), and a part no model has is answered without walking the history.
    expect(await all({ filter: { model: "st4000nm" } })).toEqual(
      jobs
        .filter((j) => j.model.includes("ST4000"))
        .sort(byCreatedDesc)
        .map((j) => j.id),
    );
    for (const model of ["%", "_", "ST%", "WD_0", "no such model"]) expect(await all({ filter: { model } }), model).toEqual([]);
  });

  it("refuses bad input naming the field", async () => {
    const error = async (variables: Record<string, unknown>) => (await page(variables)).errors?.[0];
    expect(await error({ first: 0 })).toMatchObject({
      message: "first: must be 1-500",
      extensions: { code: "BAD_USER_INPUT", field: "first" },
    });
    expect(await error({ first: 501 })).toMatchObject({ extensions: { field: "first" } });
    expect(await error({ after: "not-a-cursor" })).toMatchObject({
      message: "after: is not a cursor of this list in this order: pass an endCursor from an earlier page",
    });
    // A cursor of another order is refused too, not misread.
    const first = await page({ first: 1 });
    expect(await error({ after: first.data?.jobs.pageInfo.endCursor, orderBy: { field: "finishedAt", direction: "desc" } })).toMatchObject({
      extensions: { field: "after" },
    });
    expect(await error({ filter: { createdAfter: "2026-02-01T00:00:00Z", createdBefore: "2026-01-01T00:00:00Z" } })).toMatchObject({
      message: "createdAfter: is later than createdBefore",
    });
    expect(await error({ filter: { serial: "x".repeat(201) } })).toMatchObject({ extensions: { field: "serial" } });
    const last = await gqlAs(kiln.url, creds.tokens.read, "{ jobs(last: 5) { edges { node { id } } } }");
    expect(last.errors?.[0]).toMatchObject({ extensions: { field: "last" } });
  });

  it("finds a drive by serial", async () => {
    const r = await gqlAs<{ drive: { serial: string; host: { name: string } } | null }>(
      kiln.url,
      creds.tokens.read,
      '{ drive(serial: "SER3") { serial host { name } } }',
    );
    expect(r.data?.drive).toEqual({ serial: "SER3", host: { name: "rack-b" } });
    const neither = await gqlAs(kiln.url, creds.tokens.read, "{ drive { id } }");
    expect(neither.errors?.[0]).toMatchObject({ message: "id: give either id or serial" });
  });

  it("exports the same selection as CSV and NDJSON, to a token or a session only, safe for spreadsheets", async () => {
    const get = (path: string, headers: Record<string, string> = { authorization: `Bearer ${creds.tokens.read}` }) =>
      fetch(`${kiln.url}${path}`, { headers });
    const failed = jobs.filter((j) => j.status === "failed" || j.status === "unknown").sort(byCreatedDesc);

    const ndjson = await get("/api/jobs.ndjson?status=failed,unknown");
    expect(ndjson.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const lines = (await ndjson.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.id)).toEqual(failed.map((j) => j.id));
    expect(Object.keys(lines[0] ?? {})).toEqual([...EXPORT_COLUMNS]);

    const csv = await get("/api/jobs.csv");
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="kiln-jobs.csv"');
    const rows = (await csv.text()).trimEnd().split("\r\n");
    expect(rows[0]).toBe(EXPORT_COLUMNS.join(","));
    expect(rows).toHaveLength(301);
    // A model a hostile host reported as a formula is text in the spreadsheet, quoted where needed.
    const evil = rows.find((r) => r.includes("HYPERLINK"));
    expect(evil).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);

    // The walk behind the export, in small pages: every job once, in order.
    const walked: string[] = [];
    for await (const rows of exportRows(kiln.database.db, {}, { field: "createdAt", direction: "desc" }, 7))
      walked.push(...rows.map((r) => String(r.id)));
    expect(walked).toEqual([...jobs].sort(byCreatedDesc).map((j) => j.id));

    // Only for a signed-in user or a token; bad filters name the parameter.
    expect((await get("/api/jobs.csv", {})).status).toBe(401);
    expect((await get("/api/jobs.csv", { cookie: creds.cookie })).status).toBe(200);
    const bad = await get("/api/jobs.csv?status=exploded");
    expect([bad.status, await bad.json()]).toEqual([
      400,
      { error: 'status: "exploded" is not one of queued, running, passed, failed, cancelled, unknown', field: "status" },
    ]);
    const unknown = await get("/api/jobs.ndjson?sort=id");
    expect(unknown.status).toBe(400);
    expect(
      (await fetch(`${kiln.url}/api/jobs.csv`, { method: "POST", headers: { authorization: `Bearer ${creds.tokens.read}` } })).status,
    ).toBe(405);
  });
});
