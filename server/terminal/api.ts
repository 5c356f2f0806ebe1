// The terminal client's view of a Kiln: GraphQL over HTTP with an API token, and subscriptions
// over SSE. What a server sends is not trusted: frames are bounded, and text meant for the
// terminal has its control characters removed (a drive's model comes from a host, and an escape
// sequence in it must not rewrite the operator's terminal).

export interface ApiOptions {
  url: string;
  token: string | null;
}

/** At most this much of one SSE frame is kept; a longer one ends the stream with an error. */
export const MAX_FRAME_BYTES = 1024 * 1024;

export class ApiError extends Error {
  override name = "ApiError";
}

/** Text from the server, safe to print: no control characters (ESC, CR, BEL...), at most `max` characters. */
export function printable(value: unknown, max = 200): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const text = String(value ?? "").replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function headers(options: ApiOptions, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...extra };
}

export async function graphql<T>(options: ApiOptions, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(new URL("/graphql", options.url), {
      method: "POST",
      headers: headers(options, { "content-type": "application/json", accept: "application/json" }),
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError(`cannot reach Kiln at ${options.url}: ${(error as Error).cause ?? (error as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as { data?: T; errors?: Array<{ message: string }> } | null;
  if (response.status === 401) throw new ApiError("Kiln wants an API token: set KILN_TOKEN (or --token)");
  if (body?.errors?.length) throw new ApiError(body.errors.map((e) => printable(e.message, 500)).join("; "));
  if (!response.ok || !body?.data) throw new ApiError(`Kiln answered ${response.status}`);
  return body.data;
}

/** A GET of a file-like endpoint (/api/jobs.csv), streamed to `write`. */
export async function download(options: ApiOptions, path: string, write: (chunk: Uint8Array) => void): Promise<void> {
  const response = await fetch(new URL(path, options.url), { headers: headers(options) });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { error?: string };
    throw new ApiError(printable(body.error ?? `Kiln answered ${response.status}`, 500));
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) write(chunk);
}

/** The events of a subscription over SSE, until the server completes it or `signal` aborts. */
export async function* subscribe<T>(
  options: ApiOptions,
  query: string,
  variables: Record<string, unknown> = {},
  signal?: AbortSignal,
): AsyncGenerator<T> {
  const url = new URL("/graphql", options.url);
  url.searchParams.set("query", query);
  url.searchParams.set("variables", JSON.stringify(variables));
  let response: Response;
  try {
    response = await fetch(url, { headers: headers(options, { accept: "text/event-stream" }), signal });
  } catch (error) {
    if (signal?.aborted) return;
    throw new ApiError(`cannot reach Kiln at ${options.url}: ${(error as Error).cause ?? (error as Error).message}`);
  }
  if (response.status === 401) throw new ApiError("Kiln wants an API token: set KILN_TOKEN (or --token)");
  if (!response.ok || !response.body) throw new ApiError(`Kiln answered ${response.status}`);
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      if (buffer.length > MAX_FRAME_BYTES) throw new ApiError(`the server sent an event over ${MAX_FRAME_BYTES} bytes`);
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (frame.startsWith("event: complete")) return;
        const data = frame
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (!data) continue;
        const payload = JSON.parse(data) as { data?: Record<string, T>; errors?: Array<{ message: string }> };
        if (payload.errors?.length) throw new ApiError(payload.errors.map((e) => printable(e.message, 500)).join("; "));
        const value = payload.data ? Object.values(payload.data)[0] : undefined;
        if (value !== undefined) yield value;
      }
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
}
