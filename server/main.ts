// Start-up only: config, database + migrations, HTTP. SIGTERM / SIGINT stop it.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config.js";
import { secureDataDir } from "./data-dir.js";
import type { Database } from "./db/client.js";
import { openMigratedDatabase } from "./db/startup.js";
import { redactUrl } from "./db/url.js";
import { DependencyHealth, firstLine, isDatabaseUnreachable } from "./dependency-health.js";
import { createKilnPubSub, createSharedPubSub, type KilnPubSub, type SharedPubSub } from "./events/pubsub.js";
import { createHttpServer } from "./http.js";
import { NotificationDispatcher } from "./notify/dispatcher.js";
import { NotificationWatcher } from "./notify/watcher.js";
import { loadOrCreateReportKey } from "./reports/signing.js";
import { JobRunner } from "./runner/runner.js";
import { accountsExist } from "./services/accounts.js";
import { ensureDemoHost } from "./services/demo-host.js";
import { HostRegistry } from "./services/host-registry.js";
import { InventoryRuns } from "./services/inventory-runs.js";
import { InventoryScheduler } from "./services/inventory-scheduler.js";
import { RetentionSweeper } from "./services/retention.js";
import { getSettings } from "./services/settings.js";

export interface RunningKiln {
  url: string;
  port: number;
  database: Database;
  /** Outages of the database and Redis, as /health and the logs tell them. */
  health: DependencyHealth;
  registry: HostRegistry;
  runner: JobRunner;
  /** Kiln's events (tests and benches publish into it). */
  pubsub: KilnPubSub;
  stop(): Promise<void>;
}

