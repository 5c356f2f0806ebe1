// Subscriptions over SSE, written with one chunk per event whose bytes are made once per result:
// subscribers of a shared stream (events/fanout.ts) get the same result object, so the JSON and
// its encoding are done once for all of them, not once each (graphql-yoga's own SSE writer
// encodes every event twice per subscriber and goes through a web ReadableStream). Same wire
// format: `event: next` frames, a ping comment every 12 s, `event: complete` at the end.
import { Readable } from "node:stream";
import { type ExecutionResult, GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

const encoder = new TextEncoder();
const PING = encoder.encode(":\n\n");
const COMPLETE = encoder.encode("event: complete\ndata:\n\n");
const PING_MS = 12_000;
const frames = new WeakMap<object, Uint8Array>();

/** What a client may see of an error: message, locations, path, extensions without Kiln's http hints. */
function publicError(error: unknown): unknown {
  if (!(error instanceof GraphQLError)) return error;
  const json = error.toJSON();
  if (json.extensions) {
    const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions as Record<string, unknown>;
    return { ...json, extensions: Object.keys(extensions).length ? extensions : undefined };
  }
  return json;
}

export function sseFrame(result: ExecutionResult): Uint8Array {
  let frame = frames.get(result);
  if (!frame) {
    const body = result.errors?.length ? { ...result, errors: result.errors.map(publicError) } : result;
    frame = encoder.encode(`event: next\ndata: ${JSON.stringify(body)}\n\n`);
    frames.set(result, frame);
  }
  return frame;
}

type FetchApi = { Response: typeof Response };

/**
 * The event stream as a Node Readable: the server adapter pipes it to the socket, with Node's own
 * back-pressure (the next result is asked for only when the socket has taken the last).
 */
class SseStream extends Readable {
  private readonly ping: NodeJS.Timeout;
  private pulling = false;

  constructor(private readonly source: AsyncIterator<ExecutionResult>) {
    super();
    // Some browsers wait for a first byte before they report the stream open.
    this.push(PING);
    this.ping = setInterval(() => {
      if (this.readableLength === 0) this.push(PING);
    }, PING_MS);
  }

  override _read(): void {
    if (this.pulling) return;
    this.pulling = true;
    this.source.next().then(
      (next) => {
        this.pulling = false;
        if (this.destroyed) return;
        if (!next.done) {
          if (next.value != null) this.push(sseFrame(next.value));
          else this._read();
          return;
        }
        clearInterval(this.ping);
        this.push(COMPLETE);
        this.push(null);
      },
      (error: unknown) => this.destroy(error as Error),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearInterval(this.ping);
    Promise.resolve(this.source.return?.()).then(
      () => callback(error),
      () => callback(error),
    );
  }
}

function processSse(result: unknown, fetchAPI: FetchApi): Response {
  const iterator = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
  return new fetchAPI.Response(new SseStream(iterator) as unknown as BodyInit, {
    status: 200,
    headers: { "content-type": "text/event-stream", connection: "keep-alive", "cache-control": "no-cache", "content-encoding": "none" },
  });
}

export function useSharedSseFrames(): Plugin {
  return {
    onResultProcess({ request, result, setResultProcessor }) {
      if (!result || typeof result !== "object" || !(Symbol.asyncIterator in result)) return;
      if (!(request.headers.get("accept") ?? "").includes("text/event-stream")) return;
      setResultProcessor(processSse as never, "text/event-stream");
    },
  };
}
