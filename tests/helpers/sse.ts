// A GraphQL subscription over Server-Sent Events (graphql-yoga's default transport), read with
// fetch: what a browser's EventSource or an integration would see.
export interface Subscription<T> {
  events: T[];
  close(): void;
  /** Resolves when an event satisfies `predicate` (or rejects after `timeoutMs`). */
  until(predicate: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves with the HTTP status once the server ends the stream (not when close() is called). */
  ended: Promise<number>;
}

export function subscribe<T>(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Subscription<T> {
  const controller = new AbortController();
  const events: T[] = [];
  const waiters: Array<{ predicate: (e: T) => boolean; resolve: (e: T) => void }> = [];
  const url = `${baseUrl}/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify(variables))}`;
  let markEnded: (status: number) => void = () => {};
  const ended = new Promise<number>((resolve) => {
    markEnded = resolve;
  });
  void (async () => {
    const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal });
    const reader = response.body?.getReader();
    if (!reader) return markEnded(response.status);
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return markEnded(response.status);
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trim())
          .join("");
        if (data) {
          const payload = JSON.parse(data) as { data?: Record<string, T> };
          const event = payload.data ? (Object.values(payload.data)[0] as T) : undefined;
          if (event !== undefined) {
            events.push(event);
            for (const w of waiters.splice(0)) {
              if (w.predicate(event)) w.resolve(event);
              else waiters.push(w);
            }
          }
        }
        end = buffer.indexOf("\n\n");
      }
    }
  })().catch(() => {});
  return {
    events,
    ended,
    close: () => controller.abort(),
    until(predicate, timeoutMs = 60_000) {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timed out waiting for a subscription event")), timeoutMs);
        waiters.push({
          predicate,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
}
