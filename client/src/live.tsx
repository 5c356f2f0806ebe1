// The UI's live feed and its connection to Kiln: one `jobUpdates` stream for every view (the
// dashboard's rows, the drawer's vitals), one `driveUpdated` and one `hostUpdated` stream, all on
// the tab's one WebSocket (urql.ts), and the connection state.
// When a stream ends or a request cannot reach Kiln (a restart, a network drop), the banner shows,
// /health is polled, and once Kiln answers the streams are opened again and every view asks for
// its data again: the page recovers by itself, without a reload. Kiln ends the streams with
// EVENTS_UNAVAILABLE when its event bus (Redis, several instances) is away: the banner says so,
// and the streams open again once /health says "ok" rather than "degraded".
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { useClient } from "urql";
import { onEnd, pipe, subscribe } from "wonka";
import { graphql } from "./gql";
import type { LiveHostUpdatesSubscription, LiveJobUpdatesSubscription } from "./gql/graphql";

export type LiveJobEvent = LiveJobUpdatesSubscription["jobUpdates"];
export type LiveInventory = NonNullable<LiveHostUpdatesSubscription["hostUpdated"]["inventory"]>;

const LiveJobUpdates = graphql(`
  subscription LiveJobUpdates {
    jobUpdates {
      jobId
      driveId
      hostId
      status
      progressPct
      stageName
      stageStatus
      stageProgressPct
      phase
      phasePct
      pattern
      mode
      mbps
      latency {
        p50Ms
        p99Ms
        maxMs
      }
      temperatureC
      badBlocks
      elapsedSeconds
      etaSeconds
      paused
      pauseReason
      at
    }
  }
`);

const LiveDriveUpdates = graphql(`
  subscription LiveDriveUpdates {
    driveUpdated {
      id
      temperatureC
      smartHealth
      inUse
      missing
      usage {
        kind
        name
        detail
        active
      }
    }
  }
`);

const LiveHostUpdates = graphql(`
  subscription LiveHostUpdates {
    hostUpdated {
      hostId
      removed
      inventory {
        running
        step
        done
        total
        found
        missing
        error
      }
    }
  }
`);

/** Why the live feed stopped: Kiln cannot be reached, or its event bus (Redis) is away. */
export type Outage = "kiln" | "events";

interface LiveState {
  online: boolean;
  outage: Outage | null;
  /** Goes up each time the connection comes back: views fetch their data again. */
  generation: number;
  jobs: ReadonlyMap<string, LiveJobEvent>;
  /** The latest inventory step (or end) of each host, as hostUpdated told it. */
  inventories: ReadonlyMap<string, LiveInventory>;
}

const LiveContext = createContext<LiveState>({ online: true, outage: null, generation: 0, jobs: new Map(), inventories: new Map() });

/** Events are applied to the page at most this often (a floor of 200 drives sends hundreds a second). */
const FLUSH_MS = 250;
const HEALTH_POLL_MS = 2000;

export function LiveProvider({ children }: { children: ReactNode }) {
  const client = useClient();
  const [outage, setOutage] = useState<Outage | null>(null);
  const online = outage === null;
  const [generation, setGeneration] = useState(0);
  const [jobs, setJobs] = useState<ReadonlyMap<string, LiveJobEvent>>(new Map());
  const [inventories, setInventories] = useState<ReadonlyMap<string, LiveInventory>>(new Map());
  const pending = useRef(new Map<string, LiveJobEvent>());
  const lost = useRef(false);

  const connectionLost = useCallback((why: Outage = "kiln") => {
    if (lost.current) return;
    lost.current = true;
    setOutage(why);
  }, []);

  // Any request that could not reach Kiln says the connection is lost.
  useEffect(() => {
    const offline = () => connectionLost("kiln");
    window.addEventListener("kiln:offline", offline);
    return () => window.removeEventListener("kiln:offline", offline);
  }, [connectionLost]);

  // While offline: ask /health until Kiln answers, then open everything again.
  useEffect(() => {
    if (online) return;
    let stopped = false;
    const timer = setInterval(async () => {
      try {
        const response = await fetch("/health", { cache: "no-store" });
        if (!response.ok || stopped) return;
        // "degraded": Kiln answers but its event bus does not: the streams would end again.
        const health = (await response.json()) as { status?: string };
        if (health.status !== "ok" || stopped) return;
        lost.current = false;
        setOutage(null);
        setGeneration((g) => g + 1);
      } catch {
        // still down
      }
    }, HEALTH_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [online]);

  // The streams, opened again for each generation.
  useEffect(() => {
    if (!online) return;
    let closing = false;
    const ended = (why: Outage = "kiln") => {
      if (!closing) connectionLost(why);
    };
    /** An error result that stops a stream: Kiln's event bus away, or the connection gone. */
    const stopped = (result: {
      error?: { networkError?: unknown; graphQLErrors: ReadonlyArray<{ extensions?: Record<string, unknown> }> };
    }) => {
      if (result.error?.graphQLErrors.some((e) => e.extensions?.code === "EVENTS_UNAVAILABLE")) ended("events");
      else if (result.error?.networkError) ended();
    };
    const jobsFeed = pipe(
      client.subscription(LiveJobUpdates, {}),
      onEnd(() => ended()),
      subscribe((result) => {
        stopped(result);
        const event = result.data?.jobUpdates;
        if (event) pending.current.set(event.jobId, event);
      }),
    );
    const drivesFeed = pipe(
      client.subscription(LiveDriveUpdates, {}),
      onEnd(() => ended()),
      subscribe(stopped),
    );
    // A host added, changed, removed or inventoried (new drives): the cache refetches its lists.
    const hostsFeed = pipe(
      client.subscription(LiveHostUpdates, {}),
      onEnd(() => ended()),
      subscribe((result) => {
        stopped(result);
        const event = result.data?.hostUpdated;
        const inventory = event?.inventory;
        if (event && inventory) setInventories((current) => new Map(current).set(event.hostId, inventory));
      }),
    );
    const flush = setInterval(() => {
      if (pending.current.size === 0) return;
      const batch = pending.current;
      pending.current = new Map();
      setJobs((current) => {
        const next = new Map(current);
        for (const [id, event] of batch) next.set(id, event);
        return next;
      });
    }, FLUSH_MS);
    return () => {
      closing = true;
      clearInterval(flush);
      jobsFeed.unsubscribe();
      drivesFeed.unsubscribe();
      hostsFeed.unsubscribe();
    };
    // generation: a new stream after each reconnect.
  }, [client, online, generation, connectionLost]);

  const value = useMemo(() => ({ online, outage, generation, jobs, inventories }), [online, outage, generation, jobs, inventories]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useConnection(): { online: boolean; outage: Outage | null; generation: number } {
  const { online, outage, generation } = useContext(LiveContext);
  return { online, outage, generation };
}

/** The newest event of a job, if one arrived since the page opened. */
export function useLiveJob(jobId: string | null | undefined): LiveJobEvent | undefined {
  const { jobs } = useContext(LiveContext);
  return jobId ? jobs.get(jobId) : undefined;
}

/** The latest inventory step or end of a host, if one was told since the page opened. */
export function useLiveInventory(hostId: string): LiveInventory | undefined {
  return useContext(LiveContext).inventories.get(hostId);
}

/** Runs `refetch` each time the connection comes back (not on first render). */
export function useRefetchOnReconnect(refetch: () => void): void {
  const { generation } = useConnection();
  const first = useRef(generation);
  const latest = useRef(refetch);
  latest.current = refetch;
  useEffect(() => {
    if (generation !== first.current) latest.current();
  }, [generation]);
}
