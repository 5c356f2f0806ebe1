// Sign-ins under concurrency, over real HTTP: an attempt counts when it arrives, so 40 wrong
// passwords sent at once for one account get 5 answers of "wrong" and 35 refusals, and password
// hashing runs at most 2 at once, so 60 sign-ins from 60 addresses at once (no account needed)
// cannot starve the web UI or the API: the surplus is refused with a retry time while a page and
// a query are answered.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HASHES_AT_ONCE, passwordHashing } from "../../server/auth/passwords.js";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { type Credentials, setUpAccounts } from "../helpers/accounts.js";
import { rawRequest } from "../helpers/raw-http.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

describe("sign-in limits under concurrent attempts", () => {
  let kiln: RunningKiln;
  let creds: Credentials;

  const signIn = (username: string, password: string, localAddress?: string) =>
    rawRequest(kiln.url, {
      path: "/auth/login",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password }),
      localAddress,
    }).then((r) => ({ ...r, json: JSON.parse(r.body) as { error?: string } }));

  beforeAll(async () => {
    kiln = await startKiln(loadConfig(["--port", "0", "--data", migratedDataDir()], { KILN_INVENTORY_INTERVAL: "0" }), () => {});
    creds = await setUpAccounts(kiln.url);
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it("counts 40 wrong passwords sent at once as 40: five are checked, the rest refused", async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => signIn("admin", "not the admin password", "127.0.0.2")));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(35);
    const refused = answers.find((a) => a.status === 429);
    expect(refused?.json.error).toMatch(/^too many failed sign-ins: try again in 15 min$/);
    expect(Number(refused?.headers["retry-after"])).toBeGreaterThan(800);
    expect(await kiln.database.db.auditEvent.count({ where: { action: "auth.login_failed", actor: "admin" } })).toBe(5);
    // The account is locked now, from any address, even with the right password.
    expect((await signIn("admin", "correct horse battery", "127.0.0.3")).status).toBe(429);
  });

  it("hashes at most 2 passwords at once: 60 sign-ins from 60 addresses cannot starve the UI or the API", async () => {
    passwordHashing.peak = 0;
    let signInsDone = 0;
    const signIns = Array.from({ length: 60 }, (_, i) =>
      signIn(`nobody-${i}`, "some long guess here", `127.0.1.${i + 1}`).then((answer) => {
        signInsDone += 1;
        return answer;
      }),
    );
    // Asked while the sign-ins are in flight: a page of the web UI and a query.
    const page = rawRequest(kiln.url, { method: "GET", path: "/", headers: {} }).then((r) => ({ status: r.status, signInsDone }));
    const me = rawRequest(kiln.url, {
      headers: { "content-type": "application/json", authorization: `Bearer ${creds.tokens.read}` },
      body: JSON.stringify({ query: "{ me { name } }" }),
    }).then((r) => ({ status: r.status, body: r.body, signInsDone }));
    const answers = await Promise.all(signIns);
    const [pageAnswer, meAnswer] = await Promise.all([page, me]);
    expect(pageAnswer.status).toBe(200);
    expect(JSON.parse(meAnswer.body)).toEqual({ data: { me: { name: "token test-read (admin)" } } });
    // Both were answered before the sign-ins were through.
    expect(pageAnswer.signInsDone).toBeLessThan(60);
    expect(meAnswer.signInsDone).toBeLessThan(60);
    expect(passwordHashing.peak).toBeLessThanOrEqual(HASHES_AT_ONCE);
    const wrong = answers.filter((a) => a.status === 401);
    const busy = answers.filter((a) => a.status === 429);
    expect(wrong.length + busy.length).toBe(60);
    expect(wrong.length).toBeGreaterThanOrEqual(HASHES_AT_ONCE);
    expect(busy.length).toBeGreaterThan(0);
    for (const a of busy) {
      expect(a.json.error).toMatch(/^too many sign-ins at once: try again in \d+ s$/);
      expect(Number(a.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    }
    // A refusal for load is not a failed attempt: the right password works from such an address.
    const address = `127.0.1.${answers.indexOf(busy[0] as (typeof answers)[number]) + 1}`;
    const made = await rawRequest(kiln.url, {
      headers: { "content-type": "application/json", cookie: creds.cookie, "x-kiln-csrf": "1" },
      body: JSON.stringify({
        query: 'mutation { createUser(username: "later", password: "a long enough secret", role: viewer) { __typename } }',
      }),
    });
    expect(JSON.parse(made.body)).toEqual({ data: { createUser: { __typename: "CreateUserSuccess" } } });
    for (let i = 0; i < 5; i++) expect((await signIn("later", "a long enough secret", address)).status).toBe(200);
  });
});
