// Every setting Kiln reads at start-up, typed and validated in one place, with its default.
// Command-line flags win over environment variables, which win over defaults.
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { providerOf, redactUrl, sqliteUrlFor } from "./db/url.js";
import { PACKAGE_ROOT } from "./package-root.js";
import { DEFAULT_LEASE_MS } from "./runner/lease.js";
import { type DemoPace, FAST_DEMO_PACE, WATCHABLE_DEMO_PACE } from "./transport/demo-drives.js";

export interface Config {
  port: number;
  host: string;
  /** Holds the SQLite file and Kiln's own state (demo drives, keys). */
  dataDir: string;
  databaseUrl: string;
  /** Register the demo host on first start. */
  demo: boolean;
  /** How fast the demo host scans and self-tests (KILN_DEMO_PACE). */
  demoPace: DemoPace;
  /** Name of this Kiln process in job locks. */
  instanceId: string;
  /** Redis for events across instances (shared mode, with PostgreSQL); null: in-process events. */
  redisUrl: string | null;
  /** A job lock not renewed for this long belongs to a dead or cut-off instance. */
  leaseMs: number;
  /** How often every host's inventory is refreshed; 0 turns it off. */
  inventoryIntervalMs: number;
  api: ApiConfig;
}

/** Who may reach the HTTP API, and what it shows: see server/http-guards.ts. */
export interface ApiConfig {
  /** Host header names (without port) Kiln answers to; anything else is refused (DNS rebinding). */
  allowedHosts: string[];
  /** Origins allowed by CORS; empty (the default) sends no CORS headers at all. */
  corsOrigins: string[];
  graphiql: boolean;
  introspection: boolean;
  /** Accounts and tokens required (the default); off only on loopback (KILN_AUTH=off). */
  auth: boolean;
  /** The built web client served at / (KILN_CLIENT_DIR; default client/dist of this package). */
  clientDir: string;
}

export const DEFAULT_CLIENT_DIR = path.join(PACKAGE_ROOT, "client", "dist");

/** A setting with a bad value: names the setting and the reason. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly setting: string,
    reason: string,
  ) {
    super(`${setting}: ${reason}`);
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(argv: string[], env: Env): Config {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        data: { type: "string" },
        demo: { type: "boolean" },
        "no-demo": { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError("arguments", (error as Error).message);
  }
  const port = parsePort(
    (values.port as string | undefined) ?? env.PORT ?? "4000",
    values.port !== undefined ? "--port" : env.PORT !== undefined ? "PORT" : "port",
  );
  const host = (values.host as string | undefined) ?? env.HOST ?? "127.0.0.1";
  if (!host.trim()) throw new ConfigError(values.host !== undefined ? "--host" : "HOST", "must not be empty");
  const dataDirRaw = (values.data as string | undefined) ?? env.KILN_DATA_DIR ?? "data";
  if (!dataDirRaw.trim()) throw new ConfigError(values.data !== undefined ? "--data" : "KILN_DATA_DIR", "must not be empty");
  const dataDir = path.resolve(dataDirRaw);
  const databaseUrl = env.DATABASE_URL?.trim() || sqliteUrlFor(dataDir);
  try {
    providerOf({ url: databaseUrl });
  } catch (error) {
    throw new ConfigError("DATABASE_URL", (error as Error).message.replace(/^DATABASE_URL: /, ""));
  }
  const demo = values["no-demo"] ? false : Boolean(values.demo) || env.KILN_DEMO === "1";
  const demoPace = parseDemoPace(env.KILN_DEMO_PACE);
  // The host name too: every instance in a container is pid 1.
  const instanceId = env.KILN_INSTANCE_ID?.trim() || `kiln-${os.hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9_.:@-]{1,100}$/.test(instanceId)) {
    throw new ConfigError("KILN_INSTANCE_ID", `"${instanceId}" must be 1-100 letters, digits or _ . : @ -`);
  }
  const redisUrl = parseRedisUrl(env.REDIS_URL, databaseUrl);
  const leaseSeconds = parseSeconds(env.KILN_LEASE_SECONDS ?? String(DEFAULT_LEASE_MS / 1000), "KILN_LEASE_SECONDS");
  if (leaseSeconds < 4 || leaseSeconds > 3600) {
    throw new ConfigError("KILN_LEASE_SECONDS", `${leaseSeconds} is outside 4-3600 (a lease is renewed every quarter of it)`);
  }
  const inventoryIntervalMs = parseSeconds(env.KILN_INVENTORY_INTERVAL ?? "300", "KILN_INVENTORY_INTERVAL") * 1000;
  const api: ApiConfig = {
    allowedHosts: [...defaultAllowedHosts(host), ...parseList(env.KILN_ALLOWED_HOSTS, "KILN_ALLOWED_HOSTS", HOST_NAME).map(lower)],
    corsOrigins: parseList(env.KILN_CORS_ORIGINS, "KILN_CORS_ORIGINS", ORIGIN),
    graphiql: parseSwitch(env.KILN_GRAPHIQL, "KILN_GRAPHIQL", true),
    introspection: parseSwitch(env.KILN_INTROSPECTION, "KILN_INTROSPECTION", true),
    auth: parseSwitch(env.KILN_AUTH, "KILN_AUTH", true),
    clientDir: env.KILN_CLIENT_DIR ? path.resolve(env.KILN_CLIENT_DIR) : DEFAULT_CLIENT_DIR,
  };
  if (!api.auth && !isLoopback(host)) {
    throw new ConfigError(
      "KILN_AUTH",
      `off is accepted only when Kiln listens on loopback (127.0.0.1, ::1, localhost), not on ${host}: anyone who reaches it could wipe drives`,
    );
  }
  return { port, host, dataDir, databaseUrl, demo, demoPace, instanceId, redisUrl, leaseMs: leaseSeconds * 1000, inventoryIntervalMs, api };
}

/** REDIS_URL: redis:// or rediss://, and only beside PostgreSQL (SQLite is one Kiln). */
function parseRedisUrl(raw: string | undefined, databaseUrl: string): string | null {
  const url = raw?.trim();
  if (!url) return null;
  if (!/^rediss?:\/\//.test(url) || !URL.canParse(url)) {
    throw new ConfigError("REDIS_URL", `"${redactUrl(url)}" is not a redis:// or rediss:// URL`);
  }
  if (providerOf({ url: databaseUrl }) !== "postgresql") {
    throw new ConfigError(
      "REDIS_URL",
      "shared mode (several Kiln instances) needs DATABASE_URL=postgresql://...; SQLite is for one Kiln process",
    );
  }
  return url;
}

