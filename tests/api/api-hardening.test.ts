// The HTTP API's defences, over real HTTP: what a hostile web page, a rebound DNS name or a
// hostile client can send, and what Kiln does with it. Nothing refused here is executed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { gql } from "../helpers/graphql.js";
import { rawRequest } from "../helpers/raw-http.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

const SET_POLL = 'mutation { setSetting(key: "pollSeconds", value: "7") { __typename } }';

describe("the GraphQL endpoint's defences", () => {
  let kiln: RunningKiln;
  const pollSeconds = async () =>
    (await gql<{ settings: { pollSeconds: number } }>(kiln.url, "{ settings { pollSeconds } }")).data?.settings.pollSeconds;

  beforeAll(async () => {
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir()], { KILN_INVENTORY_INTERVAL: "0", KILN_AUTH: "off" }),
      () => {},
    );
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it("refuses form, multipart and text POSTs (a cross-site form can send those) without running them", async () => {
    const sent = [
      { "content-type": "application/x-www-form-urlencoded", body: `query=${encodeURIComponent(SET_POLL)}` },
      {
        "content-type": "multipart/form-data; boundary=x",
        body: `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: SET_POLL })}\r\n--x--\r\n`,
      },
      { "content-type": "text/plain", body: JSON.stringify({ query: SET_POLL }) },
    ];
    for (const { body, ...headers } of sent) {
      const response = await rawRequest(kiln.url, { headers: { ...headers, origin: "https://evil.example" }, body });
      expect(response.status, headers["content-type"]).toBe(415);
      expect(response.body).toMatch(/POST bodies must be application\/json/);
    }
    expect(await pollSeconds()).toBe(2);
    // The same mutation as JSON runs (the endpoint works; it was the form that was refused).
    expect((await gql(kiln.url, SET_POLL)).data).toEqual({ setSetting: { __typename: "SetSettingSuccess" } });
    expect(await pollSeconds()).toBe(7);
  });

  it("answers no CORS headers to another origin, not even to a preflight", async () => {
    const preflight = await rawRequest(kiln.url, {
      method: "OPTIONS",
      headers: {
        origin: "https://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    expect(preflight.headers["access-control-allow-credentials"]).toBeUndefined();
    const post = await rawRequest(kiln.url, {
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ query: "{ settings { pollSeconds } }" }),
    });
    expect(post.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("refuses a Host it does not answer to (DNS rebinding) before reading anything", async () => {
    const rebound = await rawRequest(kiln.url, {
      headers: { host: "evil.example", "content-type": "application/json" },
      body: JSON.stringify({ query: SET_POLL.replace('"7"', '"9"') }),
    });
    expect(rebound.status).toBe(421);
    expect(rebound.body).toMatch(/does not answer to host "evil.example"/);
    expect((await rawRequest(kiln.url, { method: "GET", path: "/health", headers: { host: "evil.example" } })).status).toBe(421);
    expect(await pollSeconds()).not.toBe(9);
    const port = new URL(kiln.url).port;
    expect((await rawRequest(kiln.url, { method: "GET", path: "/health", headers: { host: `localhost:${port}` } })).status).toBe(200);
  });

  it("refuses a body over 1 MiB, or one that does not say its length, without parsing it", async () => {
    const big = JSON.stringify({ query: `{ settings { pollSeconds } }${" ".repeat(2 << 20)}` });
    const tooBig = await rawRequest(kiln.url, { headers: { "content-type": "application/json" }, body: big });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toMatch(/over the limit of 1048576/);
    const chunked = await rawRequest(kiln.url, {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: SET_POLL }),
      chunked: true,
    });
    expect(chunked.status).toBe(411);
  });

  it("refuses costly query shapes before running them: aliases, a list inside itself, depth, cost", async () => {
    const aliases = `{ ${Array.from({ length: 200 }, (_, i) => `a${i}: drives { id }`).join(" ")} }`;
    const cycle = "{ drives { host { drives { host { drives { host { drives { id } } } } } } } }";
    const viaFragment = "{ drives { ...D } } fragment D on Drive { host { drives { id } } }";
    // 14 levels of one job resuming the next: cheap, but deeper than any real query.
    const deep = `{ job(id: "x") { ${"resumedBy { ".repeat(13)}id${" }".repeat(13)} } }`;
    const costly =
      "{ jobs(first: 500) { edges { node { stages { surfaceScan { history { phase startedAt } badBlockList } log name } } } } }";
    const answers = await Promise.all([aliases, cycle, viaFragment, deep, costly].map((q) => gql(kiln.url, q)));
    const messages = answers.map((a) => {
      // Refused in validation (no data) or before the root field resolved (its value null).
      expect(Object.values(a.data ?? {}).every((v) => v === null)).toBe(true);
      return a.errors?.map((e) => e.message).join(" | ");
    });
    expect(messages[0]).toMatch(/Aliases limit of 15 exceeded/);
    expect(messages[1]).toBe("Host.drives lists Drive inside a list of Drive: Kiln refuses nested lists of one type");
    expect(messages[2]).toBe(messages[1]);
    expect(messages[3]).toBe("Query exceeds maximum depth (depth: 15, max: 12)");
    expect(messages[4]).toMatch(/complexity/i);
  });

  it("runs no batches, no mutation over GET, and masks what it did not expect", async () => {
    const batch = await rawRequest(kiln.url, {
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ query: "{ settings { pollSeconds } }" }, { query: SET_POLL }]),
    });
    expect(batch.status).toBeGreaterThanOrEqual(400);
    const viaGet = await rawRequest(kiln.url, {
      method: "GET",
      path: `/graphql?query=${encodeURIComponent(SET_POLL)}`,
      headers: { accept: "application/json" },
    });
    expect(viaGet.status).toBe(405);
    // A bad cursor is said to be bad without echoing what was sent.
    const cursor = await gql<{ jobs: unknown }>(kiln.url, '{ jobs(after: "not-a-cursor-<script>") { edges { cursor } } }');
    expect(cursor.errors?.map((e) => e.message)).toEqual([
      "after: is not a cursor of this list in this order: pass an endCursor from an earlier page",
    ]);
    const auditCursor = await gql<{ auditEvents: unknown }>(kiln.url, '{ auditEvents(after: "<script>") { edges { cursor } } }');
    expect(auditCursor.errors?.map((e) => e.message)).toEqual(["Invalid cursor: pass a cursor from an earlier page of the same list"]);
  });
});

