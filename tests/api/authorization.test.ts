// Authorization where fields execute: every root field of the schema, in every spelling a client
// can send (plain, aliased, typed and untyped inline fragments, a spread, fragments nested in
// fragments, under a directive), with every role's session and every scope's token, over HTTP
// (POST, and SSE for subscriptions) and over graphql-ws. A caller with too small a scope gets
// FORBIDDEN naming the field and the scope, and the field's resolver never runs; one with enough
// gets past the check. The exploits found from outside (a read token creating an admin inside
// `... on Mutation`, starting a burn-in through a spread, reading the audit log) are replayed
// with real arguments and change nothing.
import type { Client as WsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT_FIELD_SCOPES } from "../../server/auth/scopes.js";
import { allows, type Scope } from "../../server/auth/viewer.js";
import { loadConfig } from "../../server/config.js";
import { publishJobEvent } from "../../server/events/pubsub.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { schema } from "../../server/schema/index.js";
import { rawRequest } from "../helpers/raw-http.js";
import { type RootCall, rootCalls, SHAPES } from "../helpers/root-field-shapes.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";
import { graphqlWsClient } from "../helpers/ws-client.js";

type GqlError = { message: string; extensions?: { code?: string } };
type Answer = { status: number; data?: Record<string, unknown> | null; errors?: GqlError[] };

interface Credential {
  name: string;
  scope: Scope;
  headers: Record<string, string>;
  /** For graphql-ws: the cookie on the upgrade request, or the token as a connection parameter. */
  cookie?: string;
  token?: string;
}

const allCalls = rootCalls(schema);
/** Fields that end the caller's own credentials when allowed: run last, each with a fresh session. */
const ENDS_CREDENTIALS = new Set(["signOutEverywhere"]);
const calls = allCalls.filter((c) => !ENDS_CREDENTIALS.has(c.field.name));
const endingCalls = allCalls.filter((c) => ENDS_CREDENTIALS.has(c.field.name));
const REFUSALS = new Set(["FORBIDDEN", "UNAUTHENTICATED"]);

/** Runs `work` over `items`, `width` at a time. */
async function pooled<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i] as T);
      }
    }),
  );
  return results;
}

