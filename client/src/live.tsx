// The UI's live feed and its connection to Kiln: one `jobUpdates` stream for every view (the
// dashboard's rows, the drawer's vitals), one `driveUpdated` and one `hostUpdated` stream, and the
// connection state.
// When a stream ends or a request cannot reach Kiln (a restart, a network drop), the banner shows,
// /health is polled, and once Kiln answers the streams are opened again and every view asks for
// its data again: the page recovers by itself, without a reload.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { useClient } from "urql";
import { onEnd, pipe, subscribe } from "wonka";
import { graphql } from "./gql";
import type { LiveJobUpdatesSubscription } from "./gql/graphql";

export type LiveJobEvent = LiveJobUpdatesSubscription["jobUpdates"];

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
      temperatureC
      badBlocks
      elapsedSeconds
      etaSeconds
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
    }
  }
`);

interface LiveState {
  online: boolean;
  /** Goes up each time the connection comes back: views fetch their data again. */
  generation: number;
  jobs: ReadonlyMap<string, LiveJobEvent>;
}

const LiveContext = createContext<LiveState>({ online: true, generation: 0, jobs: new Map() });

/** Events are applied to the page at most this often (a floor of 200 drives sends hundreds a second). */
const FLUSH_MS = 250;
const HEALTH_POLL_MS = 2000;

export function LiveProvider({ children }: { children: ReactNode }) {
  const client = useClient();
  const [online, setOnline] = useState(true);
  const [generation, setGeneration] = useState(0);
  const [jobs, setJobs] = useState<ReadonlyMap<string, LiveJobEvent>>(new Map());
  const pending = useRef(new Map<string, LiveJobEvent>());
  const lost = useRef(false);

  const connectionLost = useCallback(() => {
    if (lost.current) return;
    lost.current = true;
    setOnline(false);
  }, []);

  // Any request that could not reach Kiln says the connection is lost.
  useEffect(() => {
    window.addEventListener("kiln:offline", connectionLost);
    return () => window.removeEventListener("kiln:offline", connectionLost);
  }, [connectionLost]);

  // While offline: ask /health until Kiln answers, then open everything again.
  useEffect(() => {
    if (online) return;
    let stopped = false;
    const timer = setInterval(async () => {
      try {
        const response = await fetch("/health", { cache: "no-store" });
        if (!response.ok || stopped) return;
        lost.current = false;
        setOnline(true);
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
    const ended = () => {
      if (!closing) connectionLost();
    };
    const jobsFeed = pipe(
      client.subscription(LiveJobUpdates, {}),
      onEnd(ended),
      subscribe((result) => {
        if (result.error?.networkError) ended();
        const event = result.data?.jobUpdates;
        if (event) pending.current.set(event.jobId, event);
      }),
    );
    const drivesFeed = pipe(
      client.subscription(LiveDriveUpdates, {}),
      onEnd(ended),
      subscribe(() => {}),
    );
    // A host added, changed, removed or inventoried (new drives): the cache refetches its lists.
    const hostsFeed = pipe(
      client.subscription(LiveHostUpdates, {}),
      onEnd(ended),
      subscribe(() => {}),
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

  const value = useMemo(() => ({ online, generation, jobs }), [online, generation, jobs]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useConnection(): { online: boolean; generation: number } {
  const { online, generation } = useContext(LiveContext);
  return { online, generation };
}

/** The newest event of a job, if one arrived since the page opened. */
export function useLiveJob(jobId: string | null | undefined): LiveJobEvent | undefined {
  const { jobs } = useContext(LiveContext);
  return jobId ? jobs.get(jobId) : undefined;
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
