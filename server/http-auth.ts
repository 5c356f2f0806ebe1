// Who may use the plain HTTP routes beside GraphQL (exports, reports): a session cookie or an API
// token (Authorization: Bearer), with at least the read scope, as for the API's queries.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AUTH_OFF, allows, type Viewer } from "./auth/viewer.js";
import type { ApiConfig } from "./config.js";
import { bearerToken, cookieValue } from "./context.js";
import type { Db } from "./db/client.js";
import { SESSION_COOKIE, viewerFor } from "./services/accounts.js";

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** The caller when they may read; otherwise answers 401/403 (naming `what`) and returns null. */
export async function authorizeRead(
  req: IncomingMessage,
  res: ServerResponse,
  db: Db,
  api: ApiConfig,
  what: string,
): Promise<Viewer | null> {
  if (!api.auth) return AUTH_OFF;
  const viewer = await viewerFor(db, {
    session: cookieValue(req.headers.cookie ?? null, SESSION_COOKIE),
    bearer: bearerToken(req.headers.authorization ?? null),
  });
  if (viewer.scope === null) {
    sendJson(res, 401, { error: "sign in (a session cookie) or send an API token (Authorization: Bearer ...)" });
    return null;
  }
  if (!allows(viewer.scope, "read")) {
    sendJson(res, 403, { error: `${what} need the read scope` });
    return null;
  }
  return viewer;
}
