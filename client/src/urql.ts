// The API client of the web UI: one normalised cache (graphcache), so a mutation's answer or a
// subscription's event updates every view that shows the same job or drive, without refetching.
// Subscriptions go over fetch (SSE), which carries the session cookie and the CSRF header a
// cookie session must send (a browser's EventSource could not add it).
import { type Cache, cacheExchange, type Data, type Entity } from "@urql/exchange-graphcache";
import { Client, fetchExchange, mapExchange } from "urql";
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

export function createClient(onUnauthenticated: () => void): Client {
  return new Client({
    url: "/graphql",
    fetchSubscriptions: true,
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
              cache.writeFragment(JobLive_job, {
                __typename: "BurnInJob",
                id: event.jobId,
                status: event.status,
                progressPct: event.progressPct,
              } as never);
            },
            // Rare (an add, a change, a removal, an inventory that may have found drives): every
            // list of hosts and their drives is read again.
            hostUpdated(_result, _args, cache) {
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
    ],
    fetchOptions: { credentials: "same-origin", headers: { "x-kiln-csrf": "1" } },
  });
}
