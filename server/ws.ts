// graphql-ws (the "graphql-transport-ws" protocol) on /graphql, beside SSE: the same schema, the
// same plugins (limits, armor, access control) through yoga.getEnveloped, the same viewer.
//
// Who may open a socket: the Host header must be a name Kiln answers to (DNS rebinding), and a
// browser's Origin must be Kiln itself (scheme, name and port) or an allowed CORS origin (a page
// on another site, or on another port of the same name, cannot ride the operator's session cookie
// over a WebSocket, which has no CORS). A socket that passed
// the Origin check counts as having sent the CSRF header a cookie session needs. A script sends
// its token as the connection parameter `authorization: "Bearer kiln_..."` (or the header).
// Nobody signed in: the socket closes with 4403 before any operation runs.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type DocumentNode, type ExecutionArgs, GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import type { YogaServerInstance } from "graphql-yoga";
import { WebSocketServer } from "ws";
import type { ApiConfig } from "./config.js";
import { bearerToken, type Context, cookieValue } from "./context.js";
import type { Db } from "./db/client.js";
import { DATABASE_UNAVAILABLE_MESSAGE, type DependencyHealth, firstLine, isDatabaseUnreachable } from "./dependency-health.js";
import { hostAllowed, originAllowed } from "./http-guards.js";
import { CSRF_HEADER } from "./plugins/use-access-control.js";
import { SESSION_COOKIE, viewerFor } from "./services/accounts.js";

/** A message larger than this closes the socket (the HTTP body limit, for WebSocket). */
export const WS_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Operations one socket may have open at once. */
export const WS_MAX_OPERATIONS = 50;

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\n${reason}\n`);
}

interface SocketExtra {
  request: IncomingMessage;
  /** The upgrade request as a fetch Request, with the token from the connection parameters. */
  kilnRequest?: Request;
  /** Ids of the operations running on this socket. */
  open?: Set<string>;
}

async function asResult<T>(run: () => T | Promise<T>): Promise<T | { errors: GraphQLError[] }> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    throw error;
  }
}

type Enveloped = ReturnType<YogaServerInstance<Record<string, unknown>, Context>["getEnveloped"]>;

export function attachGraphqlWs(
  server: Server,
  yoga: YogaServerInstance<Record<string, unknown>, Context>,
  db: Db,
  api: ApiConfig,
  health: DependencyHealth,
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_MESSAGE_BYTES });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://kiln.invalid").pathname;
    if (path !== yoga.graphqlEndpoint) return refuseUpgrade(socket, 404, "Not Found");
    if (!hostAllowed(req.headers.host, api.allowedHosts)) return refuseUpgrade(socket, 421, "Misdirected Request");
    if (!originAllowed(req.headers.origin, req.headers, api)) return refuseUpgrade(socket, 403, "Forbidden");
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  useServer<Record<string, unknown> | undefined, Partial<SocketExtra>>(
    {
      // A refusal thrown by a plugin (access control: 401/403) is the operation's error, as over
      // HTTP, not a broken socket.
      execute: (args) => asResult(() => (args.rootValue as Enveloped).execute(args as ExecutionArgs)),
      subscribe: (args) => asResult(() => (args.rootValue as Enveloped).subscribe(args as ExecutionArgs)),
      onConnect: async (ctx) => {
        const req = ctx.extra.request as IncomingMessage;
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        const param = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (typeof param === "string") headers.set("authorization", param);
        // The Origin check above is this socket's CSRF protection; as for a POST with the CSRF
        // header, mutations may run on it.
        headers.set(CSRF_HEADER, "ws");
        ctx.extra.kilnRequest = new Request(`http://${req.headers.host ?? "kiln.invalid"}${req.url ?? "/graphql"}`, {
          method: "POST",
          headers,
        });
        if (!api.auth) return true;
        const viewer = await viewerFor(db, {
          session: cookieValue(headers.get("cookie"), SESSION_COOKIE),
          bearer: bearerToken(headers.get("authorization")),
        }).catch((error: unknown) => {
          if (!isDatabaseUnreachable(error)) throw error;
          // 1013 Try Again Later: the credential could not be checked, which is not a refusal
          // (4403 signs a browser tab out) and not a stack in the log.
          health.lost("database", firstLine(error));
          ctx.extra.socket.close(1013, DATABASE_UNAVAILABLE_MESSAGE);
          return null;
        });
        // false closes the socket with 4403 Forbidden.
        return viewer !== null && viewer.scope !== null;
      },
      onSubscribe: async (ctx, id, payload) => {
        ctx.extra.open ??= new Set();
        const open = ctx.extra.open;
        if (open.size >= WS_MAX_OPERATIONS) return [new GraphQLError(`at most ${WS_MAX_OPERATIONS} operations at once on one socket`)];
        const enveloped = yoga.getEnveloped({ ...ctx, request: ctx.extra.kilnRequest, params: payload });
        let document: DocumentNode;
        try {
          // The same parser limits as over HTTP (tokens, aliases, directives).
          document = enveloped.parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError("the query cannot be parsed")];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length) return errors;
        open.add(id);
        return {
          schema: enveloped.schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: enveloped,
        };
      },
      onComplete: (ctx, id) => {
        ctx.extra.open?.delete(id);
      },
    },
    wss,
  );

  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