describe("authorization of every root field in every shape", () => {
  let kiln: RunningKiln;
  const credentials: Credential[] = [];
  const wsClients: WsClient[] = [];
  let demoDrive = { driveId: "", hostId: "" };

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const r = await rawRequest(kiln.url, { path, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    return { status: r.status, headers: r.headers, json: JSON.parse(r.body || "{}") as Record<string, unknown> };
  };
  const graphql = async (query: string, headers: Record<string, string>, variables: Record<string, unknown> = {}): Promise<Answer> => {
    const r = await rawRequest(kiln.url, {
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: r.status, ...(JSON.parse(r.body) as Omit<Answer, "status">) };
  };
  const session = async (username: string, password: string) => {
    const r = await post("/auth/login", { username, password });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return String(r.headers["set-cookie"]).split(";")[0] as string;
  };
  const tokenFor = async (cookie: string, name: string, scope: Scope) => {
    const r = await graphql(
      "mutation($n: String!, $s: Scope!) { createApiToken(name: $n, scope: $s) { ... on CreateApiTokenSuccess { data { secret } } } }",
      { cookie, "x-kiln-csrf": "1" },
      { n: name, s: scope },
    );
    return (r.data as { createApiToken: { data: { secret: string } } }).createApiToken.data.secret;
  };

  /** Publishes one event a subscription of `field` would carry. */
  const publishFor = (field: string) => {
    if (field === "jobUpdates") {
      publishJobEvent(kiln.pubsub, {
        jobId: "job-x",
        driveId: "drive-x",
        hostId: "host-x",
        status: "running",
        lease: 1,
        progressPct: 1,
        startedAt: Date.now(),
        at: Date.now(),
        stage: null,
      });
    } else if (field === "driveUpdated") kiln.pubsub.publish("drives", demoDrive);
    else if (field === "hostUpdated") kiln.pubsub.publish("hosts", { hostId: demoDrive.hostId, removed: false });
  };

  /** A subscription over SSE: its first result (an event published once the stream is open). */
  const overSse = async (call: RootCall, headers: Record<string, string>): Promise<Answer> => {
    const controller = new AbortController();
    const url = `${kiln.url}/graphql?query=${encodeURIComponent(call.document)}`;
    try {
      const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal });
      if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
        return { status: response.status, ...((await response.json()) as Omit<Answer, "status">) };
      }
      const reader = response.body?.getReader();
      if (!reader) throw new Error("no body");
      // The stream is open (headers sent): what is published from now on reaches it.
      publishFor(call.field.name);
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream of ${call.document} ended without a result`);
        buffer += decoder.decode(value, { stream: true });
        const frame = /event: next\ndata: (.*)\n\n/.exec(buffer);
        if (frame?.[1]) return { status: response.status, ...(JSON.parse(frame[1]) as Omit<Answer, "status">) };
      }
    } finally {
      controller.abort();
    }
  };

  const wsClientFor = (credential: Credential): WsClient => {
    const headers: Record<string, string> = credential.cookie ? { cookie: credential.cookie } : {};
    const client = graphqlWsClient(kiln.url, credential.token ? { authorization: `Bearer ${credential.token}` } : {}, headers);
    wsClients.push(client);
    return client;
  };

  /** One operation over graphql-ws: its first result or error. Subscriptions get events published until one arrives. */
  const overWs = (client: WsClient, call: RootCall): Promise<Answer> =>
    new Promise((resolve, reject) => {
      let publisher: NodeJS.Timeout | null = null;
      let settled = false;
      const settle = (answer: Answer | Error) => {
        if (settled) return;
        settled = true;
        if (publisher) clearInterval(publisher);
        unsubscribe();
        if (answer instanceof Error) reject(answer);
        else resolve(answer);
      };
      const unsubscribe = client.subscribe<Record<string, unknown>>(
        { query: call.document },
        {
          next: (result) => settle({ status: 200, data: result.data ?? null, errors: result.errors as GqlError[] | undefined }),
          error: (error) =>
            Array.isArray(error)
              ? settle({ status: 200, errors: error as GqlError[] })
              : settle(error instanceof Error ? error : new Error(`socket error for ${call.document}: ${JSON.stringify(error)}`)),
          complete: () => settle(new Error(`${call.document} completed without a result`)),
        },
      );
      // graphql-ws says nothing when a subscription is set up: publish until its first event.
      if (call.root === "Subscription" && call.field.name !== "jobProgress") {
        publisher = setInterval(() => publishFor(call.field.name), 50);
      }
    });

  const expectVerdict = (call: RootCall, credential: Credential, answer: Answer, transport: string) => {
    const need = ROOT_FIELD_SCOPES[call.root][call.field.name] ?? "admin";
    const where = `${transport} ${credential.name}: ${call.document}`;
    const refusals = (answer.errors ?? []).filter((e) => REFUSALS.has(e.extensions?.code ?? ""));
    if (allows(credential.scope, need)) {
      expect(refusals, where).toEqual([]);
      return;
    }
    expect(
      refusals.map((e) => e.extensions?.code),
      where,
    ).toContain("FORBIDDEN");
    expect(refusals[0]?.message, where).toMatch(new RegExp(`^${call.field.name} needs the ${need} scope`));
    expect(answer.data?.[call.key] ?? null, where).toBeNull();
    if (transport === "HTTP") expect(answer.status, where).toBe(403);
  };

  beforeAll(async () => {
    kiln = await startKiln(loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], { KILN_INVENTORY_INTERVAL: "0" }), () => {});
    const drive = await kiln.database.db.drive.findFirstOrThrow();
    demoDrive = { driveId: drive.id, hostId: drive.hostId };
    const setup = await post("/auth/setup", { username: "admin", password: "correct horse battery" });
    expect(setup.status).toBe(201);
    const admin = String(setup.headers["set-cookie"]).split(";")[0] as string;
    for (const [username, role] of [
      ["oscar", "operator"],
      ["vera", "viewer"],
    ] as const) {
      const created = await graphql(
        'mutation($u: String!, $r: Role!) { createUser(username: $u, password: "a long enough secret", role: $r) { __typename } }',
        { cookie: admin, "x-kiln-csrf": "1" },
        { u: username, r: role },
      );
      expect(created.data).toEqual({ createUser: { __typename: "CreateUserSuccess" } });
    }
    const operator = await session("oscar", "a long enough secret");
    const viewer = await session("vera", "a long enough secret");
    const asSession = (name: string, scope: Scope, cookie: string): Credential => ({
      name,
      scope,
      cookie,
      headers: { cookie, "x-kiln-csrf": "1" },
    });
    const asToken = (name: string, scope: Scope, token: string): Credential => ({
      name,
      scope,
      token,
      headers: { authorization: `Bearer ${token}` },
    });
    credentials.push(
      asSession("viewer session", "read", viewer),
      asSession("operator session", "operate", operator),
      asSession("admin session", "admin", admin),
      asToken("viewer's read token", "read", await tokenFor(viewer, "vera-read", "read")),
      asToken("operator's operate token", "operate", await tokenFor(operator, "oscar-operate", "operate")),
      asToken("admin's read token", "read", await tokenFor(admin, "admin-read", "read")),
      asToken("admin's operate token", "operate", await tokenFor(admin, "admin-operate", "operate")),
      asToken("admin's admin token", "admin", await tokenFor(admin, "admin-admin", "admin")),
    );
  });
  afterAll(async () => {
    for (const client of wsClients) await client.dispose();
    await kiln?.stop();
    removeTempDirs();
  });

  it("generates every shape of every root field (a new field is covered by itself)", () => {
    for (const root of ["Query", "Mutation"] as const) {
      const fields = Object.keys(ROOT_FIELD_SCOPES[root]);
      for (const field of fields) {
        const shapes = allCalls.filter((c) => c.root === root && c.field.name === field).map((c) => c.shape);
        expect(shapes, `${root}.${field}`).toEqual([...SHAPES]);
      }
    }
    // graphql-js refuses directives on a subscription's root selection; every other shape runs.
    for (const field of Object.keys(ROOT_FIELD_SCOPES.Subscription)) {
      const shapes = allCalls.filter((c) => c.root === "Subscription" && c.field.name === field).map((c) => c.shape);
      expect(shapes, `Subscription.${field}`).toEqual(expect.arrayContaining(["plain", "aliased", "inline", "spread", "nested"]));
    }
  });

  it("over HTTP: the same check for every shape, role and scope; nobody signed in is refused", async () => {
    const work = credentials.flatMap((credential) => calls.map((call) => ({ credential, call })));
    await pooled(work, 6, async ({ credential, call }) => {
      const answer =
        call.root === "Subscription" ? await overSse(call, credential.headers) : await graphql(call.document, credential.headers);
      expectVerdict(call, credential, answer, "HTTP");
    });
    for (const call of calls) {
      const answer = call.root === "Subscription" ? await overSse(call, {}) : await graphql(call.document, {});
      expect([answer.status, answer.errors?.[0]?.extensions?.code], call.document).toEqual([401, "UNAUTHENTICATED"]);
    }
  }, 300_000);

  it("over graphql-ws: the same check for every shape, role and scope", async () => {
    await pooled(credentials, credentials.length, async (credential) => {
      const client = wsClientFor(credential);
      for (const call of calls) expectVerdict(call, credential, await overWs(client, call), "WS");
    });
  }, 300_000);

  it("replays the exploits found from outside: refused, and nothing is written", async () => {
    const viewerToken = credentials.find((c) => c.name === "viewer's read token") as Credential;
    const viewerSession = credentials.find((c) => c.name === "viewer session") as Credential;
    const before = {
      users: await kiln.database.db.user.count(),
      jobs: await kiln.database.db.burnInJob.count(),
      settings: await kiln.database.db.setting.count(),
    };
    const createAdmin = await graphql(
      'mutation { ... on Mutation { createUser(username: "pwned", password: "pwned-password-1", role: admin) { __typename } } }',
      viewerToken.headers,
    );
    expect(createAdmin).toMatchObject({ status: 403, data: null, errors: [{ extensions: { code: "FORBIDDEN" } }] });
    expect((await post("/auth/login", { username: "pwned", password: "pwned-password-1" })).status).toBe(401);
    const start = await graphql(
      'mutation { ...Start } fragment Start on Mutation { startBurnIn(driveIds: ["any"], profile: full) { __typename } }',
      viewerToken.headers,
    );
    expect(start).toMatchObject({ status: 403, errors: [{ message: expect.stringMatching(/^startBurnIn needs the operate scope/) }] });
    const setting = await graphql(
      'mutation { ... { a: setSetting(key: "maxConcurrentJobs", value: "1") { __typename } } }',
      viewerSession.headers,
    );
    expect(setting).toMatchObject({ status: 403, errors: [{ message: expect.stringMatching(/^setSetting needs the admin scope/) }] });
    const read = await graphql(
      "query { ...F } fragment F on Query { users { username } auditEvents(first: 5) { edges { node { action } } } }",
      viewerToken.headers,
    );
    expect(read.status).toBe(403);
    expect(JSON.stringify(read.data ?? null)).not.toContain("admin");
    // Either refusal ends the whole answer (both fields are non-null): no part of it is given.
    expect(read.errors?.length).toBeGreaterThan(0);
    for (const error of read.errors ?? [])
      expect(error.message).toMatch(/^(users|auditEvents) needs the admin scope; the token "vera-read"/);
    expect({
      users: await kiln.database.db.user.count(),
      jobs: await kiln.database.db.burnInJob.count(),
      settings: await kiln.database.db.setting.count(),
    }).toEqual(before);
  });
  it("checks the fields that end the caller's own credentials too, each call with a fresh session, over HTTP and graphql-ws", async () => {
    expect(endingCalls.length).toBeGreaterThan(0);
    const tokens = credentials.filter((c) => c.token);
    // Tokens first: their calls leave every credential as it is (a token cannot sign out).
    for (const credential of tokens) {
      const client = wsClientFor(credential);
      for (const call of endingCalls) {
        expectVerdict(call, credential, await graphql(call.document, credential.headers), "HTTP");
        expectVerdict(call, credential, await overWs(client, call), "WS");
      }
    }
    for (const [username, scope] of [
      ["vera", "read"],
      ["oscar", "operate"],
      ["admin", "admin"],
    ] as const) {
      const password = username === "admin" ? "correct horse battery" : "a long enough secret";
      for (const call of endingCalls) {
        const http = await session(username, password);
        const viaHttp: Credential = {
          name: `${username}'s fresh session`,
          scope,
          cookie: http,
          headers: { cookie: http, "x-kiln-csrf": "1" },
        };
        expectVerdict(call, viaHttp, await graphql(call.document, viaHttp.headers), "HTTP");
        const ws = await session(username, password);
        const viaWs: Credential = { name: `${username}'s fresh session`, scope, cookie: ws, headers: {} };
        expectVerdict(call, viaWs, await overWs(wsClientFor(viaWs), call), "WS");
      }
    }
  });
});