describe("the endpoint configured for a network", () => {
  let kiln: RunningKiln;
  beforeAll(async () => {
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir()], {
        KILN_INVENTORY_INTERVAL: "0",
        KILN_AUTH: "off",
        KILN_ALLOWED_HOSTS: "kiln.lan",
        KILN_CORS_ORIGINS: "https://dash.example",
        KILN_INTROSPECTION: "0",
        KILN_GRAPHIQL: "0",
      }),
      () => {},
    );
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it("answers its configured name, and CORS for its configured origin only", async () => {
    const query = JSON.stringify({ query: "{ settings { pollSeconds } }" });
    const ok = await rawRequest(kiln.url, {
      headers: { host: "kiln.lan", "content-type": "application/json", origin: "https://dash.example" },
      body: query,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers["access-control-allow-origin"]).toBe("https://dash.example");
    const other = await rawRequest(kiln.url, {
      headers: { host: "kiln.lan", "content-type": "application/json", origin: "https://evil.example" },
      body: query,
    });
    expect(other.headers["access-control-allow-origin"]).not.toBe("https://evil.example");
  });

  it("turns introspection and GraphiQL off", async () => {
    const schema = await gql(kiln.url, "{ __schema { types { name } } }");
    expect(schema.data).toBeUndefined();
    expect(schema.errors?.[0]?.message).toMatch(/introspection/i);
    const page = await rawRequest(kiln.url, { method: "GET", path: "/graphql", headers: { accept: "text/html" } });
    expect(page.body).not.toMatch(/graphiql/i);
  });

  it("refuses a bad list of hosts or origins at start, naming the setting", () => {
    expect(() => loadConfig([], { KILN_ALLOWED_HOSTS: "kiln.lan, evil host" })).toThrow(
      /^KILN_ALLOWED_HOSTS: "evil host" is not a valid entry$/,
    );
    expect(() => loadConfig([], { KILN_CORS_ORIGINS: "*" })).toThrow(/^KILN_CORS_ORIGINS: "\*" is not a valid entry$/);
    expect(() => loadConfig([], { KILN_INTROSPECTION: "maybe" })).toThrow(/^KILN_INTROSPECTION: "maybe" is not on or off/);
  });
});
