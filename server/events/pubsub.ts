// Typed events of Kiln: job progress and state, drive and host changes. In-process by default
// (graphql-yoga's pubsub); the same interface takes a Redis event target when several Kiln
// processes share work.
import { createPubSub } from "graphql-yoga";
import { redactUrl } from "../db/url.js";
import type { DependencyHealth } from "../dependency-health.js";
import type { JobCommand, JobCommandReply } from "../runner/commands.js";
import type { ScanEngineName } from "../runner/scan-phases.js";

export interface JobEvent {
  jobId: string;
  driveId: string;
  hostId: string;
  status: string;
  /**
   * The lease version of whoever published this (0 for a job never claimed). Raised by every
   * claim and takeover: subscribers drop an event older than one they have seen, so a Kiln that
   * lost the job and has not noticed yet cannot take a live view backwards.
   */
  lease: number;
  /** Overall job percent. */
  progressPct: number;
  /**
   * Seconds left as of `at`, from the scan's measured zones and the profile's estimates
   * (runner/scan-eta.ts); null or absent: the straight line on the percent.
   */
  etaSeconds?: number | null;
  /** When the job started running (ms since the epoch), for elapsed and ETA. */
  startedAt: number | null;
  /** When this was true (ms since the epoch). */
  at: number;
  stage: {
    id: string;
    name: string;
    status: string;
    progressPct: number;
    /** A surface scan's engine, null for other stages (absent from older instances: badblocks). */
    engine?: ScanEngineName | null;
    phase: number | null;
    phasePct: number | null;
    mbps: number | null;
    badBlocks: number | null;
    /** fio scans: the last status interval's completion latencies (absent from older instances). */
    latency?: ScanLatency | null;
    temperatureC: number | null;
    /** The scan's processes are stopped on the host (by an operator, or for heat). */
    paused: boolean;
    pauseReason: string | null;
  } | null;
}

/** Completion latencies of a scan's requests over one interval, ms. */
export interface ScanLatency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The stored latency columns of a stage or sample, or null when the interval had none. */
export function scanLatency(p50Ms: number | null, p99Ms: number | null, maxMs: number | null): ScanLatency | null {
  return p50Ms === null || p99Ms === null || maxMs === null ? null : { p50Ms, p99Ms, maxMs };
}

export interface DriveEvent {
  driveId: string;
  hostId: string;
}

export interface HostEvent {
  hostId: string;
  /** The host (and its drives) are gone. */
  removed: boolean;
  /** An inventory's progress, from its start to its end (services/inventory-runs.ts). */
  inventory?: InventoryProgress;
}

export interface InventoryProgress {
  running: boolean;
  /** When it began (ms since the epoch). */
  startedAt: number;
  /** What it does now ("SMART of /dev/sdc (3 of 12)"), "done" or "failed". */
  step: string;
  done: number;
  total: number;
  /** At the end: drives found and gone missing, or why it failed. */
  found?: number;
  missing?: number;
  error?: string;
}

type KilnTopics = {
  /** Every job's updates. */
  jobs: [JobEvent];
  /** One job's updates. */
  job: [jobId: string, event: JobEvent];
  drives: [DriveEvent];
  hosts: [HostEvent];
  /** Cancel, pause or continue for the instance named (runner/commands.ts). */
  command: [instanceId: string, command: JobCommand];
  commandReply: [commandId: string, reply: JobCommandReply];
};

type EventTarget = NonNullable<Parameters<typeof createPubSub>[0]>["eventTarget"];

export type KilnPubSub = ReturnType<typeof createKilnPubSub>;

/** In-process events (one Kiln), or through `eventTarget` (Redis: createSharedPubSub). */
export function createKilnPubSub(eventTarget?: EventTarget) {
  return createPubSub<KilnTopics>(eventTarget ? { eventTarget } : undefined);
}

export function publishJobEvent(pubsub: KilnPubSub, event: JobEvent): void {
  pubsub.publish("jobs", event);
  pubsub.publish("job", event.jobId, event);
}

export interface SharedPubSub {
  pubsub: KilnPubSub;
  /** Shared mode: events go through Redis (whose outages are told to the DependencyHealth given). */
  shared: boolean;
  close(): Promise<void>;
}

/** Redis channels are Kiln's: "kiln:jobs", "kiln:job:<id>", ... (a Redis may serve others too). */
const CHANNEL_PREFIX = "kiln:";

