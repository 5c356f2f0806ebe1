// The per-subscriber queue of shared subscriptions: latest result per job wins, each job is
// handed out at most twice a second, results without a key are never merged, and ending the
// stream releases a waiting reader.
import type { ExecutionResult } from "graphql";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CoalescingQueue, coalesceKeyOf } from "../../server/events/fanout.js";

// A test that fails half-way must not leave fake timers to the next one.
afterEach(() => {
  vi.useRealTimers();
});

const result = (n: number): ExecutionResult => ({ data: { n } });

describe("CoalescingQueue", () => {
  it("keeps the latest result per key and paces each key", async () => {
    vi.useFakeTimers();
    try {
      let clock = 0;
      const queue = new CoalescingQueue(
        () => {},
        500,
        () => clock,
      );
      queue.offer("job:a", result(1));
      expect((await queue.next()).value).toEqual(result(1));
      // Three more for job a inside its 500 ms window: only the newest survives.
      queue.offer("job:a", result(2));
      queue.offer("job:a", result(3));
      queue.offer("job:b", result(10));
      queue.offer("job:a", result(4));
      expect(queue.backlog).toBe(2);
      expect(queue.coalesced).toBe(2);
      // b is due at once; a only once its window has passed.
      expect((await queue.next()).value).toEqual(result(10));
      const later = queue.next();
      clock = 500;
      await vi.advanceTimersByTimeAsync(500);
      expect((await later).value).toEqual(result(4));
      expect(queue.backlog).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("never merges results without a key, and ends a waiting reader", async () => {
    const closed: CoalescingQueue[] = [];
    const queue = new CoalescingQueue((q) => closed.push(q), 500);
    queue.offer(null, result(1));
    queue.offer(null, result(2));
    expect(queue.backlog).toBe(2);
    expect((await queue.next()).value).toEqual(result(1));
    expect((await queue.next()).value).toEqual(result(2));
    const waiting = queue.next();
    queue.end();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(closed).toEqual([queue]);
  });

  it("keys events by job, then drive, then host", () => {
    expect(coalesceKeyOf({ jobId: "j", driveId: "d" })).toBe("jobId:j");
    expect(coalesceKeyOf({ driveId: "d", hostId: "h" })).toBe("driveId:d");
    expect(coalesceKeyOf({ hostId: "h", removed: false })).toBe("hostId:h");
    expect(coalesceKeyOf("x")).toBeNull();
  });
});
