// Accounts, sessions, tokens and scopes over real HTTP, with auth on (the default): nothing
// anonymous but /health and /auth; a session needs the CSRF header; a token's scope bounds what
// it may do; revoked or expired credentials are refused and end their subscriptions; logins are
// rate-limited; every change is audited with who and from where.
import { isInterfaceType, isObjectType, printSchema } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT_FIELD_SCOPES } from "../../server/auth/scopes.js";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { schema } from "../../server/schema/index.js";
import { rawRequest } from "../helpers/raw-http.js";
import { subscribe } from "../helpers/sse.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

type Answer = { status: number; data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: { code?: string } }> };

describe("accounts, sessions and API tokens", () => {
  let kiln: RunningKiln;
  let adminCookie = "";
  const secrets: Record<string, string> = {};

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const r = await rawRequest(kiln.url, { path, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    return { ...r, json: JSON.parse(r.body || "{}") as Record<string, unknown> };
  };
  const graphql = async (query: string, headers: Record<string, string> = {}, variables: Record<string, unknown> = {}): Promise<Answer> => {
    const r = await rawRequest(kiln.url, {
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: r.status, ...(JSON.parse(r.body) as Omit<Answer, "status">) };
  };
  const asAdmin = (query: string, variables: Record<string, unknown> = {}) =>
    graphql(query, { cookie: adminCookie, "x-kiln-csrf": "1" }, variables);
  const bearer = (name: string) => ({ authorization: `Bearer ${secrets[name]}` });
  const cookieOf = (setCookie: string | string[] | undefined) =>
    String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(";")[0] as string;

  beforeAll(async () => {
    kiln = await startKiln(loadConfig(["--port", "0", "--data", migratedDataDir()], { KILN_INVENTORY_INTERVAL: "0" }), () => {});
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it("answers nobody before setup but /health and /auth, and sets up the first admin once", async () => {
    expect(await graphql("{ hosts { id } }")).toMatchObject({ status: 401, errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });
    expect((await rawRequest(kiln.url, { method: "GET", path: "/health" })).status).toBe(200);
    const status = await rawRequest(kiln.url, { method: "GET", path: "/auth/status" });
    expect(JSON.parse(status.body)).toMatchObject({ auth: "on", setupRequired: true, signedIn: false });
    expect((await post("/auth/setup", { username: "admin", password: "short" })).json).toEqual({
      error: "password: must be at least 12 characters",
      field: "password",
    });
    const setup = await post("/auth/setup", { username: "admin", password: "correct horse battery" });
    expect(setup.status).toBe(201);
    expect(String(setup.headers["set-cookie"])).toMatch(/^kiln_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    adminCookie = cookieOf(setup.headers["set-cookie"]);
    expect((await post("/auth/setup", { username: "mallory", password: "correct horse battery" })).status).toBe(409);
    // The password is kept only as a scrypt hash.
    const user = await kiln.database.db.user.findUniqueOrThrow({ where: { username: "admin" } });
    expect(user.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(user.passwordHash).not.toContain("correct horse");
  });

  it("needs the CSRF header with a session cookie", async () => {
    expect(await graphql("{ me { name scope via } }", { cookie: adminCookie })).toMatchObject({
      status: 403,
      errors: [{ message: "a signed-in browser must send the X-Kiln-CSRF header" }],
    });
    expect((await asAdmin("{ me { name scope via } }")).data).toEqual({ me: { name: "admin", scope: "admin", via: "session" } });
  });

  it("refuses the session cookie from a page of another origin, another port or scheme of the same name included", async () => {
    const own = new URL(kiln.url);
    const foreign = [`http://localhost:9999`, `https://${own.hostname}`, `http://${own.hostname}:${Number(own.port) + 1}`, "null"];
    for (const origin of foreign) {
      const query = await graphql('mutation { setSetting(key: "pollSeconds", value: "9") { __typename } }', {
        cookie: adminCookie,
        "x-kiln-csrf": "1",
        origin,
      });
      expect(query.status, origin).toBe(403);
      const logout = await post("/auth/logout", {}, { cookie: adminCookie, origin });
      expect(logout.status, origin).toBe(403);
      const csv = await rawRequest(kiln.url, { method: "GET", path: "/api/jobs.csv", headers: { cookie: adminCookie, origin } });
      expect(csv.status, origin).toBe(403);
    }
    // Nothing ran: the setting is as it was and the session still works; from Kiln's own page it does.
    const ownPage = { cookie: adminCookie, "x-kiln-csrf": "1", origin: own.origin };
    expect((await graphql("{ settings { pollSeconds } }", ownPage)).data).toEqual({ settings: { pollSeconds: 2 } });
    // Without a cookie a foreign page has nothing to ride on: its requests are judged as any other.
    expect((await graphql("{ me { name } }", { origin: "http://localhost:9999" })).status).toBe(401);
  });

  it("bounds what a token may do by its scope, shows its secret once and records its last use", async () => {
    const create = async (name: string, scope: string, expiresInDays?: number) => {
      const r = await asAdmin(
        "mutation($n: String!, $s: Scope!, $d: Int) { createApiToken(name: $n, scope: $s, expiresInDays: $d) { __typename ... on CreateApiTokenSuccess { data { secret token { id scope } } } } }",
        { n: name, s: scope, d: expiresInDays ?? null },
      );
      const data = (r.data as { createApiToken: { data: { secret: string; token: { id: string } } } }).createApiToken.data;
      secrets[name] = data.secret;
      return data.token.id;
    };
    const readId = await create("dashboard", "read");
    await create("ci", "operate");
    await create("admin-bot", "admin", 30);
    expect(secrets.dashboard).toMatch(/^kiln_[A-Za-z0-9_-]{43}$/);
    // Stored as a hash: no row holds the secret.
    const stored = await kiln.database.db.apiToken.findUniqueOrThrow({ where: { id: readId } });
    expect(JSON.stringify(stored)).not.toContain(secrets.dashboard?.slice(5));
    expect(stored.lastUsedAt).toBeNull();

    const setPoll = 'mutation { setSetting(key: "pollSeconds", value: "3") { __typename } }';
    const start = 'mutation { startBurnIn(driveIds: ["no-such-drive"], profile: quick) { __typename } }';
    expect((await graphql("{ hosts { id } }", bearer("dashboard"))).status).toBe(200);
    expect(await graphql(start, bearer("dashboard"))).toMatchObject({
      status: 403,
      errors: [{ message: 'startBurnIn needs the operate scope; the token "dashboard" of user admin has the read scope' }],
    });
    // operate may start (the drive is not found: the call got past the scope check), not change settings.
    expect((await graphql(start, bearer("ci"))).data).toEqual({ startBurnIn: { __typename: "NotFoundError" } });
    expect(await graphql(setPoll, bearer("ci"))).toMatchObject({ status: 403 });
    expect((await graphql(setPoll, bearer("admin-bot"))).data).toEqual({ setSetting: { __typename: "SetSettingSuccess" } });
    expect((await kiln.database.db.apiToken.findUniqueOrThrow({ where: { id: readId } })).lastUsedAt).not.toBeNull();
    // Who changed the setting, and from where.
    const events = await asAdmin("{ auditEvents(first: 20) { edges { node { actor address action } } } }");
    const nodes = (events.data as { auditEvents: { edges: Array<{ node: Record<string, string> }> } }).auditEvents.edges.map((e) => e.node);
    expect(nodes).toContainEqual({ actor: "token admin-bot (admin)", address: "127.0.0.1", action: "setting.change" });
    expect(nodes).toContainEqual({ actor: "admin", address: "127.0.0.1", action: "token.create" });
    // The audit log is for admins only.
    expect((await graphql("{ auditEvents(first: 1) { edges { node { id } } } }", bearer("ci"))).status).toBe(403);
    // A token cannot make tokens (a leaked one cannot mint more), and none has more rights than its maker.
    expect(
      (await graphql('mutation { createApiToken(name: "x", scope: admin) { __typename ... on ValidationError { field } } }', bearer("ci")))
        .data,
    ).toEqual({ createApiToken: { __typename: "ValidationError", field: "user" } });
  });

  it("refuses a revoked or expired token, and ends its open subscription", async () => {
    const live = subscribe(`http://${new URL(kiln.url).host}`, "subscription { jobUpdates { jobId } }", {}, bearer("dashboard"));
    const tokens = (await asAdmin("{ apiTokens { id name } }")).data?.apiTokens as Array<{ id: string; name: string }>;
    const id = tokens.find((t) => t.name === "dashboard")?.id;
    expect((await asAdmin("mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }", { id })).data).toEqual({
      revokeApiToken: { __typename: "RevokeApiTokenSuccess" },
    });
    expect((await graphql("{ hosts { id } }", bearer("dashboard"))).status).toBe(401);
    // The stream the token opened before ends by itself (checked every few seconds).
    expect(await live.ended).toBe(200);
    await kiln.database.db.apiToken.updateMany({ where: { name: "ci" }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await graphql("{ hosts { id } }", bearer("ci"))).status).toBe(401);
  }, 30_000);

  it("disables a user at once (sessions, tokens, open streams), keeps one admin, and changes passwords", async () => {
    const login = async (username: string, password: string) => {
      const r = await post("/auth/login", { username, password });
      return { status: r.status, json: r.json, cookie: r.status === 200 ? cookieOf(r.headers["set-cookie"]) : "" };
    };
    const as = (cookie: string, query: string, variables: Record<string, unknown> = {}) =>
      graphql(query, { cookie, "x-kiln-csrf": "1" }, variables);
    const created = await asAdmin(
      'mutation { createUser(username: "alice", password: "alice long secret", role: operator) { ... on CreateUserSuccess { data { id } } } }',
    );
    const aliceId = (created.data as { createUser: { data: { id: string } } }).createUser.data.id;
    const alice = await login("alice", "alice long secret");
    expect(alice.status).toBe(200);
    const token = await as(
      alice.cookie,
      'mutation { createApiToken(name: "alice-ci", scope: operate) { ... on CreateApiTokenSuccess { data { secret } } } }',
    );
    secrets["alice-ci"] = (token.data as { createApiToken: { data: { secret: string } } }).createApiToken.data.secret;
    const live = subscribe(`http://${new URL(kiln.url).host}`, "subscription { jobUpdates { jobId } }", {}, bearer("alice-ci"));

    const update = (variables: Record<string, unknown>) =>
      asAdmin(
        "mutation($id: ID!, $role: Role, $disabled: Boolean, $password: String) { updateUser(id: $id, role: $role, disabled: $disabled, password: $password) { __typename ... on ValidationError { field message } ... on UpdateUserSuccess { data { disabledAt role } } } }",
        variables,
      );
    const disabled = await update({ id: aliceId, disabled: true });
    expect(disabled.data?.updateUser).toMatchObject({ __typename: "UpdateUserSuccess", data: { role: "operator" } });
    expect((await kiln.database.db.user.findUniqueOrThrow({ where: { id: aliceId } })).disabledAt).not.toBeNull();
    // Her session, her token and the stream her token opened all stop.
    expect((await as(alice.cookie, "{ me { name } }")).status).toBe(401);
    expect((await graphql("{ hosts { id } }", bearer("alice-ci"))).status).toBe(401);
    expect(await live.ended).toBe(200);
    // She cannot sign in; only someone who knows her password learns why.
    expect(await login("alice", "alice long secret")).toMatchObject({
      status: 403,
      json: { error: "this account is disabled: ask an admin" },
    });
    expect(await kiln.database.db.auditEvent.count({ where: { action: "user.update", subjectId: aliceId } })).toBe(1);

    // The only admin cannot disable or demote themselves.
    const admin = await kiln.database.db.user.findUniqueOrThrow({ where: { username: "admin" } });
    expect((await update({ id: admin.id, disabled: true })).data?.updateUser).toEqual({
      __typename: "ValidationError",
      field: "disabled",
      message: "disabled: you cannot demote or disable yourself: another admin must",
    });
    expect((await update({ id: admin.id, role: "viewer" })).data?.updateUser).toMatchObject({
      __typename: "ValidationError",
      field: "role",
    });
    expect((await update({ id: aliceId, password: "short" })).data?.updateUser).toMatchObject({
      __typename: "ValidationError",
      field: "password",
    });
    // Enabled again: she signs in; a password change ends her other sessions, not the one she used.
    await update({ id: aliceId, disabled: false });
    const first = await login("alice", "alice long secret");
    const second = await login("alice", "alice long secret");
    const change = (cookie: string, currentPassword: string, newPassword: string) =>
      as(
        cookie,
        "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { __typename ... on ValidationError { field } } }",
        { c: currentPassword, n: newPassword },
      );
    expect((await change(first.cookie, "not her password", "a brand new secret")).data).toEqual({
      changePassword: { __typename: "ValidationError", field: "currentPassword" },
    });
    expect((await change(first.cookie, "alice long secret", "a brand new secret")).data).toEqual({
      changePassword: { __typename: "ChangePasswordSuccess" },
    });
    expect((await as(first.cookie, "{ me { name } }")).data).toEqual({ me: { name: "alice" } });
    expect((await as(second.cookie, "{ me { name } }")).status).toBe(401);
    expect((await login("alice", "alice long secret")).status).toBe(401);
    expect((await login("alice", "a brand new secret")).status).toBe(200);
    // An operator cannot change users at all.
    expect((await as(first.cookie, `mutation { updateUser(id: "${admin.id}", disabled: true) { __typename } }`)).status).toBe(403);
    // A token cannot change its user's password.
    expect(
      (
        await graphql(
          'mutation { changePassword(currentPassword: "a brand new secret", newPassword: "another new secret") { __typename ... on ValidationError { field } } }',
          bearer("alice-ci"),
        )
      ).data,
    ).toEqual({
      changePassword: { __typename: "ValidationError", field: "currentPassword" },
    });
  }, 30_000);

  it("keeps a user's tokens through a password change unless asked, and signs out everywhere", async () => {
    await asAdmin('mutation { createUser(username: "bob", password: "bob long secret 1", role: operator) { __typename } }');
    const login = async (password: string) => cookieOf((await post("/auth/login", { username: "bob", password })).headers["set-cookie"]);
    const as = (cookie: string, query: string) => graphql(query, { cookie, "x-kiln-csrf": "1" });
    const token = async (cookie: string, name: string) => {
      const r = await as(
        cookie,
        `mutation { createApiToken(name: "${name}", scope: operate) { ... on CreateApiTokenSuccess { data { secret } } } }`,
      );
      return (r.data as { createApiToken: { data: { secret: string } } }).createApiToken.data.secret;
    };
    const works = async (secret: string) => (await graphql("{ me { name } }", { authorization: `Bearer ${secret}` })).status;
    let session = await login("bob long secret 1");
    const ci = await token(session, "bob-ci");
    const change = (cookie: string, from: string, to: string, revoke: boolean) =>
      as(cookie, `mutation { changePassword(currentPassword: "${from}", newPassword: "${to}", revokeTokens: ${revoke}) { __typename } }`);
    expect((await change(session, "bob long secret 1", "bob long secret 2", false)).data).toEqual({
      changePassword: { __typename: "ChangePasswordSuccess" },
    });
    // Said in the API: tokens are credentials of their own and stay...
    expect(await works(ci)).toBe(200);
    // ...unless the change revokes them.
    expect((await change(session, "bob long secret 2", "bob long secret 3", true)).data).toEqual({
      changePassword: { __typename: "ChangePasswordSuccess" },
    });
    expect(await works(ci)).toBe(401);
    // Sign out everywhere: every session (this one, the one the changes were made in, another) and every token.
    session = await login("bob long secret 3");
    const other = await login("bob long secret 3");
    const second = await token(session, "bob-2");
    expect((await graphql("mutation { signOutEverywhere { __typename } }", { authorization: `Bearer ${second}` })).data).toEqual({
      signOutEverywhere: { __typename: "ValidationError" },
    });
    expect(
      (await as(session, "mutation { signOutEverywhere { ... on SignOutEverywhereSuccess { data { sessionsEnded tokensRevoked } } } }"))
        .data,
    ).toEqual({
      signOutEverywhere: { data: { sessionsEnded: 3, tokensRevoked: 1 } },
    });
    expect((await as(session, "{ me { name } }")).status).toBe(401);
    expect((await as(other, "{ me { name } }")).status).toBe(401);
    expect(await works(second)).toBe(401);
    expect(await kiln.database.db.auditEvent.count({ where: { action: "auth.sign_out_everywhere", actor: "bob" } })).toBe(1);
  });

  it("shows who started a job: admins see the token, everyone else the person behind it", async () => {
    const db = kiln.database.db;
    const host = await db.host.create({ data: { name: "rack-9", transport: "local" } });
    const drive = await db.drive.create({ data: { hostId: host.id, serial: "CREATED-BY-1", model: "M" } });
    const job = await db.burnInJob.create({
      data: { driveId: drive.id, serial: drive.serial, profile: "quick", status: "passed", createdBy: "token nightly-secret-ci (admin)" },
    });
    const made = await asAdmin(
      'mutation { createApiToken(name: "wallboard", scope: read) { ... on CreateApiTokenSuccess { data { secret } } } }',
    );
    const read = (made.data as { createApiToken: { data: { secret: string } } }).createApiToken.data.secret;
    const query = `{ job(id: "${job.id}") { createdBy } }`;
    expect((await asAdmin(query)).data).toEqual({ job: { createdBy: "token nightly-secret-ci (admin)" } });
    expect((await graphql(query, { authorization: `Bearer ${read}` })).data).toEqual({ job: { createdBy: "admin (token)" } });
    const csv = await rawRequest(kiln.url, {
      method: "GET",
      path: "/api/jobs.csv?serial=CREATED-BY-1",
      headers: { authorization: `Bearer ${read}` },
    });
    expect(csv.body).toContain(",admin (token),");
    expect(csv.body).not.toContain("nightly-secret-ci");
  });

  it("rate-limits failed sign-ins and never says which part was wrong; logout ends the session", async () => {
    await asAdmin('mutation { createUser(username: "ops", password: "another long secret", role: operator) { __typename } }');
    const wrongUser = await post("/auth/login", { username: "nobody", password: "whatever whatever" });
    const wrongPassword = await post("/auth/login", { username: "ops", password: "not the password" });
    expect([wrongUser.status, wrongUser.json]).toEqual([401, { error: "wrong user name or password" }]);
    expect([wrongPassword.status, wrongPassword.json]).toEqual([401, { error: "wrong user name or password" }]);
    for (let i = 0; i < 3; i++) await post("/auth/login", { username: "ops", password: "not the password" });
    // 5 failures from this address: locked now, even with the right password.
    const locked = await post("/auth/login", { username: "ops", password: "another long secret" });
    expect(locked.status).toBe(429);
    expect(locked.json.error).toMatch(/^too many failed sign-ins: try again in \d+ min$/);
    expect(await kiln.database.db.auditEvent.count({ where: { action: "auth.login_failed", actor: "ops" } })).toBe(4);
    expect(await kiln.database.db.auditEvent.count({ where: { action: "auth.login_locked", actor: "ops" } })).toBe(1);

    // Signing out ends the session: the cookie is dead afterwards.
    expect((await post("/auth/logout", {}, { cookie: adminCookie })).status).toBe(200);
    expect((await graphql("{ me { name } }", { cookie: adminCookie, "x-kiln-csrf": "1" })).status).toBe(401);
  });

  it("lists a scope for every root field (a new mutation is admin-only until someone decides)", () => {
    for (const [root, type] of [
      ["Query", schema.getQueryType()],
      ["Mutation", schema.getMutationType()],
      ["Subscription", schema.getSubscriptionType()],
    ] as const) {
      const listed = Object.keys(ROOT_FIELD_SCOPES[root]).sort();
      expect(Object.keys(type?.getFields() ?? {}).sort(), root).toEqual(listed);
    }
    expect(printSchema(schema)).toContain("enum Scope");
  });

  it("has no field that could hand out a secret, whatever the caller's scope", () => {
    // Below the root, every field is readable by whoever may call the root field: so no type
    // carries password or token hashes, key material or passphrases. The only secret is a new
    // token's, in the answer to the mutation that made it. NotificationChannel.secretsSet names
    // which of a channel's secrets are set, never their values (notifications.test.ts checks that).
    const secretish = /password|hash|secret|private|passphrase|keyPath|cookie/i;
    const found: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      // Output types only: inputs (a key's path in addHost) are written by admins, never read back.
      if (type.name.startsWith("__") || !(isObjectType(type) || isInterfaceType(type)) || type.name === "Mutation") continue;
      for (const field of Object.keys(type.getFields())) if (secretish.test(field)) found.push(`${type.name}.${field}`);
    }
    expect(found.sort()).toEqual(["CreatedApiToken.secret", "NotificationChannel.secretsSet"]);
  });

  it("accepts KILN_AUTH=off only on loopback", () => {
    expect(() => loadConfig(["--host", "0.0.0.0"], { KILN_AUTH: "off" })).toThrow(
      /^KILN_AUTH: off is accepted only when Kiln listens on loopback/,
    );
    expect(loadConfig(["--host", "127.0.0.1"], { KILN_AUTH: "off" }).api.auth).toBe(false);
  });
});
