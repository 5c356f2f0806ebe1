// updateSettings, what the Settings screen's one form sends: typed values (a number is an Int or
// a Float, thermal protection a Boolean), all or none (any problem refuses every change, each
// problem naming its setting in words), the pairs checked as they will be together, only changed
// settings written to the audit log, and an admin's only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

const UPDATE = `mutation($input: SettingsInput!) { updateSettings(input: $input) { __typename
  ... on UpdateSettingsSuccess { data { pollSeconds temperatureWarmC temperatureHotC thermalProtection thermalPauseAtC thermalResumeAtC publicUrl } }
  ... on SettingsRejectedError { message problems { field message } } } }`;

interface Answer {
  updateSettings: {
    __typename: string;
    message?: string;
    problems?: Array<{ field: string; message: string }>;
    data?: Record<string, unknown>;
  };
}

describe("updateSettings: typed, all or none", () => {
  let kiln: RunningKiln;
  let accounts: Credentials;
  const update = (input: Record<string, unknown>, token = accounts.tokens.admin) => gqlAs<Answer>(kiln.url, token, UPDATE, { input });
  const audited = () => kiln.database.db.auditEvent.count({ where: { action: "setting.change" } });

  beforeAll(async () => {
    kiln = await startKiln(loadConfig(["--port", "0", "--data", migratedDataDir()], { KILN_INVENTORY_INTERVAL: "0" }), () => {});
    accounts = await setUpAccounts(kiln.url);
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it("saves several at once, and writes only the changed ones to the audit log", async () => {
    const before = await audited();
    const r = await update({ pollSeconds: 2.5, thermalProtection: false, temperatureHotC: 48 });
    expect(r.data?.updateSettings).toMatchObject({
      __typename: "UpdateSettingsSuccess",
      data: { pollSeconds: 2.5, thermalProtection: false, temperatureHotC: 48 },
    });
    // temperatureHotC was 48 already: two changes, two audit rows.
    expect((await audited()) - before).toBe(2);
  });

  it("refuses them all when any is wrong, naming each setting and why; nothing is saved", async () => {
    const before = await audited();
    const r = await update({ pollSeconds: 9, temperatureHotC: 101, thermalPauseAtC: 40, thermalResumeAtC: 45, publicUrl: "ftp://x" });
    const answer = r.data?.updateSettings;
    expect(answer?.__typename).toBe("SettingsRejectedError");
    expect(answer?.problems).toEqual([
      { field: "temperatureHotC", message: "must be at most 100" },
      { field: "thermalResumeAtC", message: "resume must be below pause (45 against 40)" },
      { field: "publicUrl", message: "must be empty or an http(s) address without credentials" },
    ]);
    expect(answer?.message).toMatch(/^3 settings refused, nothing saved: temperatureHotC: must be at most 100; /);
    expect((await audited()) - before).toBe(0);
    const now = await gqlAs<{ settings: { pollSeconds: number } }>(kiln.url, accounts.tokens.read, "{ settings { pollSeconds } }");
    expect(now.data?.settings.pollSeconds).toBe(2.5);
  });

  it("checks a pair against the stored half: hot below the stored warm is refused", async () => {
    const r = await update({ temperatureHotC: 40 });
    expect(r.data?.updateSettings.problems).toEqual([{ field: "temperatureHotC", message: "warm must be below hot (42 against 40)" }]);
  });

  it("takes each value in its own type: a word for a number, or a fraction for a whole number, is refused before Kiln's code", async () => {
    const words = await update({ pollSeconds: "fast" });
    expect(words.errors?.[0]?.message).toMatch(/at "input.pollSeconds"; Float cannot represent non numeric value: "fast"/);
    const fraction = await update({ maxConcurrentJobs: 2.5 });
    expect(fraction.errors?.[0]?.message).toMatch(/at "input.maxConcurrentJobs"; Int cannot represent non-integer value: 2.5/);
  });

  it("is an admin's: an operate token is refused, and nothing changes", async () => {
    const r = await update({ pollSeconds: 1 }, accounts.tokens.operate);
    expect(r.status).toBe(403);
    expect(r.errors?.[0]?.message).toMatch(/^updateSettings needs the admin scope/);
  });
});
