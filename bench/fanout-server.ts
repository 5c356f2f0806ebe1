// The fan-out bench's server side, run as its own process: `tsx bench/fanout-server.ts kiln|raw PORT`.
// kiln: a real Kiln (SQLite, accounts on: subscribers use a read token) whose pubsub gets synthetic
// job progress; raw: a plain
// node:http SSE server that writes the same events as ready JSON frames (the baseline).
// Commands on stdin: `start DRIVES HZ` begins publishing and resets the CPU clock; `stop` ends it
// and prints {"cpuMs":..,"published":..}.

import { mkdtempSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { loadConfig } from "../server/config.js";
import { type JobEvent, publishJobEvent } from "../server/events/pubsub.js";
import { startKiln } from "../server/main.js";
import { createApiToken, setupAdmin } from "../server/services/accounts.js";
import { tempPostgres } from "../tests/helpers/temp-db.js";

// kiln-shared: the same Kiln on PostgreSQL with its events through Redis (scale-out mode): every
// event goes to Redis and comes back before the subscribers get it.
const [mode, port] = process.argv.slice(2) as ["kiln" | "kiln-shared" | "raw", string];
let publish: (event: JobEvent) => void;
let token = "";

if (mode === "kiln" || mode === "kiln-shared") {
  const shared =
    mode === "kiln-shared"
      ? { DATABASE_URL: (await tempPostgres()).url, REDIS_URL: process.env.KILN_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379" }
      : {};
  const kiln = await startKiln(
    loadConfig(["--port", port, "--data", mkdtempSync(path.join(tmpdir(), "kiln-fanout-"))], { KILN_INVENTORY_INTERVAL: "0", ...shared }),
    () => {},
  );
  const admin = await setupAdmin(kiln.database.db, { username: "admin", password: "bench bench bench" });
  const { secret } = await createApiToken(
    kiln.database.db,
    { actor: "admin", label: "user admin (admin)", scope: "admin", via: "session", userId: admin.id, credentialId: null },
    {
      name: "dashboard",
      scope: "read",
    },
  );
  token = secret;
  publish = (event) => publishJobEvent(kiln.pubsub, event);
} else {
  const clients = new Set<ServerResponse>();
  createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(":\n\n");
    clients.add(res);
    req.on("close", () => clients.delete(res));
  }).listen(Number(port), "127.0.0.1");
  publish = (event) => {
    const elapsed = event.startedAt === null ? null : (event.at - event.startedAt) / 1000;
    const frame = `event: next\ndata: ${JSON.stringify({
      data: {
        jobUpdates: {
          jobId: event.jobId,
          status: event.status,
          progressPct: event.progressPct,
          phase: event.stage?.phase,
          mbps: event.stage?.mbps,
          temperatureC: event.stage?.temperatureC,
          elapsedSeconds: elapsed,
          at: new Date(event.at).toISOString(),
        },
      },
    })}\n\n`;
    for (const res of clients) res.write(frame);
  };
}
console.log(`ready ${token}`);

let timer: NodeJS.Timeout | null = null;
let published = 0;
let cpu = process.cpuUsage();
createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, a, b] = line.trim().split(" ");
  if (command === "start") {
    const drives = Number(a);
    const hz = Number(b);
    const startedAt = Date.now();
    let tick = 0;
    published = 0;
    cpu = process.cpuUsage();
    // Evenly spread: every 5 ms, the drives whose turn it is.
    const perTick = (drives * hz) / 200;
    let owed = 0;
    timer = setInterval(() => {
      owed += perTick;
      for (; owed >= 1; owed -= 1) {
        const d = tick++ % drives;
        publish({
          jobId: `job-${d}`,
          driveId: `drive-${d}`,
          hostId: `host-${d % 10}`,
          status: "running",
          lease: 1,
          progressPct: (tick / drives) % 100,
          startedAt,
          at: Date.now(),
          stage: {
            id: `s-${d}`,
            name: "surface_validate",
            status: "running",
            progressPct: 1,
            phase: 1,
            phasePct: 1,
            mbps: 180.5,
            badBlocks: 0,
            temperatureC: 38,
            paused: false,
            pauseReason: null,
          },
        });
        published += 1;
      }
    }, 5);
  } else if (command === "stop") {
    if (timer) clearInterval(timer);
    const used = process.cpuUsage(cpu);
    console.log(JSON.stringify({ cpuMs: (used.user + used.system) / 1000, published }));
  } else if (command === "exit") {
    process.exit(0);
  }
});
