// What Kiln tells people about, taken from its own event streams (jobs and hosts): a job's end by
// outcome, the first bad block of a scan, SMART counters that changed during a run, a drive at
// or over the hot threshold, a host that became unreachable and came back, and the end of a
// batch (the drives one start call began) as one summary. Each condition is told once: its key
// is stored (NotificationCondition) until it clears (the drive cools, the host answers), so a
// restart or a repeated event does not tell it again.
import type { Db } from "../db/client.js";
import { DependencyHealth } from "../dependency-health.js";
import type { HostEvent, JobEvent, KilnPubSub } from "../events/pubsub.js";
import { ENDED_JOB_STATUSES } from "../runner/job-status.js";
import type { Verdict } from "../runner/verdict.js";
import { getSettings } from "../services/settings.js";
import type { NotificationEvent } from "./channels.js";
import { enqueueNotification, type NotificationDispatcher } from "./dispatcher.js";
import type { NotificationMessage } from "./senders.js";

/** True the first time `key` is raised; false while it stands. */
export async function raiseCondition(db: Db, key: string): Promise<boolean> {
  try {
    await db.notificationCondition.create({ data: { key } });
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === "P2002") return false;
    throw error;
  }
}

/** True when `key` stood and is now cleared. */
export async function clearCondition(db: Db, key: string): Promise<boolean> {
  return (await db.notificationCondition.deleteMany({ where: { key } })).count > 0;
}

/** "ST4000NM0043 ZC1A2B3C on rack-1": how messages name a drive. */
function driveLabel(model: string | null, serial: string, host: string): string {
  return `${model ? `${model} ` : ""}${serial} on ${host}`;
}

const OUTCOME_SEVERITY = { passed: "info", cancelled: "info", unknown: "warning", failed: "critical" } as const;

export class NotificationWatcher {
  private readonly iterators: Array<AsyncIterator<unknown>> = [];
  /** Drives known hot, jobs known to have bad blocks: so most events need no database call. */
  private readonly hot = new Map<string, boolean>();
  private readonly badBlocksTold = new Set<string>();
  private readonly pausedJobs = new Map<string, boolean>();
  private queue: Promise<void> = Promise.resolve();
  private hotC: { value: number; readAt: number } | null = null;

  constructor(
    private readonly db: Db,
    private readonly pubsub: KilnPubSub,
    private readonly dispatcher: NotificationDispatcher,
    log: (line: string) => void = () => {},
    private readonly health: DependencyHealth = new DependencyHealth(log),
  ) {}

  start(): void {
    this.follow(this.pubsub.subscribe("jobs"), (event) => this.onJob(event as JobEvent));
    this.follow(this.pubsub.subscribe("hosts"), (event) => this.onHost(event as HostEvent));
  }

  async stop(): Promise<void> {
    await Promise.all(this.iterators.map((it) => it.return?.()));
    await this.queue;
  }

