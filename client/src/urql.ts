// The API client of the web UI: one normalised cache (graphcache), so a mutation's answer or a
// subscription's event updates every view that shows the same job or drive, without refetching.
// Every subscription of a tab goes over one WebSocket (graphql-ws): a browser allows 6 HTTP/1.1
// connections per host, and three SSE streams per tab left a second tab's requests waiting
// forever. The socket carries the session cookie; Kiln checks its Origin (server/ws.ts), which
// stands for the CSRF header. Queries and mutations stay plain fetches.
import { type Cache, cacheExchange, type Data, type Entity } from "@urql/exchange-graphcache";
import { createClient as createSocketClient } from "graphql-ws";
import { Client, fetchExchange, mapExchange, subscriptionExchange } from "urql";
import { graphql } from "./gql";
import schema from "./gql/introspection";

const JobLive_job = graphql(`
  fragment JobLive_job on BurnInJob {
    id
    status
    progressPct
  }
`);

/** Drop every cached variant (all arguments) of a field, so the views showing it fetch it again. */
function invalidateField(cache: Cache, entity: Entity, fieldName: string): void {
  const key = cache.keyOfEntity(entity);
  if (!key) return;
  for (const field of cache.inspectFields(key)) {
    if (field.fieldName === fieldName) cache.invalidate(key, field.fieldName, field.arguments ?? undefined);
  }
}

interface JobEventFields {
  jobId: string;
  driveId: string;
  status: string;
  progressPct: number;
}

const ENDED = new Set(["passed", "failed", "cancelled", "unknown"]);

/** Types with no id of their own: kept inside the entity or result that holds them. */
const EMBEDDED = [
  "JobProgressEvent",
  "SurfaceScan",
  "SurfaceScanPhase",
  "StageSample",
  "TemperatureReading",
  "Verdict",
  "JobOptions",
  "DriveUsage",
  "SmartChange",
  "Viewer",
  "HostEvent",
  "PageInfo",
  "QueryJobsConnection",
  "QueryJobsConnectionEdge",
  "QueryAuditEventsConnection",
  "QueryAuditEventsConnectionEdge",
];

/** The socket closes with 4403 when the session is gone (signed out elsewhere, expired). */
const SOCKET_FORBIDDEN = 4403;

export function createClient(onUnauthenticated: () => void): Client {
  const socket = createSocketClient({
    url: `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/graphql`,
    // Opened with the first subscription, closed a moment after the last one ends.
    lazy: true,
    lazyCloseTimeout: 3000,
    // A dropped socket ends the tab's streams: the live feed shows the banner and opens them
    // again once Kiln answers (live.tsx), so views also fetch what they missed.
    retryAttempts: 0,
    on: {
      closed: (event) => {
        if ((event as CloseEvent | undefined)?.code === SOCKET_FORBIDDEN) onUnauthenticated();
      },
    },
  });
  return new Client({
    url: "/graphql",
    exchanges: [
      mapExchange({
        onError(error) {
          // A 401 means the session ended: the gate checks /auth/status and shows the sign-in form.
          if ((error.response as Response | undefined)?.status === 401) onUnauthenticated();
          // Kiln could not be reached (restarting, network down): the live feed shows the banner.
          else if (error.networkError) window.dispatchEvent(new Event("kiln:offline"));
        },
      }),
      cacheExchange({
        schema,
        keys: {
          ...Object.fromEntries(EMBEDDED.map((name) => [name, () => null])),
          // One set of settings: setSetting's answer updates every view that shows them.
          Settings: () => "current",
        },
        updates: {
          Subscription: {
            jobUpdates(result: Data, _args, cache) {
              const event = result.jobUpdates as JobEventFields | undefined;
              if (!event) return;
              const job = { __typename: "BurnInJob", id: event.jobId };
              if (cache.resolve(job, "status") === undefined) {
                // A job this page has not seen (started elsewhere): its drive's list of jobs is stale.
                invalidateField(cache, { __typename: "Drive", id: event.driveId }, "jobs");
                return;
              }
              const before = cache.resolve(job, "status");
              cache.writeFragment(JobLive_job, {
                __typename: "BurnInJob",
                id: event.jobId,
                status: event.status,
                progressPct: event.progressPct,
              } as never);
              // Its end: what the event does not carry (the verdict, the report, the reason) is
              // read again by every view that shows it (the dashboard's verdict column stayed empty).
              if (before !== event.status && ENDED.has(event.status)) {
                for (const field of ["verdict", "reportUrl", "finishedAt", "errorText"]) invalidateField(cache, job, field);
              }
            },
            // Rare (an add, a change, a removal, an inventory that may have found drives): every
            // list of hosts and their drives is read again.
            hostUpdated(result: Data, _args, cache) {
              // An inventory's steps change nothing stored; its end (and any other change) does.
              if ((result.hostUpdated as { inventory?: { running?: boolean } | null } | undefined)?.inventory?.running) return;
              invalidateField(cache, "Query", "hosts");
              invalidateField(cache, "Query", "drives");
            },
          },
          Mutation: {
            startBurnIn(_result, args, cache) {
              for (const id of (args.driveIds as string[] | undefined) ?? []) invalidateField(cache, { __typename: "Drive", id }, "jobs");
              invalidateField(cache, "Query", "jobs");
            },
            resumeBurnIn(_result, _args, cache) {
              invalidateField(cache, "Query", "jobs");
              invalidateField(cache, "Query", "drives");
            },
            addHost(_result, _args, cache) {
              invalidateField(cache, "Query", "hosts");
            },
            removeHost(_result, _args, cache) {
              invalidateField(cache, "Query", "hosts");
              invalidateField(cache, "Query", "drives");
            },
            refreshInventory(_result, _args, cache) {
              invalidateField(cache, "Query", "hosts");
            },
            createApiToken(_result, _args, cache) {
              invalidateField(cache, "Query", "apiTokens");
            },
            grantUnlock(_result, args, cache) {
              invalidateField(cache, { __typename: "Drive", id: args.driveId as string }, "unlockGrants");
            },
          },
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: socket.subscribe({ ...request, query: request.query ?? "" }, sink) }),
        }),
      }),
    ],
    fetchOptions: { credentials: "same-origin", headers: { "x-kiln-csrf": "1" } },
  });
}
