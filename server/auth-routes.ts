// The only API calls that need no sign-in: /auth/status, /auth/setup (the first admin, while
// there is none), /auth/login and /auth/logout. JSON in, JSON out; the session is an HttpOnly,
// SameSite=Strict cookie. Everything else is GraphQL and needs a session or a token.
import type { IncomingMessage, ServerResponse } from "node:http";
import { cookieValue } from "./context.js";
import type { Db } from "./db/client.js";
import { ValidationError } from "./errors.js";
import { AuthError, accountsExist, login, logout, SESSION_COOKIE, SESSION_HOURS, setupAdmin, viewerFor } from "./services/accounts.js";

const MAX_AUTH_BODY = 16 * 1024;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw new HttpError(415, "send application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_AUTH_BODY) throw new HttpError(413, `request body over ${MAX_AUTH_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "the body is not valid JSON");
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

/** Handles /auth/*; false when the path is not one of its routes. */
export async function handleAuthRoute(req: IncomingMessage, res: ServerResponse, db: Db, options: { auth: boolean }): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://kiln.invalid");
  if (!url.pathname.startsWith("/auth/")) return false;
  const address = req.socket.remoteAddress ?? null;
  // Behind TLS termination the proxy says so; Kiln itself speaks plain HTTP.
  const secure = req.headers["x-forwarded-proto"] === "https";
  try {
    if (url.pathname === "/auth/status" && req.method === "GET") {
      const viewer = options.auth
        ? await viewerFor(db, { session: cookieValue(req.headers.cookie ?? null, SESSION_COOKIE) })
        : { actor: "local", scope: "admin" };
      send(res, 200, {
        auth: options.auth ? "on" : "off",
        setupRequired: options.auth && !(await accountsExist(db)),
        signedIn: viewer.scope !== null,
        user: viewer.scope !== null ? viewer.actor : null,
        scope: viewer.scope,
      });
      return true;
    }
    if (req.method !== "POST") throw new HttpError(405, "use POST");
    if (url.pathname === "/auth/setup") {
      if (!options.auth) throw new HttpError(409, "KILN_AUTH is off: there are no accounts to set up");
      const body = await readJson(req);
      const user = await setupAdmin(db, body);
      // The new admin is signed in at once.
      const { token } = await login(db, body, address);
      send(res, 201, { user: user.username, role: user.role }, { "set-cookie": sessionCookie(token, SESSION_HOURS * 3600, secure) });
      return true;
    }
    if (url.pathname === "/auth/login") {
      const { user, token } = await login(db, await readJson(req), address);
      send(res, 200, { user: user.username, role: user.role }, { "set-cookie": sessionCookie(token, SESSION_HOURS * 3600, secure) });
      return true;
    }
    if (url.pathname === "/auth/logout") {
      const token = cookieValue(req.headers.cookie ?? null, SESSION_COOKIE);
      if (token) await logout(db, token);
      send(res, 200, { signedOut: true }, { "set-cookie": sessionCookie("", 0, secure) });
      return true;
    }
    throw new HttpError(404, "no such route");
  } catch (error) {
    if (error instanceof HttpError) send(res, error.status, { error: error.message });
    else if (error instanceof AuthError)
      send(res, error.status, { error: error.message }, error.retryAfterSeconds ? { "retry-after": String(error.retryAfterSeconds) } : {});
    else if (error instanceof ValidationError) send(res, 400, { error: error.message, field: error.field });
    else throw error;
    return true;
  }
}
