// Notifications over real wires: an SMTP server in the test process (smtp-server), an HTTP receiver
// that checks the webhook's HMAC signature, and ntfy- and Gotify-style receivers. Kiln runs with
// accounts on and the demo host (real badblocks on files), so job ends are real; a hot drive and a
// host that goes away are raised by publishing what the runner and the inventory publish.
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { NOTIFICATION_EVENTS } from "../../server/notify/channels.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { waitsBudget } from "../helpers/burn-in-host.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";
import { until } from "../helpers/wait.js";

const SECRET = "a-webhook-secret-of-some-length";
const EVERY_EVENT = NOTIFICATION_EVENTS.filter((e) => e !== "test");
const SMTP_PASSWORD = "smtp-password-never-shown";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP receiver; `failNext` answers that many requests to a path with 503 first. */
function startReceiver(): Promise<{ url: string; received: Received[]; failNext: (path: string, n: number) => void; server: Server }> {
  const received: Received[] = [];
  let failures = 0;
  let failPath = "";
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      if (failures > 0 && req.url === failPath) {
        failures -= 1;
        res.writeHead(503).end("busy, try later");
        return;
      }
      received.push({ path: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        received,
        failNext: (path, n) => {
          failPath = path;
          failures = n;
        },
        server,
      }),
    ),
  );
}

interface Mail {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

function startSmtp(): Promise<{ port: number; mails: Mail[]; server: SMTPServer }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === "kiln" && auth.password === SMTP_PASSWORD) return callback(null, { user: "kiln" });
      return callback(new Error("bad credentials"));
    },
    onData(stream, session, callback) {
      let raw = "";
      stream.on("data", (c: Buffer) => {
        raw += c.toString();
      });
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw,
        });
        callback();
      });
    },
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ port: (server.server.address() as AddressInfo).port, mails, server })),
  );
}

