// The HTTP side of Kiln: GraphQL (with GraphiQL) at /graphql, GET /health, and the web client.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { EnvelopArmor } from "@escape.tech/graphql-armor";
import { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection";
import { GraphQLError } from "graphql";
import { createYoga, maskError, type YogaServerInstance } from "graphql-yoga";
import { handleAuthRoute } from "./auth-routes.js";
import { type ApiConfig, DEFAULT_CLIENT_DIR } from "./config.js";
import { type Context, createContext, type Deps, databaseUnavailable } from "./context.js";
import { databaseReachable } from "./db/client.js";
import { DATABASE_UNAVAILABLE_MESSAGE, type DependencyHealth, firstLine, isDatabaseUnreachable } from "./dependency-health.js";
import { ValidationError } from "./errors.js";
import { FanoutHub } from "./events/fanout.js";
import { handleExport } from "./exports.js";
import { GRAPHIQL_DOCUMENT, GRAPHIQL_VARIABLES } from "./graphiql-document.js";
import { HeavyWork } from "./heavy-work.js";
import { hostAllowed, hostName, originAllowed } from "./http-guards.js";
import { CSRF_HEADER, useAccessControl } from "./plugins/use-access-control.js";
import { useLiveEventsHealth } from "./plugins/use-live-events-health.js";
import { useNoListCycles } from "./plugins/use-no-list-cycles.js";
import { useRequestLimits } from "./plugins/use-request-limits.js";
import { useSharedSseFrames } from "./plugins/use-shared-sse-frames.js";
import { useSharedSubscriptions } from "./plugins/use-shared-subscriptions.js";
import { handleReportRoute } from "./reports/routes.js";
import { withRequestScope } from "./request-scope.js";
import { schema } from "./schema/index.js";
import { StaticFiles } from "./static-files.js";
import { attachGraphqlWs } from "./ws.js";

/** The HTTP API as the tests and Kiln's defaults see it: every guard on, GraphiQL and introspection on. */
export const DEFAULT_API: ApiConfig = {
  allowedHosts: ["localhost", "127.0.0.1", "[::1]"],
  corsOrigins: [],
  graphiql: true,
  introspection: true,
  auth: true,
  clientDir: DEFAULT_CLIENT_DIR,
};

export function createYogaServer(deps: Deps, api: ApiConfig = DEFAULT_API): YogaServerInstance<Record<string, unknown>, Context> {
  const context = createContext(deps, { auth: api.auth });
  const armor = new EnvelopArmor({
    // Depth and cost (with list multipliers) are the schema's own limits (schema/builder.ts).
    costLimit: { enabled: false },
    maxDepth: { enabled: false },
    maxAliases: { n: 15 },
    maxDirectives: { n: 10 },
    maxTokens: { n: 2000 },
    // A mistyped field name gets no "did you mean" list of the schema's fields.
    blockFieldSuggestion: { enabled: !api.introspection },
  });
  return createYoga<Record<string, unknown>, Context>({
    schema,
    context,
    graphqlEndpoint: "/graphql",
    // A signed-in browser's GraphiQL sends the CSRF header every cookie session must send.
    // It opens with Kiln's own example document and follows subscriptions over graphql-ws.
    graphiql: api.graphiql
      ? {
          title: "Kiln GraphQL",
          headers: JSON.stringify({ [CSRF_HEADER]: "1" }),
          defaultTabs: [{ query: GRAPHIQL_DOCUMENT, variables: GRAPHIQL_VARIABLES }],
          subscriptionsProtocol: "WS",
        }
      : false,
    // GraphiQL from the installed package, not a CDN: Kiln often runs on networks without one.
    // Loaded on the first visit: the page's scripts are 28 MiB of strings a server otherwise keeps.
    renderGraphiQL: async (options) => (await import("@graphql-yoga/render-graphiql")).renderGraphiQL(options),
    landingPage: false,
    // No CORS headers unless origins are configured: other sites' pages cannot read the API.
    cors: api.corsOrigins.length ? { origin: api.corsOrigins, credentials: true, methods: ["GET", "POST"] } : false,
    batching: false,
    plugins: [
      useRequestLimits(),
      useNoListCycles(),
      ...armor.protect().plugins,
      ...(api.introspection ? [] : [useDisableIntrospection()]),
      useAccessControl(),
      ...(deps.sharedEvents ? [useLiveEventsHealth(deps.health)] : []),
      useSharedSubscriptions(new FanoutHub()),
      useSharedSseFrames(),
    ],
    // Unexpected errors reach clients as "Unexpected error." and are logged in full here; a bad
    // cursor is said to be bad without echoing what was sent.
    maskedErrors: { maskError: (error, message, isDev) => maskKilnError(deps.health, error, message, isDev) },
    logging: process.env.KILN_LOG_LEVEL === "debug" ? "debug" : "warn",
  });
}

function maskKilnError(health: DependencyHealth, error: unknown, message: string, isDev?: boolean): Error {
  if (error instanceof GraphQLError && /^Invalid cursor/.test(error.message)) {
    return new GraphQLError("Invalid cursor: pass a cursor from an earlier page of the same list", {
      path: error.path,
      nodes: error.nodes,
    });
  }
  // Bad input thrown where no error union exists (a history filter, a cursor) is said as it is:
  // it names the field and the reason, and holds nothing but what the caller sent.
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (isDatabaseUnreachable(original)) {
    // Told once in the log (not a stack per request), and to the caller as what it is.
    health.lost("database", firstLine(original));
    return databaseUnavailable(error instanceof GraphQLError ? error.path : undefined);
  }
  if (original instanceof ValidationError && error instanceof GraphQLError) {
    return new GraphQLError(original.message, {
      path: error.path,
      nodes: error.nodes,
      extensions: { code: "BAD_USER_INPUT", field: original.field },
    });
  }
  return maskError(error, message, isDev);
}

export function createHttpServer(
  deps: Deps,
  api: ApiConfig = DEFAULT_API,
): { server: Server; yoga: ReturnType<typeof createYogaServer>; closeSockets: () => Promise<void> } {
  const yoga = createYogaServer(deps, api);
  const client = new StaticFiles(api.clientDir);
  const server = createServer((req, res) => {
    if (!hostAllowed(req.headers.host, api.allowedHosts)) {
      // Before anything is read or run: a request for a name Kiln does not answer to.
      res.writeHead(421, { "content-type": "text/plain; charset=utf-8" });
      res.end(`Kiln does not answer to host "${hostName(req.headers.host) ?? ""}": add it to KILN_ALLOWED_HOSTS`);
      return;
    }
    if (req.headers.cookie !== undefined && !originAllowed(req.headers.origin, req.headers, api)) {
      // A page of another origin (another site, or another port of this name) would ride the
      // operator's session cookie: same-site cookies are sent to every port of a name.
      res.writeHead(403, { "content-type": "application/json; charset=utf-8" });
      res.end(
        JSON.stringify({ error: `a page on ${req.headers.origin} may not use Kiln's session: add it to KILN_CORS_ORIGINS if it should` }),
      );
      return;
    }
    // The client's address is known to everything this request runs (the audit log records it).
    withRequestScope({ address: req.socket.remoteAddress ?? null }, () => handle(req, res, deps, yoga, api, heavy, client)).catch(
      (error: unknown) => {
        if (isDatabaseUnreachable(error)) {
          deps.health.lost("database", firstLine(error));
          if (!res.headersSent) res.writeHead(503, { "content-type": "application/json; charset=utf-8", "retry-after": "5" });
          res.end(JSON.stringify({ error: DATABASE_UNAVAILABLE_MESSAGE }));
          return;
        }
        console.error("kiln: request failed", error);
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error");
      },
    );
  });
  // graphql-ws on the same port and path as SSE.
  const sockets = attachGraphqlWs(server, yoga, deps.db, api, deps.health);
  const heavy = new HeavyWork();
  return { server, yoga, closeSockets: sockets.close };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  deps: Deps,
  yoga: ReturnType<typeof createYogaServer>,
  api: ApiConfig,
  heavy: HeavyWork,
  client: StaticFiles,
) {
  const url = new URL(req.url ?? "/", "http://kiln.invalid");
  if (await handleAuthRoute(req, res, deps.db, { auth: api.auth })) return;
  if (await handleExport(req, res, deps.db, api, heavy)) return;
  if (await handleReportRoute(req, res, deps.db, api, deps.reportKey, heavy)) return;
  if (url.pathname === "/health" && (req.method === "GET" || req.method === "HEAD")) {
    const body = await healthReport(deps);
    res.writeHead(body.status === "unavailable" ? 503 : 200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : JSON.stringify(body));
    return;
  }
  if (url.pathname === yoga.graphqlEndpoint || url.pathname.startsWith(`${yoga.graphqlEndpoint}/`)) {
    await yoga.requestListener(req, res);
    return;
  }
  if (req.method === "GET" || req.method === "HEAD") {
    await client.serve(req, url.pathname, res);
    return;
  }
  res.writeHead(405, { "content-type": "text/plain" });
  res.end("method not allowed");
}

/**
 * What /health answers: "unavailable" (503) without the database; "degraded" (200) without
 * Redis, which only carries live events and commands between instances: this instance still
 * runs its jobs and answers the API, so a load balancer should keep it.
 */
async function healthReport(deps: Deps): Promise<{ status: "ok" | "degraded" | "unavailable"; database: string; redis?: string }> {
  const database = await databaseReachable(deps.db);
  if (database) deps.health.reached("database");
  else deps.health.lost("database", "it does not answer SELECT 1");
  const redis = deps.sharedEvents ? (deps.health.isDown("Redis") ? "unreachable" : "reachable") : undefined;
  return {
    status: !database ? "unavailable" : redis === "unreachable" ? "degraded" : "ok",
    database: database ? "reachable" : "unreachable",
    ...(redis ? { redis } : {}),
  };
}