/**
 * Events through Redis, for several Kiln instances: a subscriber on any instance gets every
 * instance's events. One publishing connection keeps each publisher's events in order, so the
 * events of a job (run by one instance) arrive in order. Refuses to start when Redis does not answer.
 *
 * Later outages are told to `health` (one line lost, one line back). While Redis is away, what
 * is published is dropped, not queued: nobody on another instance could get it in time, and a
 * queue of every progress event of every scan would grow for as long as the outage lasts. Open
 * subscriptions are told and ended (plugins/use-live-events-health.ts); commands between
 * instances fail at once (runner/commands.ts).
 */
export async function createSharedPubSub(redisUrl: string, health: DependencyHealth): Promise<SharedPubSub> {
  const [ioredis, { createRedisEventTarget }] = await Promise.all([import("ioredis"), import("@graphql-yoga/redis-event-target")]);
  // A CommonJS package: bundled (dist/), its class is the default export.
  const Redis = ioredis.Redis ?? (ioredis as unknown as { default: typeof ioredis.Redis }).default;
  const connect = async (role: string) => {
    const client = new Redis(redisUrl, { lazyConnect: true, connectionName: `kiln-${role}`, maxRetriesPerRequest: null });
    // After start-up a dropped connection is retried forever; only the first one must succeed.
    client.on("error", () => {});
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      throw new Error(`REDIS_URL: cannot reach ${redactUrl(redisUrl)}: ${(error as Error).message}`);
    }
    return client;
  };
  const publishClient = await connect("publish");
  let subscribeClient: Awaited<ReturnType<typeof connect>>;
  try {
    subscribeClient = await connect("subscribe");
  } catch (error) {
    publishClient.disconnect();
    throw error;
  }
  // Up when both connections are ready; the first one to drop marks Redis lost.
  let lastError = "connection closed";
  let closing = false;
  for (const client of [publishClient, subscribeClient]) {
    client.on("error", (error: Error) => {
      lastError = error.message || lastError;
    });
    client.on("close", () => closing || health.lost("Redis", lastError));
    client.on("ready", () => {
      if (publishClient.status === "ready" && subscribeClient.status === "ready") health.reached("Redis");
    });
  }
  // A message that is not JSON (anyone who can publish on this Redis can send one) is dropped:
  // thrown in the message handler, it would end the process.
  const serializer = {
    stringify: JSON.stringify,
    parse: (text: string): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        return null;
      }
    },
  };
  const redis = createRedisEventTarget({ publishClient, subscribeClient, serializer });
  type Listener = Parameters<typeof redis.addEventListener>[1];
  // Kiln never publishes null: a null (or non-object) detail is a dropped message.
  const wrapped = new WeakMap<object, Listener>();
  const dropNull = (listener: Listener): Listener => {
    const key = listener as object;
    let safe = wrapped.get(key);
    if (!safe) {
      const call = (event: CustomEvent) => {
        if (event.detail === null || typeof event.detail !== "object") return;
        if (typeof listener === "function") listener(event);
        else listener?.handleEvent(event);
      };
      safe = call as Listener;
      wrapped.set(key, safe);
    }
    return safe;
  };
  const pubsub = createKilnPubSub({
    addEventListener: (topic: string, listener: Listener) => redis.addEventListener(CHANNEL_PREFIX + topic, dropNull(listener)),
    removeEventListener: (topic: string, listener: Listener) => redis.removeEventListener(CHANNEL_PREFIX + topic, dropNull(listener)),
    dispatchEvent: (event: Event & { detail?: unknown }) =>
      health.isDown("Redis") || redis.dispatchEvent(new CustomEvent(CHANNEL_PREFIX + event.type, { detail: event.detail })),
  } as never);
  return {
    pubsub,
    shared: true,
    async close() {
      closing = true;
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

/**
 * For one subscriber: true for an event at least as new as the newest lease it has seen of
 * that job. An instance that lost a job and has not noticed yet may publish a little longer.
 */
export function newestLeaseOnly(): (event: JobEvent) => boolean {
  const seen = new Map<string, number>();
  return (event) => {
    const newest = seen.get(event.jobId) ?? 0;
    if (event.lease < newest) return false;
    if (event.lease > newest) seen.set(event.jobId, event.lease);
    return true;
  };
}