  /** Events are handled one at a time, in order, off the publisher's path. */
  private follow(source: AsyncIterable<unknown>, handle: (event: unknown) => Promise<void>): void {
    const iterator = source[Symbol.asyncIterator]();
    this.iterators.push(iterator);
    void (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        // While the database is away an event's condition cannot be kept: it is told once
        // (dependency-health.ts), the event is not.
        this.queue = this.queue.then(() => handle(next.value).catch((error: unknown) => void this.health.failed("notifications", error)));
      }
    })();
  }

  private async tell(message: NotificationMessage, partOfBatch = false): Promise<void> {
    const ids = await enqueueNotification(this.db, message, { partOfBatch });
    if (ids.length) this.dispatcher.wake();
  }

  private async link(path: string): Promise<string | undefined> {
    const { publicUrl } = await getSettings(this.db);
    return publicUrl ? `${publicUrl.replace(/\/+$/, "")}${path}` : undefined;
  }

  private async onJob(event: JobEvent): Promise<void> {
    const temperature = event.stage?.temperatureC ?? null;
    if (temperature !== null) await this.checkTemperature(event, temperature);
    if ((event.stage?.badBlocks ?? 0) > 0 && !this.badBlocksTold.has(event.jobId)) {
      this.badBlocksTold.add(event.jobId);
      if (await raiseCondition(this.db, `job.bad_blocks:${event.jobId}`)) await this.tellBadBlocks(event);
    }
    if (event.stage) await this.checkPause(event, event.stage.paused, event.stage.pauseReason);
    if (ENDED_JOB_STATUSES.has(event.status)) {
      this.pausedJobs.delete(event.jobId);
      if (await raiseCondition(this.db, `job.ended:${event.jobId}`)) {
        this.badBlocksTold.delete(event.jobId);
        await this.tellJobEnd(event.jobId);
      }
    }
  }

  private async checkPause(event: JobEvent, paused: boolean, reason: string | null): Promise<void> {
    const was = this.pausedJobs.get(event.jobId);
    if (was === paused || (was === undefined && !paused)) {
      this.pausedJobs.set(event.jobId, paused);
      return;
    }
    this.pausedJobs.set(event.jobId, paused);
    const key = `job.paused:${event.jobId}`;
    const told = paused ? await raiseCondition(this.db, key) : await clearCondition(this.db, key);
    if (!told) return;
    const d = await this.describeDrive(event.driveId);
    const celsius = event.stage?.temperatureC ?? null;
    await this.tell({
      event: paused ? "job.paused" : "job.continued",
      at: new Date(event.at).toISOString(),
      title: paused ? `Burn-in paused${reason === "heat" ? " for heat" : ""}: ${d.label}` : `Burn-in continued: ${d.label}`,
      text: paused
        ? `The surface scan of ${d.serial} is paused${reason === "heat" ? ` at ${celsius ?? "?"} °C until the drive cools down` : " by an operator"}.`
        : `The surface scan of ${d.serial} goes on${celsius !== null ? ` (${celsius} °C)` : ""}.`,
      severity: paused && reason === "heat" ? "warning" : "info",
      url: await this.link(`/jobs/${event.jobId}`),
      data: { jobId: event.jobId, driveId: event.driveId, serial: d.serial, reason, temperatureC: celsius },
    });
  }

  private async describeDrive(driveId: string) {
    const drive = await this.db.drive.findUnique({
      where: { id: driveId },
      select: { serial: true, model: true, host: { select: { name: true } } },
    });
    const serial = drive?.serial ?? "?";
    const model = drive?.model ?? null;
    const host = drive?.host.name ?? "?";
    return { serial, model, host, label: driveLabel(model, serial, host) };
  }

  /** The hot threshold, read at most every 5 s: progress events come many times a second. */
  private async hotThreshold(): Promise<number> {
    if (!this.hotC || Date.now() - this.hotC.readAt > 5000)
      this.hotC = { value: (await getSettings(this.db)).temperatureHotC, readAt: Date.now() };
    return this.hotC.value;
  }

  private async checkTemperature(event: JobEvent, celsius: number): Promise<void> {
    const temperatureHotC = await this.hotThreshold();
    const hot = celsius >= temperatureHotC;
    if (this.hot.get(event.driveId) === hot) return;
    this.hot.set(event.driveId, hot);
    const key = `drive.hot:${event.driveId}`;
    if (!hot) {
      await clearCondition(this.db, key);
      return;
    }
    if (!(await raiseCondition(this.db, key))) return;
    const d = await this.describeDrive(event.driveId);
    await this.tell({
      event: "drive.hot",
      at: new Date(event.at).toISOString(),
      title: `Drive hot: ${d.model ? `${d.model} ` : ""}${d.serial} at ${celsius} °C on ${d.host}`,
      text: `${d.serial} reached ${celsius} °C during burn-in (hot from ${temperatureHotC} °C). Check the case's airflow.`,
      severity: "warning",
      url: await this.link(`/jobs/${event.jobId}`),
      data: { jobId: event.jobId, driveId: event.driveId, serial: d.serial, temperatureC: celsius, hotC: temperatureHotC },
    });
  }

  private async tellBadBlocks(event: JobEvent): Promise<void> {
    const d = await this.describeDrive(event.driveId);
    const count = event.stage?.badBlocks ?? 0;
    await this.tell({
      event: "job.bad_blocks",
      at: new Date(event.at).toISOString(),
      title: `Bad blocks found: ${d.label}`,
      text: `The surface scan of ${d.serial} found its first bad block${count > 1 ? `s (${count} so far)` : ""}. The scan goes on; the job will fail.`,
      severity: "critical",
      url: await this.link(`/jobs/${event.jobId}`),
      data: { jobId: event.jobId, driveId: event.driveId, serial: d.serial, badBlocks: count },
    });
  }

  private async tellJobEnd(jobId: string): Promise<void> {
    const job = await this.db.burnInJob.findUnique({
      where: { id: jobId },
      select: {
        id: true,
        status: true,
        profile: true,
        serial: true,
        errorText: true,
        verdict: true,
        batchId: true,
        startedAt: true,
        finishedAt: true,
        driveId: true,
        drive: { select: { model: true, host: { select: { name: true } } } },
      },
    });
    if (!job || !ENDED_JOB_STATUSES.has(job.status)) return;
    const status = job.status as keyof typeof OUTCOME_SEVERITY;
    const verdict = job.verdict ? (JSON.parse(job.verdict) as Verdict) : null;
    const what = driveLabel(job.drive.model, job.serial, job.drive.host.name);
    const hours = job.startedAt && job.finishedAt ? (job.finishedAt.getTime() - job.startedAt.getTime()) / 3_600_000 : null;
    const lines = [
      `${job.profile} burn-in of ${what}: ${status}${hours !== null ? ` after ${hours < 1 ? `${Math.round(hours * 60)} min` : `${hours.toFixed(1)} h`}` : ""}.`,
      ...(verdict?.reasons ?? []).map((r) => `- ${r}`),
      ...(verdict?.warnings ?? []).map((w) => `- warning: ${w}`),
      ...(job.errorText && !verdict?.reasons.length ? [job.errorText] : []),
    ];
    const url = await this.link(`/reports/${job.id}`);
    const data = { jobId: job.id, driveId: job.driveId, serial: job.serial, status, profile: job.profile, verdict, batchId: job.batchId };
    const partOfBatch = job.batchId !== null;
    await this.tell(
      {
        event: `job.${status}` as NotificationEvent,
        at: (job.finishedAt ?? new Date()).toISOString(),
        title: `Burn-in ${status === "failed" ? "FAILED" : status}: ${what}`,
        text: lines.join("\n"),
        severity: OUTCOME_SEVERITY[status],
        url,
        data,
      },
      partOfBatch,
    );
    // SMART counters that changed during the run: the verdict's reasons and warnings say which.
    if (verdict && (verdict.reasons.length || verdict.warnings.length) && (await raiseCondition(this.db, `job.smart_changed:${job.id}`))) {
      await this.tell({
        event: "job.smart_changed",
        at: (job.finishedAt ?? new Date()).toISOString(),
        title: `SMART changed during burn-in: ${what}`,
        text: [...verdict.reasons, ...verdict.warnings.map((w) => `warning: ${w}`)].join("\n"),
        severity: verdict.reasons.length ? "critical" : "warning",
        url,
        data: { jobId: job.id, serial: job.serial, reasons: verdict.reasons, warnings: verdict.warnings },
      });
    }
    if (job.batchId) await this.checkBatch(job.batchId);
  }

  private async checkBatch(batchId: string): Promise<void> {
    const jobs = await this.db.burnInJob.findMany({
      where: { batchId },
      orderBy: { createdAt: "asc" },
      select: { id: true, status: true, serial: true, drive: { select: { model: true } } },
    });
    if (jobs.some((j) => !ENDED_JOB_STATUSES.has(j.status))) return;
    if (!(await raiseCondition(this.db, `batch.finished:${batchId}`))) return;
    const counts = new Map<string, number>();
    for (const j of jobs) counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
    const summary = ["passed", "failed", "unknown", "cancelled"]
      .filter((s) => counts.get(s))
      .map((s) => `${counts.get(s)} ${s}`)
      .join(", ");
    const severity = counts.get("failed") ? "critical" : counts.get("unknown") ? "warning" : "info";
    await this.tell({
      event: "batch.finished",
      at: new Date().toISOString(),
      title: `Batch of ${jobs.length} burn-ins finished: ${summary}`,
      text: jobs.map((j) => `${j.status.padEnd(9)} ${j.serial}${j.drive.model ? ` (${j.drive.model})` : ""}`).join("\n"),
      severity,
      url: await this.link("/history"),
      data: { batchId, counts: Object.fromEntries(counts), jobs: jobs.map((j) => ({ jobId: j.id, serial: j.serial, status: j.status })) },
    });
  }

  private async onHost(event: HostEvent): Promise<void> {
    if (event.removed) {
      await clearCondition(this.db, `host.unreachable:${event.hostId}`);
      return;
    }
    const host = await this.db.host.findUnique({ where: { id: event.hostId }, select: { name: true, status: true, statusReason: true } });
    if (!host) return;
    const key = `host.unreachable:${event.hostId}`;
    if (host.status === "unreachable") {
      if (!(await raiseCondition(this.db, key))) return;
      await this.tell({
        event: "host.unreachable",
        at: new Date().toISOString(),
        title: `Host unreachable: ${host.name}`,
        text: `Kiln cannot reach ${host.name}${host.statusReason ? `: ${host.statusReason}` : ""}. Running burn-ins there wait for it (unreachableGraceMinutes).`,
        severity: "warning",
        url: await this.link("/hosts"),
        data: { hostId: event.hostId, name: host.name, reason: host.statusReason },
      });
    } else if (host.status === "ok" && (await clearCondition(this.db, key))) {
      await this.tell({
        event: "host.back",
        at: new Date().toISOString(),
        title: `Host reachable again: ${host.name}`,
        text: `${host.name} answers again.`,
        severity: "info",
        url: await this.link("/hosts"),
        data: { hostId: event.hostId, name: host.name },
      });
    }
  }
}
