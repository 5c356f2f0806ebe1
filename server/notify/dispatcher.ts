// The notification outbox. Raising an event writes one NotificationDelivery row per channel that
// wants it and returns: the runner never waits on a mail server. The dispatcher sends due rows in
// the background, retries a failure after notificationRetrySeconds, then 4x longer each time
// (6 attempts), and keeps every attempt's outcome in the row: that is the delivery log. A row is
// claimed (pending -> sending) before it is sent, so two dispatchers never send it twice; one left
// "sending" by a crash is taken up again after a while.
import type { Db } from "../db/client.js";
import { DependencyHealth, outageBackoffMs } from "../dependency-health.js";
import { getSettings } from "../services/settings.js";
import type { ChannelConfig, ChannelKind, NotificationEvent } from "./channels.js";
import { type NotificationMessage, sendMessage } from "./senders.js";

export const MAX_ATTEMPTS = 6;
const BATCH = 10;
const STALE_SENDING_MS = 5 * 60_000;
const IDLE_CHECK_MS = 60_000;

export interface EnqueueOptions {
  /** The event concerns one job of a batch: channels that fold batches leave it to the summary. */
  partOfBatch?: boolean;
  /** Only this channel (a test message), whatever its events. */
  channelId?: string;
}

/** One delivery per enabled channel that wants `event`; returns their ids. */
export async function enqueueNotification(db: Db, message: NotificationMessage, options: EnqueueOptions = {}): Promise<string[]> {
  const channels = await db.notificationChannel.findMany({
    where: options.channelId ? { id: options.channelId } : { enabled: true },
    select: { id: true, events: true, foldBatch: true },
  });
  const wanted = channels.filter((c) => {
    if (options.channelId) return true;
    const events = JSON.parse(c.events) as NotificationEvent[];
    return events.includes(message.event) && !(options.partOfBatch && c.foldBatch && message.event.startsWith("job."));
  });
  const ids: string[] = [];
  for (const channel of wanted) {
    const row = await db.notificationDelivery.create({
      data: { channelId: channel.id, event: message.event, message: JSON.stringify(message) },
      select: { id: true },
    });
    ids.push(row.id);
  }
  return ids;
}

export class NotificationDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Failed rounds in a row (the database away): the next waits longer, up to a few seconds. */
  private failures = 0;

  constructor(
    private readonly db: Db,
    private readonly log: (line: string) => void = () => {},
    private readonly now: () => number = Date.now,
    private readonly health: DependencyHealth = new DependencyHealth(log, now),
  ) {}

  async start(): Promise<void> {
    // Rows a stopped Kiln was sending: not known to have arrived, so they are sent again.
    await this.db.notificationDelivery.updateMany({
      where: { status: "sending", nextAttemptAt: { lt: new Date(this.now() - STALE_SENDING_MS) } },
      data: { status: "pending" },
    });
    this.wake();
  }

  /** Send what is due now (called after an enqueue). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.runDue()
      .then(() => {
        this.failures = 0;
        this.health.reached("database");
      })
      .catch((error: unknown) => {
        this.failures += 1;
        this.health.failed("notifications", error);
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        } else this.scheduleNext();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Sends one delivery now (a channel's test); returns its row once it was attempted. */
  async deliverNow(id: string) {
    await this.attempt(id);
    // The background loop may have claimed it first: wait for its attempt to end.
    for (let waited = 0; ; waited += 100) {
      const row = await this.db.notificationDelivery.findUniqueOrThrow({ where: { id } });
      if ((row.status !== "pending" && row.status !== "sending") || row.attempts > 0 || waited >= 15_000) return row;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Wakes when the next pending delivery is due; a round that failed is tried again soon. */
  private scheduleNext(): void {
    if (this.stopped) return;
    const setTimer = (ms: number) => {
      if (this.stopped || this.running) return;
      this.timer = setTimeout(() => this.wake(), ms);
      this.timer.unref();
    };
    if (this.failures > 0) {
      setTimer(outageBackoffMs(this.failures));
      return;
    }
    this.db.notificationDelivery
      .findFirst({ where: { status: "pending" }, orderBy: { nextAttemptAt: "asc" }, select: { nextAttemptAt: true } })
      .then(
        (next) => setTimer(Math.min(next ? Math.max(0, next.nextAttemptAt.getTime() - this.now()) : IDLE_CHECK_MS, IDLE_CHECK_MS)),
        // The database went away between the round and this look: the next round finds out.
        (error: unknown) => {
          this.failures += 1;
          this.health.failed("notifications", error);
          setTimer(outageBackoffMs(this.failures));
        },
      );
  }

  private async runDue(): Promise<void> {
    for (;;) {
      const due = await this.db.notificationDelivery.findMany({
        where: { status: "pending", nextAttemptAt: { lte: new Date(this.now()) } },
        orderBy: { nextAttemptAt: "asc" },
        take: BATCH,
        select: { id: true },
      });
      if (!due.length || this.stopped) return;
      await Promise.all(due.map((d) => this.attempt(d.id)));
    }
  }

  private async attempt(id: string): Promise<void> {
    // The claim: only one sender gets the row.
    const claimed = await this.db.notificationDelivery.updateMany({
      where: { id, status: "pending" },
      data: { status: "sending", nextAttemptAt: new Date(this.now()) },
    });
    if (claimed.count !== 1) return;
    const row = await this.db.notificationDelivery.findUniqueOrThrow({ where: { id }, include: { channel: true } });
    const attempts = row.attempts + 1;
    try {
      const message = JSON.parse(row.message) as NotificationMessage;
      await sendMessage(row.channel.kind as ChannelKind, JSON.parse(row.channel.config) as ChannelConfig[ChannelKind], message, row.id);
      await this.db.notificationDelivery.update({
        where: { id },
        // lastError stays: the log shows why earlier attempts of a sent message failed.
        data: { status: "sent", attempts, sentAt: new Date(this.now()) },
      });
    } catch (error) {
      const reason =
        error instanceof Error
          ? error.cause instanceof Error
            ? `${error.message}: ${error.cause.message}`
            : error.message
          : String(error);
      const { notificationRetrySeconds } = await getSettings(this.db);
      // A test is answered at once to the admin who asked; it is not retried.
      const last = attempts >= MAX_ATTEMPTS || row.event === "test";
      await this.db.notificationDelivery.update({
        where: { id },
        data: {
          status: last ? "failed" : "pending",
          attempts,
          lastError: reason.slice(0, 500),
          nextAttemptAt: new Date(this.now() + notificationRetrySeconds * 1000 * 4 ** (attempts - 1)),
        },
      });
      this.log(`kiln: notification to ${row.channel.name} failed (attempt ${attempts} of ${MAX_ATTEMPTS}): ${reason}`);
    }
  }
}
