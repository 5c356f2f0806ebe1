// write() of the exports and the report zip over a real socket: a client that leaves while the
// next chunk is being made (a PDF drawn, a page of rows read) must end the work, not leave it
// waiting for a "drain" that never comes. That wait held a zip's heavy-work slot for good, and a
// caller who had gone away still counted against its limit (CI of 2026-12-04: heavy-work.test.ts
// "a slot for the read token again" never came).
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { write } from "../../server/exports.js";

const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A response whose client fetched its head and then went away; resolves once its "close" fired. */
async function abandonedResponse(): Promise<ServerResponse> {
  let closed!: (res: ServerResponse) => void;
  const gone = new Promise<ServerResponse>((resolve) => {
    closed = resolve;
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.write("start");
    res.once("close", () => closed(res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const controller = new AbortController();
  await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: controller.signal });
  controller.abort();
  return gone;
}

/** Whether `promise` settles within `ms`, and how. */
function settled(promise: Promise<void>, ms: number): Promise<string> {
  return Promise.race([
    promise.then(
      () => "resolved",
      (error: Error) => `rejected: ${error.message}`,
    ),
    new Promise<string>((resolve) => setTimeout(() => resolve(`still waiting after ${ms} ms`), ms).unref()),
  ]);
}

describe("write() to a response whose client went away", () => {
  it("rejects at once when the client left before the chunk was written", async () => {
    const res = await abandonedResponse();
    expect(await settled(write(res, Buffer.alloc(1 << 20)), 5_000)).toBe("rejected: client went away");
    expect(await settled(write(res, "a small chunk"), 5_000)).toBe("rejected: client went away");
  });

  it("rejects when the client leaves while a write waits for the socket to drain", async () => {
    // Wrapped: a promise resolved with a promise would wait for it.
    let waiting!: (outcome: { settled: Promise<string> }) => void;
    const outcome = new Promise<{ settled: Promise<string> }>((resolve) => {
      waiting = resolve;
    });
    const server = createServer((_req, res) => {
      res.writeHead(200);
      res.flushHeaders();
      // More than the socket takes at once: write() waits for a drain the client never gives.
      waiting({ settled: settled(write(res, Buffer.alloc(16 << 20)), 30_000) });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const controller = new AbortController();
    await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: controller.signal });
    const { settled: pending } = await outcome;
    controller.abort();
    expect(await pending).toBe("rejected: client went away");
  });
});
