// Live data through the real client packages: graphql-ws over WebSocket and graphql-sse over
// Server-Sent Events, on one /graphql, with accounts on. A job's stream starts with its state
// and ends with it; a dashboard's stream filters by host and status; inventory refreshes reach
// driveUpdated and hostUpdated. The socket keeps the trust boundary: no token, a foreign Origin,
// a foreign Host or too small a scope gets nothing; a revoked token's stream ends.

import { request as httpRequest } from "node:http";
import { Kind, parse, validate } from "graphql";
import { createClient as createSseClient } from "graphql-sse";
import type { Client as WsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { loadConfig } from "../../server/config.js";
import { publishJobEvent } from "../../server/events/pubsub.js";
import { GRAPHIQL_DOCUMENT } from "../../server/graphiql-document.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { schema } from "../../server/schema/index.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { waitsBudget } from "../helpers/burn-in-host.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";
import { graphqlWsClient } from "../helpers/ws-client.js";

type Result<T> = { data?: T | null; errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> };

/** Every result of one operation until the server completes it (or `limit` results). */
async function collect<T>(results: AsyncIterable<Result<T>>, limit = Number.POSITIVE_INFINITY): Promise<Array<Result<T>>> {
  const seen: Array<Result<T>> = [];
  for await (const result of results) {
    seen.push(result);
    if (seen.length >= limit) break;
  }
  return seen;
}

describe("live data over graphql-ws and graphql-sse", () => {
  let kiln: RunningKiln;
  let creds: Credentials;
  let wsUrl: string;
  const wsClients: WsClient[] = [];

  const wsClient = (connectionParams: Record<string, unknown>, options: { origin?: string; cookie?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (options.origin) headers.origin = options.origin;
    if (options.cookie) headers.cookie = options.cookie;
    const client = graphqlWsClient(kiln.url, connectionParams, headers);
    wsClients.push(client);
    return client;
  };
  const startSimulated = async (driveId: string, seconds = 3) => {
    const r = await gqlAs<{ startBurnIn: { data: Array<{ id: string }> } }>(
      kiln.url,
      creds.tokens.operate,
      "mutation($ids: [ID!]!, $s: Float) { startBurnIn(driveIds: $ids, profile: simulate, options: { simulateSeconds: $s, simulateHz: 10 }) { ... on StartBurnInSuccess { data { id } } } }",
      { ids: [driveId], s: seconds },
    );
    const id = r.data?.startBurnIn.data[0]?.id;
    if (!id) throw new Error(`startBurnIn: ${JSON.stringify(r)}`);
    return id;
  };
  let drives: Array<{ id: string; host: { id: string } }> = [];
  /** A graphql-sse client; `connected` resolves once the server has answered `streams` of its streams. */
  const sseClient = (token: string, streams: number) => {
    let opened = 0;
    let allOpen: () => void = () => {};
    const connected = new Promise<void>((resolve) => {
      allOpen = resolve;
    });
    const client = createSseClient({
      url: `${kiln.url}/graphql`,
      headers: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      on: {
        connected: () => {
          opened += 1;
          if (opened === streams) allOpen();
        },
      },
    });
    return { client, connected };
  };

  beforeAll(async () => {
    kiln = await startKiln(loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], { KILN_INVENTORY_INTERVAL: "0" }), () => {});
    wsUrl = `${kiln.url.replace(/^http/, "ws")}/graphql`;
    creds = await setUpAccounts(kiln.url);
    const r = await gqlAs<{ drives: typeof drives }>(kiln.url, creds.tokens.read, "{ drives { id host { id } } }");
    drives = r.data?.drives ?? [];
    expect(drives).toHaveLength(4);
  });
  afterAll(async () => {
    for (const c of wsClients) await c.dispose();
    await kiln?.stop();
    removeTempDirs();
  });

  it(
    "follows one job over graphql-ws: its state first, every update, then the end",
    async () => {
      const client = wsClient({ authorization: `Bearer ${creds.tokens.read}` });
      const jobId = await startSimulated(drives[0]?.id as string);
      type E = {
        jobProgress: {
          jobId: string;
          hostId: string;
          status: string;
          progressPct: number;
          stageName: string | null;
          elapsedSeconds: number | null;
          etaSeconds: number | null;
        };
      };
      const results = await collect<E>(
        client.iterate({
          query:
            "subscription($id: ID!) { jobProgress(jobId: $id) { jobId hostId status progressPct stageName elapsedSeconds etaSeconds } }",
          variables: { id: jobId },
        }),
      );
      expect(results.every((r) => !r.errors)).toBe(true);
      const events = results.map((r) => r.data?.jobProgress as E["jobProgress"]);
      // The first event is the state at subscription time: queued or already running.
      expect(["queued", "running"]).toContain(events[0]?.status);
      expect(events[0]?.jobId).toBe(jobId);
      expect(events[0]?.hostId).toBe(drives[0]?.host.id);
      // The stream ended by itself with the job.
      expect(events.at(-1)).toMatchObject({ status: "passed", progressPct: 100, etaSeconds: null });
      const running = events.filter((e) => e.status === "running" && e.stageName === "simulate");
      expect(running.length).toBeGreaterThan(5);
      for (const e of running) {
        expect(e.elapsedSeconds).not.toBeNull();
        // No ETA below 0.5% overall; an ETA from then on.
        if (e.progressPct < 0.5) expect(e.etaSeconds).toBeNull();
        else expect(e.etaSeconds).toBeGreaterThanOrEqual(0);
      }
      for (let i = 1; i < running.length; i++) {
        expect(running[i]?.progressPct).toBeGreaterThanOrEqual(running[i - 1]?.progressPct ?? 0);
        expect(running[i]?.elapsedSeconds).toBeGreaterThanOrEqual(running[i - 1]?.elapsedSeconds ?? 0);
      }
      // A job that has ended: one event, its final state, and the stream completes.
      const again = await collect<E>(
        client.iterate({ query: "subscription($id: ID!) { jobProgress(jobId: $id) { status } }", variables: { id: jobId } }),
      );
      expect(again.map((r) => r.data?.jobProgress.status)).toEqual(["passed"]);
      // An unknown job: one result with the error, and the operation ends.
      const missing = await collect(client.iterate({ query: 'subscription { jobProgress(jobId: "no-such-job") { status } }' }));
      expect(missing).toMatchObject([{ errors: [{ message: "job no-such-job not found", extensions: { code: "NOT_FOUND" } }] }]);
    },
    waitsBudget(1),
  );

  it(
    "streams a dashboard over graphql-sse, filtered by host and status",
    async () => {
      const { client, connected } = sseClient(creds.tokens.read, 2);
      type E = { jobUpdates: { jobId: string; status: string } };
      const finished = client.iterate<E>({
        query: "subscription($h: ID) { jobUpdates(hostId: $h, status: [passed, failed]) { jobId status } }",
        variables: { h: drives[1]?.host.id },
      });
      const everything = client.iterate<E>({ query: "subscription { jobUpdates { jobId status } }" });
      const first = finished.next();
      const all = everything.next();
      // graphql-sse opens its streams when iterated: wait until the server answered both.
      await connected;
      const a = await startSimulated(drives[1]?.id as string, 1);
      const b = await startSimulated(drives[2]?.id as string, 1);
      const seen: string[] = [];
      let result = await first;
      for (;;) {
        const e = (result.value as Result<E>).data?.jobUpdates;
        if (e) seen.push(`${e.jobId}:${e.status}`);
        if (seen.length === 2) break;
        result = await finished.next();
      }
      // Only ended jobs, of both drives (the demo host has them all), each once.
      expect(seen.sort()).toEqual([`${a}:passed`, `${b}:passed`].sort());
      expect(((await all).value as Result<E>).data?.jobUpdates.jobId).toBe(a);
      await finished.return?.();
      await everything.return?.();
      client.dispose();
    },
    waitsBudget(1),
  );

  it("reports inventory refreshes through driveUpdated and hostUpdated", async () => {
    const hostId = drives[0]?.host.id as string;
    const { client, connected } = sseClient(creds.tokens.read, 3);
    type D = { driveUpdated: { id: string; serial: string; host: { id: string } } };
    type H = { hostUpdated: { hostId: string; removed: boolean; host: { status: string } | null } };
    const driveEvents = client.iterate<D>({
      query: "subscription($h: ID) { driveUpdated(hostId: $h) { id serial host { id } } }",
      variables: { h: hostId },
    });
    const otherHost = client.iterate<D>({ query: 'subscription { driveUpdated(hostId: "another-host") { id } }' });
    const hostEvents = client.iterate<H>({ query: "subscription { hostUpdated { hostId removed host { status } } }" });
    const firstDrive = driveEvents.next();
    const firstOther = otherHost.next();
    const firstHost = hostEvents.next();
    await connected;
    const r = await gqlAs(
      kiln.url,
      creds.tokens.operate,
      "mutation($id: ID!) { refreshInventory(hostId: $id, wait: true) { __typename } }",
      {
        id: hostId,
      },
    );
    expect(r.data).toEqual({ refreshInventory: { __typename: "RefreshInventorySuccess" } });
    const seen = new Set<string>();
    let next = firstDrive;
    while (seen.size < 4) {
      const drive = ((await next).value as Result<D>).data?.driveUpdated;
      expect(drive?.host.id).toBe(hostId);
      seen.add(drive?.id as string);
      next = driveEvents.next();
    }
    expect([...seen].sort()).toEqual(drives.map((d) => d.id).sort());
    expect(((await firstHost).value as Result<H>).data?.hostUpdated).toEqual({ hostId, removed: false, host: { status: "ok" } });
    // Another host's filter let nothing of this one through.
    let other = "nothing";
    firstOther.then(() => {
      other = "event";
    });
    await gqlAs(kiln.url, creds.tokens.read, "{ me { name } }");
    expect(other).toBe("nothing");
    client.dispose();
  });

  it("keeps the trust boundary on the socket: token, scope, Origin, Host, revocation", async () => {
    const closeCode = (client: WsClient) =>
      new Promise<number>((resolve) => {
        client.on("closed", (event) => resolve((event as { code: number }).code));
        client
          .iterate({ query: "subscription { hostUpdated { hostId } }" })
          .next()
          .catch(() => {});
      });
    // No credentials, or a wrong token: closed with 4403 before any operation.
    expect(await closeCode(wsClient({}))).toBe(4403);
    expect(await closeCode(wsClient({ authorization: "Bearer kiln_not-a-token" }))).toBe(4403);

    // A page on another site cannot open a socket, even with the operator's session cookie.
    const hostile = new WebSocket(wsUrl, "graphql-transport-ws", { headers: { origin: "http://evil.example", cookie: creds.cookie } });
    const refused = await new Promise<number>((resolve) => hostile.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(refused).toBe(403);
    // Nor can another web app on the same name: another port, or https where Kiln is http.
    for (const origin of ["http://localhost:9999", "https://127.0.0.1", `http://127.0.0.1:${Number(new URL(kiln.url).port) + 1}`]) {
      const sameName = new WebSocket(wsUrl, "graphql-transport-ws", { headers: { origin, cookie: creds.cookie } });
      const status = await new Promise<number>((resolve) =>
        sameName.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
      );
      expect(status, origin).toBe(403);
    }
    // DNS rebinding: a Host header Kiln does not answer to.
    const rebound = new WebSocket(wsUrl, "graphql-transport-ws", { headers: { host: "evil.example" } });
    expect(await new Promise<number>((resolve) => rebound.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)))).toBe(
      421,
    );
    // Kiln's own page (same origin) with the session cookie is fine.
    const own = wsClient({}, { origin: new URL(kiln.url).origin, cookie: creds.cookie });
    const me = await collect<{ me: { name: string; via: string } }>(own.iterate({ query: "{ me { name via } }" }));
    expect(me[0]?.data?.me).toEqual({ name: "admin", via: "session" });

    // A read token over the socket cannot start burn-ins.
    const reader = wsClient({ authorization: `Bearer ${creds.tokens.read}` });
    const start = await collect(
      reader.iterate({ query: `mutation { startBurnIn(driveIds: ["${drives[3]?.id}"], profile: quick) { __typename } }` }),
    );
    expect(start[0]?.errors?.[0]).toMatchObject({
      message: 'startBurnIn needs the operate scope; the token "test-read" of user admin has the read scope',
    });

    // Revoking the token ends its open streams.
    const tokens = await gqlAs<{ apiTokens: Array<{ id: string; name: string }> }>(
      kiln.url,
      creds.tokens.admin,
      "{ apiTokens { id name } }",
    );
    const readId = tokens.data?.apiTokens.find((t) => t.name === "test-read")?.id;
    const stream = reader.iterate({ query: "subscription { hostUpdated { hostId } }" });
    // The stream is live once it carries an event (a refresh publishes the host).
    const first = stream.next();
    for (let settled = false; !settled; ) {
      await gqlAs(kiln.url, creds.tokens.operate, "mutation($id: ID!) { refreshInventory(hostId: $id, wait: true) { __typename } }", {
        id: drives[0]?.host.id,
      });
      settled = await Promise.race([first.then(() => true), gqlAs(kiln.url, creds.tokens.read, "{ me { name } }").then(() => false)]);
    }
    await gqlAs(kiln.url, creds.tokens.admin, "mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }", { id: readId });
    // The refresh's later steps may still be on their way; then the stream ends.
    let next = await stream.next();
    while (!next.done) next = await stream.next();
    expect(next).toEqual({ done: true, value: undefined });
    // A new socket with the revoked token is refused.
    expect(await closeCode(wsClient({ authorization: `Bearer ${creds.tokens.read}` }))).toBe(4403);
  }, 30_000);

  it(
    "opens GraphiQL with Kiln's own document, whose operations run top to bottom on the demo host",
    async () => {
      const page = await fetch(`${kiln.url}/graphql`, { headers: { accept: "text/html" } });
      const html = await page.text();
      expect(html).toContain("subscription FollowJob");
      expect(html).toContain('"subscriptionsProtocol":"WS"');
      const document = parse(GRAPHIQL_DOCUMENT);
      expect(validate(schema, document)).toEqual([]);
      const operations = document.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION && d.name ? [d.name.value] : []));
      expect(operations).toEqual(["Drives", "StartDemoBurnIn", "FollowJob", "History"]);
      const run = <T>(operationName: string, variables: Record<string, unknown> = {}) =>
        fetch(`${kiln.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${creds.tokens.operate}` },
          body: JSON.stringify({ query: GRAPHIQL_DOCUMENT, operationName, variables }),
        }).then((r) => r.json() as Promise<{ data: T }>);

      const listed = await run<{ drives: Array<{ id: string; host: { name: string } }> }>("Drives");
      const demoDrive = listed.data.drives.find((d) => d.host.name === "demo" && d.id === drives[3]?.id);
      expect(demoDrive).toBeDefined();
      const started = await run<{ startBurnIn: { __typename: string; data: Array<{ id: string }> } }>("StartDemoBurnIn", {
        driveIds: [demoDrive?.id],
      });
      expect(started.data.startBurnIn.__typename).toBe("StartBurnInSuccess");
      const jobId = started.data.startBurnIn.data[0]?.id;
      const follower = wsClient({ authorization: `Bearer ${creds.tokens.operate}` });
      const followed = await collect<{ jobProgress: { status: string } }>(
        follower.iterate({ query: GRAPHIQL_DOCUMENT, operationName: "FollowJob", variables: { jobId } }),
      );
      expect(followed.at(-1)?.data?.jobProgress.status).toBe("passed");
      const history = await run<{ jobs: { edges: Array<{ node: { id: string; status: string; verdict: { outcome: string } | null } }> } }>(
        "History",
      );
      expect(history.data.jobs.edges[0]?.node).toMatchObject({ id: jobId, status: "passed", verdict: { outcome: "passed" } });
    },
    waitsBudget(1),
  );

  it("gives every dashboard, even one that stops reading, the latest state of each job at most twice a second, not a backlog", async () => {
    const query = "subscription { jobUpdates { jobId progressPct } }";
    const url = `${kiln.url}/graphql?query=${encodeURIComponent(query)}`;
    const headers = { accept: "text/event-stream", authorization: `Bearer ${creds.tokens.operate}` };
    // A reader that stops reading once it has its headers, and one that reads all along.
    const frames = (body: string) =>
      body
        .split("\n\n")
        .filter((f) => f.startsWith("event: next"))
        .map(
          (f) =>
            (JSON.parse(f.slice(f.indexOf("data: ") + 6)) as { data: { jobUpdates: { jobId: string; progressPct: number } } }).data
              .jobUpdates,
        );
    const slow = await new Promise<import("node:http").IncomingMessage>((resolve) => {
      const req = httpRequest(url, { headers }, (res) => {
        res.pause();
        resolve(res);
      });
      req.end();
    });
    let fastBody = "";
    let fastDone: () => void = () => {};
    const fastFinished = new Promise<void>((resolve) => {
      fastDone = resolve;
    });
    const fast = httpRequest(url, { headers }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        fastBody += chunk;
        const latest = new Map(frames(fastBody).map((e) => [e.jobId, e.progressPct]));
        if ([...Array(10).keys()].every((j) => latest.get(`load-${j}`) === 100)) fastDone();
      });
    });
    fast.end();
    // Both streams are open once the server sent their first bytes (the fast one has read them).
    await new Promise<void>((resolve) => fast.once("response", () => resolve()));
    // 10 jobs x 200 updates each, as fast as Kiln publishes them.
    const startedAt = Date.now();
    for (let step = 1; step <= 200; step++) {
      for (let j = 0; j < 10; j++) {
        publishJobEvent(kiln.pubsub, {
          jobId: `load-${j}`,
          driveId: `d-${j}`,
          hostId: "h",
          lease: 1,
          status: "running",
          progressPct: step / 2,
          startedAt,
          at: Date.now(),
          stage: null,
        });
      }
      if (step % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    // The reader that kept up sees every job reach its last value.
    await fastFinished;
    // Each job at most twice a second (and its first at once): 200 published per job, a handful
    // read. (2000 frames, every update, would pass only if this took 100 s.)
    const allowedPerJob = Math.ceil((Date.now() - startedAt) / 500) + 1;
    const perJob = new Map<string, number>();
    for (const e of frames(fastBody)) perJob.set(e.jobId, (perJob.get(e.jobId) ?? 0) + 1);
    expect(perJob.size).toBe(10);
    for (const [jobId, count] of perJob)
      expect(count, `${jobId}: ${count} frames, ${allowedPerJob} allowed`).toBeLessThanOrEqual(allowedPerJob);
    // The one that did not read gets, when it reads at last, each job's latest value and few others.
    let slowBody = "";
    slow.setEncoding("utf8");
    slow.on("data", (chunk: string) => {
      slowBody += chunk;
    });
    slow.resume();
    for (;;) {
      const latest = new Map(frames(slowBody).map((e) => [e.jobId, e.progressPct]));
      if ([...Array(10).keys()].every((j) => latest.get(`load-${j}`) === 100)) break;
      await new Promise((r) => slow.once("data", r));
    }
    expect(frames(slowBody).length).toBeLessThan(200);
    slow.destroy();
    fast.destroy();
  });
});
