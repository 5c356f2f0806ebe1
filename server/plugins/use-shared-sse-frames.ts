// Subscriptions over SSE, written with one chunk per event whose bytes are made once per result:
// subscribers of a shared stream (events/fanout.ts) get the same result object, so the JSON and
// its encoding are done once for all of them, not once each (graphql-yoga's own SSE writer
// encodes every event twice per subscriber). Same wire format: `event: next` frames, a ping
// comment every 12 s, `event: complete` at the end.
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

type FetchApi = { ReadableStream: typeof ReadableStream; Response: typeof Response };

function processSse(result: unknown, fetchAPI: FetchApi): Response {
  const iterator = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
  let ping: NodeJS.Timeout | undefined;
  const stream = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // Some browsers wait for a first byte before they report the stream open.
      controller.enqueue(PING);
      ping = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(ping);
        else if (controller.desiredSize > 0) controller.enqueue(PING);
      }, PING_MS);
    },
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (!next.done) {
          if (next.value != null) controller.enqueue(sseFrame(next.value));
          return;
        }
        controller.enqueue(COMPLETE);
        clearInterval(ping);
        controller.close();
      } catch (error) {
        clearInterval(ping);
        controller.error(error);
      }
    },
    async cancel() {
      clearInterval(ping);
      await iterator.return?.();
    },
  });
  return new fetchAPI.Response(stream, {
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