describe("notifications", () => {
  let kiln: RunningKiln;
  let accounts: Credentials;
  let web: Awaited<ReturnType<typeof startReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const admin = <T>(query: string, variables: Record<string, unknown> = {}) => gqlAs<T>(kiln.url, accounts.tokens.admin, query, variables);
  const ADD = `mutation($input: NotificationChannelInput!) { addNotificationChannel(input: $input) {
    __typename ... on AddNotificationChannelSuccess { data { id name config secretsSet events } } ... on ValidationError { field message } } }`;
  type Added = {
    addNotificationChannel: {
      __typename: string;
      data?: { id: string; config: string; secretsSet: string[] };
      field?: string;
      message?: string;
    };
  };
  const add = (input: Record<string, unknown>) => admin<Added>(ADD, { input: { ...input, config: JSON.stringify(input.config) } });
  const deliveries = (event: string) => kiln.database.db.notificationDelivery.findMany({ where: { event }, include: { channel: true } });

  beforeAll(async () => {
    web = await startReceiver();
    smtp = await startSmtp();
    kiln = await startKiln(loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], { KILN_INVENTORY_INTERVAL: "0" }), () => {});
    accounts = await setUpAccounts(kiln.url);
    for (const [key, value] of [
      ["pollSeconds", "0.5"],
      ["notificationRetrySeconds", "0.2"],
      ["publicUrl", '"https://kiln.example"'],
    ])
      await admin(`mutation { setSetting(key: "${key}", value: ${JSON.stringify(value)}) { __typename } }`);
    const made = [
      await add({ name: "hook", kind: "webhook", config: { url: `${web.url}/hook`, secret: SECRET }, events: EVERY_EVENT }),
      await add({ name: "ntfy", kind: "ntfy", config: { url: `${web.url}/ntfy/kiln-floor` }, events: ["batch.finished"] }),
      await add({
        name: "gotify",
        kind: "gotify",
        config: { url: `${web.url}/gotify`, token: "gotify-app-token" },
        events: ["job.failed"],
      }),
      await add({
        name: "mail",
        kind: "email",
        config: {
          host: "127.0.0.1",
          port: smtp.port,
          security: "none",
          username: "kiln",
          password: SMTP_PASSWORD,
          from: "kiln@example.com",
          to: ["ops@example.com"],
        },
        events: ["job.passed"],
        foldBatch: false,
      }),
    ];
    for (const m of made) {
      const c = m.data?.addNotificationChannel;
      expect(c?.__typename, JSON.stringify(m)).toBe("AddNotificationChannelSuccess");
    }
  }, 60_000);
  afterAll(async () => {
    await kiln?.stop();
    web?.server.close();
    await new Promise<void>((r) => (smtp ? smtp.server.close(() => r()) : r()));
    removeTempDirs();
  });

  const channelId = async (name: string) => (await kiln.database.db.notificationChannel.findUniqueOrThrow({ where: { name } })).id;

  it("refuses bad channels by field, never shows a secret, and is for admins only", async () => {
    const refused = async (input: Record<string, unknown>) => {
      const r = (await add(input)).data?.addNotificationChannel;
      expect(r?.__typename).toBe("ValidationError");
      return r?.field;
    };
    expect(
      await refused({ name: "x", kind: "webhook", config: { url: "https://h.example/x", secret: "short" }, events: ["job.failed"] }),
    ).toBe("config.secret");
    expect(await refused({ name: "x", kind: "ntfy", config: { url: "file:///etc/passwd" }, events: ["job.failed"] })).toBe("config.url");
    expect(await refused({ name: "x", kind: "ntfy", config: { url: "https://user:pw@ntfy.example/t" }, events: ["job.failed"] })).toBe(
      "config.url",
    );
    expect(await refused({ name: "x", kind: "sms", config: {}, events: ["job.failed"] })).toBe("kind");
    expect(await refused({ name: "x", kind: "ntfy", config: { url: "https://ntfy.example/t" }, events: ["job.exploded"] })).toBe("events");
    expect(await refused({ name: "x", kind: "ntfy", config: { url: "https://ntfy.example/t", extra: 1 }, events: ["job.failed"] })).toBe(
      "config",
    );
    expect(await refused({ name: "hook", kind: "ntfy", config: { url: "https://ntfy.example/t" }, events: ["job.failed"] })).toBe("name");

    const listed = await admin<{ notificationChannels: Array<{ name: string; config: string; secretsSet: string[] }> }>(
      "{ notificationChannels { name config secretsSet events foldBatch enabled } }",
    );
    const text = JSON.stringify(listed);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SMTP_PASSWORD);
    expect(text).not.toContain("gotify-app-token");
    const hook = listed.data?.notificationChannels.find((c) => c.name === "hook");
    expect(hook?.secretsSet).toEqual(["secret"]);
    expect(JSON.parse(hook?.config ?? "{}")).toEqual({ url: `${web.url}/hook` });

    // A change that leaves the secret out keeps it; the audit log has the change, not the secret.
    const id = await channelId("hook");
    const updated = await admin<{ updateNotificationChannel: { __typename: string } }>(
      `mutation($id: ID!, $input: NotificationChannelInput!) { updateNotificationChannel(id: $id, input: $input) { __typename } }`,
      {
        id,
        input: {
          name: "hook",
          kind: "webhook",
          config: JSON.stringify({ url: `${web.url}/hook` }),
          events: EVERY_EVENT,
        },
      },
    );
    expect(updated.data?.updateNotificationChannel.__typename).toBe("UpdateNotificationChannelSuccess");
    const stored = await kiln.database.db.notificationChannel.findUniqueOrThrow({ where: { id } });
    expect(JSON.parse(stored.config).secret).toBe(SECRET);
    const audit = await kiln.database.db.auditEvent.findMany({ where: { action: { startsWith: "notification." } } });
    expect(audit.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(audit)).not.toContain(SECRET);

    for (const token of [accounts.tokens.read, accounts.tokens.operate]) {
      const r = await gqlAs(kiln.url, token, "{ notificationChannels { name } }");
      expect(r.status).toBe(403);
      const m = await gqlAs(kiln.url, token, `mutation { testNotificationChannel(id: "${id}") { __typename } }`);
      expect(m.status).toBe(403);
    }
  });

  it("sends a test to each channel at once: a signed webhook, ntfy and Gotify posts, a mail through SMTP with its login", async () => {
    const test = async (name: string) =>
      (
        await admin<{ testNotificationChannel: { data: { status: string; attempts: number; lastError: string | null } } }>(
          "mutation($id: ID!) { testNotificationChannel(id: $id) { ... on TestNotificationChannelSuccess { data { status attempts lastError } } } }",
          { id: await channelId(name) },
        )
      ).data?.testNotificationChannel.data;
    for (const name of ["hook", "ntfy", "gotify", "mail"])
      expect(await test(name), name).toEqual({ status: "sent", attempts: 1, lastError: null });

    const hook = web.received.find((r) => r.path === "/hook" && r.headers["x-kiln-event"] === "test") as Received;
    const expected = `sha256=${createHmac("sha256", SECRET).update(`${hook.headers["x-kiln-timestamp"]}.${hook.body}`).digest("hex")}`;
    expect(hook.headers["x-kiln-signature"]).toBe(expected);
    expect(JSON.parse(hook.body)).toMatchObject({ event: "test", title: "Kiln test message for hook", severity: "info" });
    const ntfy = web.received.find((r) => r.path === "/ntfy/kiln-floor") as Received;
    expect(ntfy.headers.title).toBe("Kiln test message for ntfy");
    expect(ntfy.body).toMatch(/^This is a test from Kiln/);
    const gotify = web.received.find((r) => r.path === "/gotify/message") as Received;
    expect(gotify.headers["x-gotify-key"]).toBe("gotify-app-token");
    expect(JSON.parse(gotify.body)).toMatchObject({ title: "Kiln test message for gotify", priority: 2 });
    const mail = smtp.mails[0] as Mail;
    expect(mail).toMatchObject({ from: "kiln@example.com", to: ["ops@example.com"], user: "kiln" });
    expect(mail.raw).toMatch(/^Subject: Kiln test message for mail/m);

    // A channel that cannot be reached says so in the answer and the log, and a test is not retried.
    const down = await add({ name: "down", kind: "ntfy", config: { url: "http://127.0.0.1:9/nothing" }, events: ["job.failed"] });
    const result = await test("down");
    expect(result?.status).toBe("failed");
    expect(result?.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    await admin("mutation($id: ID!) { removeNotificationChannel(id: $id) { __typename } }", {
      id: down.data?.addNotificationChannel.data?.id,
    });
  });

  it(
    "tells a batch's end once per channel as a summary, retrying a webhook that failed twice; a channel that does not fold gets each job",
    async () => {
      const drives = await kiln.database.db.drive.findMany({ orderBy: { serial: "asc" }, take: 3 });
      web.failNext("/hook", 2);
      const started = await gqlAs<{ startBurnIn: { __typename: string } }>(
        kiln.url,
        accounts.tokens.operate,
        "mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: quick) { __typename } }",
        { d: drives.map((d) => d.id) },
      );
      expect(started.data?.startBurnIn.__typename).toBe("StartBurnInSuccess");
      const batch = await until("the batch summary to be sent", async () => {
        const rows = await deliveries("batch.finished");
        return rows.length === 2 && rows.every((r) => r.status === "sent") && rows;
      });
      const hookRow = batch.find((r) => r.channel.name === "hook");
      expect(hookRow?.attempts).toBe(3);
      expect(hookRow?.lastError).toMatch(/answered 503: busy, try later/);
      const summaries = web.received.filter((r) => r.path === "/hook" && r.headers["x-kiln-event"] === "batch.finished");
      expect(summaries).toHaveLength(1);
      const summary = JSON.parse(summaries[0]?.body ?? "{}");
      expect(summary.title).toBe("Batch of 3 burn-ins finished: 3 passed");
      expect(summary.data.jobs).toHaveLength(3);
      // Folded: no job.passed reached the webhook; the mail channel (foldBatch off) got all three.
      expect(web.received.filter((r) => r.headers["x-kiln-event"] === "job.passed")).toHaveLength(0);
      await until("three job mails", () => smtp.mails.filter((m) => /^Subject: Burn-in passed/m.test(m.raw)).length === 3);
      expect(web.received.filter((r) => r.path === "/ntfy/kiln-floor" && /^Batch of 3/.test(String(r.headers.title)))).toHaveLength(1);
    },
    waitsBudget(2),
  );

  it(
    "tells a single job's end with its outcome and a link to its report",
    async () => {
      const drive = await kiln.database.db.drive.findFirstOrThrow({ orderBy: { serial: "desc" } });
      const started = await gqlAs<{ startBurnIn: { data: Array<{ id: string }> } }>(
        kiln.url,
        accounts.tokens.operate,
        "mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: quick) { ... on StartBurnInSuccess { data { id } } } }",
        { d: [drive.id] },
      );
      const jobId = started.data?.startBurnIn.data[0]?.id as string;
      const got = await until("the job's webhook", () =>
        web.received.find((r) => r.headers["x-kiln-event"] === "job.passed" && JSON.parse(r.body).data.jobId === jobId),
      );
      const body = JSON.parse(got.body);
      expect(body.title).toBe(`Burn-in passed: ${drive.model} ${drive.serial} on demo`);
      expect(body.url).toBe(`https://kiln.example/reports/${jobId}`);
      expect(body.delivery).toBe(got.headers["x-kiln-delivery"]);
    },
    waitsBudget(1),
  );

  it("tells a hot drive once until it cools, a scan's first bad block once, and a host that went away and came back", async () => {
    const drive = await kiln.database.db.drive.findFirstOrThrow();
    // A job the runner does not run: its events are published here, as the runner would.
    const job = await kiln.database.db.burnInJob.create({
      data: { driveId: drive.id, serial: drive.serial, profile: "full", status: "cancelled" },
    });
    const publish = (celsius: number, badBlocks = 0) =>
      kiln.pubsub.publish("jobs", {
        jobId: job.id,
        driveId: drive.id,
        hostId: drive.hostId,
        lease: 1,
        status: "running",
        progressPct: 10,
        startedAt: Date.now(),
        at: Date.now(),
        stage: {
          id: "s",
          name: "surface_validate",
          status: "running",
          progressPct: 10,
          phase: 1,
          phasePct: 10,
          mbps: 100,
          badBlocks,
          temperatureC: celsius,
          paused: false,
          pauseReason: null,
        },
      });
    const hotMessages = () => web.received.filter((r) => r.headers["x-kiln-event"] === "drive.hot");
    for (const c of [50, 52, 51]) publish(c);
    await until("the first hot message", () => hotMessages().length === 1);
    publish(40); // cooled: the condition clears
    for (const c of [49, 55]) publish(c);
    await until("the second hot message", () => hotMessages().length === 2);
    expect(JSON.parse(hotMessages()[0]?.body ?? "{}").title).toBe(`Drive hot: ${drive.model} ${drive.serial} at 50 °C on demo`);
    expect(await kiln.database.db.notificationDelivery.count({ where: { event: "drive.hot", channel: { name: "hook" } } })).toBe(2);

    // Bad blocks: told at the first, not again as more are found.
    const badBlockMessages = () => web.received.filter((r) => r.headers["x-kiln-event"] === "job.bad_blocks");
    for (const n of [1, 5, 9]) publish(40, n);
    await until("the bad-block message", () => badBlockMessages().length === 1);
    expect(JSON.parse(badBlockMessages()[0]?.body ?? "{}")).toMatchObject({ severity: "critical", data: { jobId: job.id, badBlocks: 1 } });
    publish(40, 12);
    await until(
      "the later events handled",
      async () => (await kiln.database.db.notificationDelivery.count({ where: { event: "drive.hot" } })) >= 2,
    );
    expect(await kiln.database.db.notificationDelivery.count({ where: { event: "job.bad_blocks" } })).toBe(1);

    const host = await kiln.database.db.host.findFirstOrThrow();
    const setStatus = async (status: string, reason: string | null) => {
      await kiln.database.db.host.update({ where: { id: host.id }, data: { status, statusReason: reason } });
      kiln.pubsub.publish("hosts", { hostId: host.id, removed: false });
    };
    const events = () => web.received.map((r) => r.headers["x-kiln-event"]).filter((e) => String(e).startsWith("host."));
    await setStatus("unreachable", "connect ECONNREFUSED");
    await setStatus("unreachable", "connect ECONNREFUSED");
    await until("host.unreachable", () => events().includes("host.unreachable"));
    await setStatus("ok", null);
    await until("host.back", () => events().includes("host.back"));
    expect(events()).toEqual(["host.unreachable", "host.back"]);
  });
});