export async function startKiln(config: Config, log: (line: string) => void = console.log): Promise<RunningKiln> {
  const target = { url: config.databaseUrl };
  secureDataDir(config.dataDir, config.databaseUrl);
  // Refuses to start on an edited, diverged or drifted database (MigrationError); never resets.
  const { database, applied, fullCheck } = await openMigratedDatabase(target);
  log(
    `kiln: ${database.provider} database ${redactUrl(config.databaseUrl)}${applied.length ? `, applied ${applied.join(", ")}` : ", schema up to date"}${fullCheck ? ` (full check: ${fullCheck})` : ""}`,
  );
  secureDataDir(config.dataDir, config.databaseUrl); // files an older Kiln left with wider modes, the WAL just created
  const registry = new HostRegistry({ dataDir: config.dataDir, demoPace: config.demoPace });
  registry.applySettings(await getSettings(database.db));
  const health = new DependencyHealth(log);
  let events: SharedPubSub;
  try {
    events = config.redisUrl
      ? await createSharedPubSub(config.redisUrl, health)
      : { pubsub: createKilnPubSub(), shared: false, close: async () => {} };
  } catch (error) {
    await database.close();
    throw error;
  }
  const { pubsub } = events;
  if (config.redisUrl) log(`kiln: shared mode: instance ${config.instanceId}, events through ${redactUrl(config.redisUrl)}`);
  else if (database.provider === "postgresql")
    log("kiln: PostgreSQL without REDIS_URL: jobs are shared with other instances, live events are not (set REDIS_URL)");
  const runner = new JobRunner({
    db: database.db,
    registry,
    pubsub,
    instanceId: config.instanceId,
    singleInstance: database.provider === "sqlite",
    leaseMs: config.leaseMs,
    sharedEvents: config.redisUrl !== null,
    log,
    health,
  });
  const notifications = new NotificationDispatcher(database.db, log, Date.now, health);
  const inventoryRuns = new InventoryRuns({ db: database.db, registry, pubsub });
  const deps = {
    db: database.db,
    registry,
    runner,
    pubsub,
    reportKey: loadOrCreateReportKey(config.dataDir),
    notifications,
    health,
    sharedEvents: events.shared,
    inventory: inventoryRuns,
  };
  // Listening before the runner re-attaches, so nothing a resumed job does goes untold.
  const watcher = new NotificationWatcher(database.db, pubsub, notifications, log, health);
  watcher.start();
  await notifications.start();
  if (config.demo) {
    await ensureDemoHost(deps, config.dataDir);
    log(`kiln: demo host ready (drives are files in ${config.dataDir}/demo/drives)`);
  }
  // Re-attach to the burn-ins that were running when Kiln last stopped, then take new work.
  await runner.start();
  const inventory = new InventoryScheduler(deps, inventoryRuns, config.inventoryIntervalMs, log, health);
  inventory.start();
  const retention = new RetentionSweeper(database.db, log, undefined, undefined, health);
  retention.start();
  // Asked before listening: once "listening on" is printed, start-up is over (a supervisor may
  // signal Kiln at once, and the signal handlers go on right after startKiln returns).
  const needsSetup = config.api.auth && !(await accountsExist(database.db));
  const { server, closeSockets } = createHttpServer(deps, config.api);
  try {
    await listen(server, config.port, config.host);
  } catch (error) {
    await runner.stop();
    await inventory.stop();
    await retention.stop();
    await watcher.stop();
    await notifications.stop();
    await registry.closeAll();
    await events.close();
    await database.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  log(`kiln: listening on ${url} (GraphiQL at ${url}/graphql, health at ${url}/health)`);
  if (!config.api.auth) {
    log(
      "kiln: WARNING: KILN_AUTH=off: anyone who can reach this address may do anything, wiping drives included (accepted on loopback only)",
    );
  } else if (needsSetup) {
    log(
      `kiln: no account yet: create the admin with curl -X POST ${url}/auth/setup -H 'content-type: application/json' -d '{"username":"admin","password":"<at least 12 characters>"}'`,
    );
  }
  let stopping: Promise<void> | null = null;
  return {
    url,
    port,
    database,
    health,
    registry,
    runner,
    pubsub,
    stop() {
      stopping ??= (async () => {
        // Stop claiming and leave running scans on their hosts; offsets are persisted.
        await runner.stop();
        await closeSockets();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive and streaming connections would hold close() open.
          server.closeAllConnections();
        });
        await inventory.stop();
        await retention.stop();
        await watcher.stop();
        await notifications.stop();
        await registry.closeAll();
        await events.close();
        await database.close();
      })();
      return stopping;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(error.code === "EADDRINUSE" ? new Error(`--port: ${host}:${port} is already in use`) : error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

/**
 * A promise nobody awaited failed: logged (an outage as the outage, told once; anything else with
 * its stack, the same message at most once a minute) and Kiln keeps serving. Node's default ends
 * the process, which took down every instance of a cluster when PostgreSQL restarted.
 */
export function keepServingThroughRejections(kiln: Pick<RunningKiln, "health">, log: (line: string) => void = console.error): void {
  const lastLogged = new Map<string, number>();
  process.on("unhandledRejection", (reason: unknown) => {
    if (isDatabaseUnreachable(reason)) {
      kiln.health.lost("database", firstLine(reason));
      return;
    }
    const line = firstLine(reason);
    const now = Date.now();
    if (now - (lastLogged.get(line) ?? 0) < 60_000) return;
    lastLogged.set(line, now);
    log(`kiln: unexpected error (kept serving): ${reason instanceof Error ? (reason.stack ?? line) : line}`);
  });
}

/** Stop on SIGTERM / SIGINT, exiting within `graceMs` even if something hangs. */
export function stopOnSignals(kiln: RunningKiln, graceMs = 10_000): void {
  const onSignal = (signal: NodeJS.Signals) => {
    console.log(`kiln: ${signal} received, stopping`);
    const timer = setTimeout(() => {
      console.error(`kiln: still stopping after ${graceMs / 1000} s, exiting anyway`);
      process.exit(1);
    }, graceMs);
    timer.unref();
    kiln.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("kiln: error while stopping", error);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}
