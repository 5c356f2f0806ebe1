// The HTTP side of Kiln: GraphQL (with GraphiQL) at /graphql, GET /health, and the web client.
import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import path from "node:path";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import { type Context, createContext, type Deps } from "./context.js";
import { databaseReachable } from "./db/client.js";
import { schema } from "./schema/index.js";

const CLIENT_DIST = path.resolve(import.meta.dirname, "..", "client", "dist");
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

export function createYogaServer(deps: Deps): YogaServerInstance<Record<string, unknown>, Context> {
  const context = createContext(deps);
  return createYoga<Record<string, unknown>, Context>({
    schema,
    context,
    graphqlEndpoint: "/graphql",
    graphiql: { title: "Kiln GraphQL" },
    // GraphiQL from the installed package, not a CDN: Kiln often runs on networks without one.
    renderGraphiQL,
    landingPage: false,
    // Unexpected errors reach clients as "Unexpected error." and are logged in full here.
    maskedErrors: true,
    logging: process.env.KILN_LOG_LEVEL === "debug" ? "debug" : "warn",
  });
}

export function createHttpServer(deps: Deps): { server: Server; yoga: ReturnType<typeof createYogaServer> } {
  const yoga = createYogaServer(deps);
  const server = createServer((req, res) => {
    handle(req, res, deps, yoga).catch((error: unknown) => {
      console.error("kiln: request failed", error);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error");
    });
  });
  return { server, yoga };
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: Deps, yoga: ReturnType<typeof createYogaServer>) {
  const url = new URL(req.url ?? "/", "http://kiln.invalid");
  if (url.pathname === "/health" && (req.method === "GET" || req.method === "HEAD")) {
    const ok = await databaseReachable(deps.db);
    res.writeHead(ok ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(
      req.method === "HEAD" ? undefined : JSON.stringify({ status: ok ? "ok" : "unavailable", database: ok ? "reachable" : "unreachable" }),
    );
    return;
  }
  if (url.pathname === yoga.graphqlEndpoint || url.pathname.startsWith(`${yoga.graphqlEndpoint}/`)) {
    await yoga.requestListener(req, res);
    return;
  }
  if (req.method === "GET" || req.method === "HEAD") {
    await serveClient(url.pathname, res);
    return;
  }
  res.writeHead(405, { "content-type": "text/plain" });
  res.end("method not allowed");
}

/** Files of the built web client; unknown paths get index.html (client-side routes). */
async function serveClient(pathname: string, res: ServerResponse): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400, { "content-type": "text/plain" });
    res.end("bad path");
    return;
  }
  const relative = path.normalize(decoded).replace(/^(\.\.[/\\])+/, "");
  let file = path.join(CLIENT_DIST, relative);
  if (!file.startsWith(CLIENT_DIST)) file = path.join(CLIENT_DIST, "index.html");
  const isFile = await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) file = path.join(CLIENT_DIST, "index.html");
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("The web client is not built (npm run build:client). GraphiQL is at /graphql.");
  }
}
