// The drawer's chart data over real HTTP with accounts on: a read token sees a scan's samples,
// the drive's temperatures and the SMART before/after; nobody without a credential does; the
// temperature thresholds are an admin's to change, and stay warm below hot.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

describe("chart data, the settings the UI shows, and their trust boundary", () => {
  let kiln: RunningKiln;
  let accounts: Credentials;
  let jobId: string;
  let driveId: string;

  beforeAll(async () => {
    kiln = await startKiln(loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], { KILN_INVENTORY_INTERVAL: "0" }), () => {});
    accounts = await setUpAccounts(kiln.url);
    const db = kiln.database.db;
    const drive = await db.drive.findFirstOrThrow();
    driveId = drive.id;
    // A finished job as the runner leaves it: a scan with samples, readings, two SMART reports.
    const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 0, 0, s));
    const job = await db.burnInJob.create({
      data: {
        driveId,
        serial: drive.serial,
        profile: "full",
        status: "passed",
        progressPct: 100,
        stages: { create: [{ name: "surface_validate", position: 0, status: "passed", progressPct: 100, bbPhase: 8, bbPhasePct: 100 }] },
      },
      include: { stages: true },
    });
    jobId = job.id;
    const stageId = job.stages[0]?.id as string;
    await db.stageSample.createMany({
      data: [1, 2, 3].map((phase) => ({ stageId, at: at(phase * 10), phase, phasePct: 50, mbps: 180 - phase, temperatureC: 35 + phase })),
    });
    await db.driveTemperature.createMany({ data: [0, 60, 120].map((s, i) => ({ driveId, jobId, at: at(s), celsius: 36 + i })) });
    const attribute = (id: number, name: string, value: number, threshold: number, raw: number) => ({
      id,
      name,
      value,
      worst: value,
      threshold,
      raw,
      rawString: String(raw),
      whenFailed: "",
    });
    const report = (reallocated: number, temperatureC: number, attributes: unknown[]) =>
      JSON.stringify({ counters: { reallocatedSectors: reallocated, pendingSectors: 0 }, temperatureC, attributes, selfTests: [] });
    await db.smartSnapshot.createMany({
      data: [
        {
          driveId,
          jobId,
          kind: "baseline",
          report: report(0, 34, [attribute(5, "Reallocated_Sector_Ct", 100, 10, 0), attribute(9, "Power_On_Hours", 97, 0, 2400)]),
          takenAt: at(0),
        },
        {
          driveId,
          jobId,
          kind: "final",
          report: report(8, 38, [
            attribute(5, "Reallocated_Sector_Ct", 100, 10, 8),
            attribute(9, "Power_On_Hours", 97, 0, 2401),
            attribute(184, "End-to-End_Error", 97, 97, 3),
          ]),
          takenAt: at(200),
        },
      ],
    });
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  const QUERY = `query($job: ID!, $drive: ID!, $since: DateTime) {
    job(id: $job) { stages { samples { phase mbps temperatureC } } smartChanges { name before after changed decides }
      smartAttributes { id name value worst threshold rawBefore rawAfter decides failing } }
    drive(id: $drive) { temperatures(since: $since) { celsius jobId } } }`;

  it("gives a read token the samples, the readings and the SMART changes", async () => {
    const r = await gqlAs<{
      job: {
        stages: Array<{ samples: Array<{ phase: number; mbps: number; temperatureC: number }> }>;
        smartChanges: unknown[];
        smartAttributes: unknown[];
      };
      drive: { temperatures: Array<{ celsius: number; jobId: string }> };
    }>(kiln.url, accounts.tokens.read, QUERY, { job: jobId, drive: driveId, since: "2026-01-01T00:00:00Z" });
    expect(r.errors).toBeUndefined();
    expect(r.data?.job.stages[0]?.samples).toEqual([
      { phase: 1, mbps: 179, temperatureC: 36 },
      { phase: 2, mbps: 178, temperatureC: 37 },
      { phase: 3, mbps: 177, temperatureC: 38 },
    ]);
    expect(r.data?.drive.temperatures).toEqual([36, 37, 38].map((celsius) => ({ celsius, jobId })));
    expect(r.data?.job.smartChanges).toEqual([
      { name: "Reallocated sectors (5)", before: 0, after: 8, changed: true, decides: true },
      { name: "Pending sectors (197)", before: 0, after: 0, changed: false, decides: true },
      // A temperature moves in every burn-in: shown, not marked as a change (34 -> 38 was).
      { name: "Temperature (°C)", before: 34, after: 38, changed: false, decides: false },
    ]);
    // The drive's own attributes with their normalised values and thresholds; 5 decides, and a
    // value at its threshold is the drive saying it failed.
    expect(r.data?.job.smartAttributes).toEqual([
      {
        id: 5,
        name: "Reallocated_Sector_Ct",
        value: 100,
        worst: 100,
        threshold: 10,
        rawBefore: "0",
        rawAfter: "8",
        decides: true,
        failing: false,
      },
      {
        id: 9,
        name: "Power_On_Hours",
        value: 97,
        worst: 97,
        threshold: 0,
        rawBefore: "2400",
        rawAfter: "2401",
        decides: false,
        failing: false,
      },
      {
        id: 184,
        name: "End-to-End_Error",
        value: 97,
        worst: 97,
        threshold: 97,
        rawBefore: null,
        rawAfter: "3",
        decides: false,
        failing: true,
      },
    ]);
    // The default window is the last 24 h: these readings are older.
    const recent = await gqlAs<{ drive: { temperatures: unknown[] } }>(kiln.url, accounts.tokens.read, QUERY, {
      job: jobId,
      drive: driveId,
    });
    expect(recent.data?.drive.temperatures).toEqual([]);
  });

  it("answers nobody without a credential, and leaves the thresholds to an admin", async () => {
    const anonymous = await fetch(`${kiln.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: QUERY, variables: { job: jobId, drive: driveId } }),
    });
    expect(anonymous.status).toBe(401);
    const set = (token: string, key: string, value: string) =>
      gqlAs<{ setSetting: { __typename: string; message?: string } }>(
        kiln.url,
        token,
        "mutation($k: String!, $v: String!) { setSetting(key: $k, value: $v) { __typename ... on Error { message } } }",
        { k: key, v: value },
      );
    const byOperator = await set(accounts.tokens.operate, "temperatureHotC", "60");
    expect(byOperator.status).toBe(403);
    expect((await set(accounts.tokens.admin, "temperatureHotC", "41")).data?.setSetting).toEqual({
      __typename: "ValidationError",
      message: "value: temperatureHotC: warm (42 °C) must be below hot (41 °C)",
    });
    expect((await set(accounts.tokens.admin, "temperatureHotC", "55")).data?.setSetting.__typename).toBe("SetSettingSuccess");
  });

  it("gives jobs the badblocks defaults from the settings where the start leaves them out, and records them", async () => {
    const set = (key: string, value: string) =>
      gqlAs<{ setSetting: { __typename: string; message?: string } }>(
        kiln.url,
        accounts.tokens.admin,
        "mutation($k: String!, $v: String!) { setSetting(key: $k, value: $v) { __typename ... on Error { message } } }",
        { k: key, v: value },
      );
    expect((await set("badblocksPasses", "2")).data?.setSetting.__typename).toBe("SetSettingSuccess");
    expect((await set("badblocksBlocksAtOnce", "64")).data?.setSetting.__typename).toBe("SetSettingSuccess");
    expect((await set("badblocksPasses", "17")).data?.setSetting).toMatchObject({ __typename: "ValidationError" });
    const start = (options: Record<string, number>) =>
      gqlAs<{ startBurnIn: { __typename: string; data?: Array<{ options: Record<string, number | null> }> } }>(
        kiln.url,
        accounts.tokens.operate,
        `mutation($ids: [ID!]!, $o: BurnInOptions) { startBurnIn(driveIds: $ids, profile: simulate, options: $o) {
          __typename ... on StartBurnInSuccess { data { options { passes blocksAtOnce maxBadBlocks simulateSeconds } } } } }`,
        { ids: [driveId], o: { simulateSeconds: 1, ...options } },
      );
    const defaults = await start({});
    expect(defaults.data?.startBurnIn.data?.[0]?.options).toEqual({ passes: 2, blocksAtOnce: 64, maxBadBlocks: null, simulateSeconds: 1 });
    await kiln.database.db.burnInJob.updateMany({ where: { status: { in: ["queued", "running"] } }, data: { status: "cancelled" } });
    const given = await start({ passes: 1 });
    expect(given.data?.startBurnIn.data?.[0]?.options).toMatchObject({ passes: 1, blocksAtOnce: 64 });
  });
});