const HOST_NAME = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/;
const ORIGIN = /^https?:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;
const lower = (s: string) => s.toLowerCase();

/** "a, b" -> ["a", "b"], each matching `pattern`; a bad entry names the setting. */
function parseList(raw: string | undefined, setting: string, pattern: RegExp): string[] {
  const items = (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) if (!pattern.test(item)) throw new ConfigError(setting, `"${item}" is not a valid entry`);
  return items;
}

function parseSwitch(raw: string | undefined, setting: string, fallback: boolean): boolean {
  if (raw === undefined || raw.trim() === "") return fallback;
  if (/^(1|on|true|yes)$/i.test(raw.trim())) return true;
  if (/^(0|off|false|no)$/i.test(raw.trim())) return false;
  throw new ConfigError(setting, `"${raw}" is not on or off (1/0)`);
}

/**
 * The names a browser on this machine (or, for a wildcard address, on the network) uses to reach
 * Kiln: loopback names, the listen address, and for 0.0.0.0 / :: this machine's addresses and name.
 */
function defaultAllowedHosts(listen: string): string[] {
  const names = new Set(["localhost", "127.0.0.1", "[::1]", bracket(listen).toLowerCase()]);
  if (listen === "0.0.0.0" || listen === "::") {
    names.add(os.hostname().toLowerCase());
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) names.add(bracket(a.address).toLowerCase());
  }
  return [...names];
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const bracket = (address: string) => (address.includes(":") && !address.startsWith("[") ? `[${address}]` : address);

function parsePort(raw: string, setting: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(setting, `"${raw}" is not a port number`);
  const port = Number(raw);
  if (port > 65535) throw new ConfigError(setting, `${port} is out of range (0-65535)`);
  return port;
}

/**
 * KILN_DEMO_PACE: `watch` (the default), `fast`, or some of blocks=N (badblocks -c), delay=N
 * (badblocks -d, 0 for none), rate=N (fio MiB/s, 0 for none), short=S and long=S (self-test
 * seconds) over `watch`, comma-separated.
 */
export function parseDemoPace(raw: string | undefined): DemoPace {
  const text = raw?.trim() ?? "";
  if (text === "" || text === "watch") return WATCHABLE_DEMO_PACE;
  if (text === "fast") return FAST_DEMO_PACE;
  const pace = { ...WATCHABLE_DEMO_PACE, selfTestSeconds: { ...WATCHABLE_DEMO_PACE.selfTestSeconds } };
  const ranges = { blocks: [1, 65536], delay: [0, 10000], rate: [0, 100000], short: [1, 3600], long: [1, 3600] } as const;
  for (const part of text.split(",")) {
    const [key, value, ...rest] = part.split("=").map((p) => p.trim());
    if (!key || !(key in ranges) || value === undefined || rest.length > 0) {
      throw new ConfigError("KILN_DEMO_PACE", `"${part}" is not one of watch, fast, blocks=N, delay=N, rate=N, short=S, long=S`);
    }
    const [min, max] = ranges[key as keyof typeof ranges];
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(n >= min && n <= max)) throw new ConfigError("KILN_DEMO_PACE", `${key}=${value}: must be a whole number from ${min} to ${max}`);
    if (key === "blocks") pace.blocksAtOnce = n;
    else if (key === "delay") pace.readDelayFactor = n;
    else if (key === "rate") pace.fioMiBps = n === 0 ? null : n;
    else if (key === "short") pace.selfTestSeconds.short = n;
    else pace.selfTestSeconds.extended = n;
  }
  return pace;
}

function parseSeconds(raw: string, setting: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(setting, `"${raw}" is not a whole number of seconds`);
  return Number(raw);
}
