// What every resolver gets. Built per request from long-lived dependencies, so a test builds its
// own context on its own database and nothing imports a database singleton.

import { GraphQLError } from "graphql";
import { AUTH_OFF, type Viewer } from "./auth/viewer.js";
import type { Db } from "./db/client.js";
import { DATABASE_UNAVAILABLE_MESSAGE, type DependencyHealth, firstLine, isDatabaseUnreachable } from "./dependency-health.js";
import type { KilnPubSub } from "./events/pubsub.js";
import type { NotificationDispatcher } from "./notify/dispatcher.js";
import type { ReportKey } from "./reports/signing.js";
import type { JobRunner } from "./runner/runner.js";
import { SESSION_COOKIE, viewerFor } from "./services/accounts.js";
import type { HostRegistry } from "./services/host-registry.js";
import type { InventoryRuns } from "./services/inventory-runs.js";

export interface Deps {
  db: Db;
  registry: HostRegistry;
  runner: JobRunner;
  pubsub: KilnPubSub;
  /** Signs burn-in reports (and its public half checks them). */
  reportKey: ReportKey;
  /** Sends queued notifications (a channel's test goes out at once). */
  notifications: NotificationDispatcher;
  /** Outages of the database and Redis (/health, the subscriptions' signal). */
  health: DependencyHealth;
  /** Events go through Redis (several instances): subscriptions end, told, while it is away. */
  sharedEvents: boolean;
  /** Inventories running in the background, one per host at a time. */
  inventory: InventoryRuns;
}

export interface Context extends Deps {
  /** Who is asking and what they may do (server/auth/scopes.ts checks it per root field). */
  viewer: Viewer;
  /** Who is acting, for the audit log. */
  actor: string;
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | null, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

export function bearerToken(header: string | null): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header?.trim() ?? "");
  return match?.[1] ?? null;
}

export function createContext(deps: Deps, options: { auth: boolean }): (initial: { request: Request }) => Promise<Context> {
  return async ({ request }) => {
    const viewer = options.auth
      ? await viewerFor(deps.db, {
          session: cookieValue(request.headers.get("cookie"), SESSION_COOKIE),
          bearer: bearerToken(request.headers.get("authorization")),
        }).catch((error: unknown) => {
          // Credentials live in the database: while it is away nobody is let in, and the caller
          // is told why (a GraphQLError yoga passes on as it is, without a stack in the log).
          if (!isDatabaseUnreachable(error)) throw error;
          deps.health.lost("database", firstLine(error));
          throw databaseUnavailable();
        })
      : AUTH_OFF;
    return { ...deps, viewer, actor: viewer.actor };
  };
}

/** The answer to a request that needs the database while it is not reachable: 503, try again. */
export function databaseUnavailable(path?: ReadonlyArray<string | number>): GraphQLError {
  return new GraphQLError(DATABASE_UNAVAILABLE_MESSAGE, {
    path,
    extensions: { code: "DATABASE_UNAVAILABLE", http: { status: 503, headers: { "retry-after": "5" } } },
  });
}
