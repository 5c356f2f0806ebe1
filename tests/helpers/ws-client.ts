// A graphql-ws client as a browser or a script opens one: connection params (a token) and the
// upgrade request's own headers (Origin, a session cookie), which the `ws` package sends.
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";

export function graphqlWsClient(kilnUrl: string, connectionParams: Record<string, unknown>, headers: Record<string, string> = {}): Client {
  return createClient({
    url: `${kilnUrl.replace(/^http/, "ws")}/graphql`,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    webSocketImpl: class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers });
      }
    },
  });
}
