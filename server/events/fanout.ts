// Fan-out of dashboard subscriptions. Subscribers that asked the same thing (the same document,
// operation and variables) share one source stream and one execution per event: 100 dashboards
// watching 200 drives cost 200 executions a second, not 20,000. Each subscriber then has its own
// small queue that keeps only the latest result per job (or drive, or host) and hands out at most
// MAX_PER_KEY_PER_SECOND of them per key: a dashboard that reads slowly, or not at all, gets
// fewer, newer events instead of an ever longer backlog, and costs memory for one result per job.
import { createSourceEventStream, type ExecutionArgs, type ExecutionResult, execute, print } from "graphql";

/** Results per job (drive, host) a subscriber is given per second at most; newer ones replace older. */
export const MAX_PER_KEY_PER_SECOND = 2;

/** Which job, drive or host an event is about: results for the same key replace each other. */
export function coalesceKeyOf(event: unknown): string | null {
  const e = event as { jobId?: unknown; driveId?: unknown; hostId?: unknown } | null;
  if (!e || typeof e !== "object") return null;
  for (const k of ["jobId", "driveId", "hostId"] as const) if (typeof e[k] === "string") return `${k}:${e[k]}`;
  return null;
}

interface Pending {
  result: ExecutionResult;
}

/** One subscriber's view of a shared stream: latest result per key, paced per key. */
export class CoalescingQueue implements AsyncIterableIterator<ExecutionResult> {
  private readonly pending = new Map<string, Pending>();
  private readonly lastSent = new Map<string, number>();
  private waiter: ((result: IteratorResult<ExecutionResult>) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private sequence = 0;
  /** Results replaced by a newer one before this subscriber read them. */
  coalesced = 0;

  constructor(
    private readonly onClose: (queue: CoalescingQueue) => void,
    private readonly minIntervalMs = 1000 / MAX_PER_KEY_PER_SECOND,
    private readonly now: () => number = Date.now,
  ) {}

  offer(key: string | null, result: ExecutionResult): void {
    if (this.closed) return;
    const k = key ?? `#${this.sequence++}`;
    const entry = this.pending.get(k);
    if (entry) {
      entry.result = result;
      this.coalesced += 1;
    } else {
      this.pending.set(k, { result });
    }
    this.deliver();
  }

  get backlog(): number {
    return this.pending.size;
  }

  /** Hands the oldest due result to a waiting reader; schedules a retry when none is due yet. */
  private deliver(): void {
    if (!this.waiter) return;
    const now = this.now();
    let wake = Number.POSITIVE_INFINITY;
    for (const [key, entry] of this.pending) {
      const due = (this.lastSent.get(key) ?? Number.NEGATIVE_INFINITY) + this.minIntervalMs;
      if (due <= now) {
        this.pending.delete(key);
        if (!key.startsWith("#")) this.lastSent.set(key, now);
        const resolve = this.waiter;
        this.waiter = null;
        resolve({ done: false, value: entry.result });
        return;
      }
      wake = Math.min(wake, due);
    }
    if (wake !== Number.POSITIVE_INFINITY && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.deliver();
      }, wake - now);
    }
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    if (this.waiter) throw new Error("one reader at a time");
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.deliver();
    });
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    return Promise.resolve({ done: true, value: undefined });
  }

  /** Ends the stream: a waiting reader gets done. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.pending.clear();
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.({ done: true, value: undefined });
    this.onClose(this);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }
}

/** One source stream and its subscribers. */
class Group {
  readonly queues = new Set<CoalescingQueue>();
  private source: AsyncIterator<unknown> | null = null;
  /** Its last subscriber left: it takes no new ones. */
  closed = false;

  constructor(
    private readonly args: ExecutionArgs,
    private readonly onEmpty: () => void,
  ) {}

  /** Opens the source stream; an error result (a refused subscription) is returned instead. */
  async open(): Promise<ExecutionResult | null> {
    const source = await createSourceEventStream(this.args);
    if (!(Symbol.asyncIterator in (source as object))) return source as ExecutionResult;
    this.source = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    void this.pump();
    return null;
  }

  private async pump(): Promise<void> {
    const source = this.source;
    if (!source) return;
    try {
      for (;;) {
        const { value: event, done } = await source.next();
        if (done) break;
        // Executed once for every subscriber of the group.
        const result = await execute({ ...this.args, rootValue: event });
        const key = coalesceKeyOf(event);
        for (const queue of this.queues) queue.offer(key, result);
      }
    } catch (error) {
      console.error("kiln: a shared subscription stream failed", error);
    }
    for (const queue of [...this.queues]) queue.end();
  }

  add(): CoalescingQueue {
    const queue = new CoalescingQueue((q) => {
      this.queues.delete(q);
      if (this.queues.size === 0) {
        this.closed = true;
        this.onEmpty();
        void this.source?.return?.();
      }
    });
    this.queues.add(queue);
    return queue;
  }
}

/** Shared subscriptions, keyed by what was asked. */
export class FanoutHub {
  private readonly groups = new Map<string, Promise<Group | ExecutionResult>>();

  /**
   * `audience` splits groups by who may see what (the caller's scope): a group's stream is
   * authorized once, when its first subscriber opens it, so only callers with the same rights join it.
   */
  async subscribe(args: ExecutionArgs, audience = ""): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const key = `${audience}\u0000${args.operationName ?? ""}\u0000${print(args.document)}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    for (;;) {
      const joined = await this.join(key, args);
      // A group whose last subscriber left while this one waited takes no one: start a new one.
      if (joined !== "closed") return joined;
    }
  }

  private async join(key: string, args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult | "closed"> {
    let pending = this.groups.get(key);
    if (!pending) {
      const group = new Group(args, () => this.groups.delete(key));
      pending = group.open().then((refused) => refused ?? group);
      this.groups.set(key, pending);
    }
    const group = await pending;
    if (!(group instanceof Group)) {
      this.groups.delete(key);
      return group;
    }
    if (group.closed) return "closed";
    return group.add();
  }
}
