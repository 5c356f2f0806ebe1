// The job runner: claims queued jobs in order within the global and per-host limits, runs each
// in process, re-attaches to jobs that were running when Kiln last stopped, and on SIGTERM stops
// claiming and leaves running scans running on their hosts.
//
// Jobs are rows (graphile-worker's model): status, attempts, lockedBy, lockedAt. Only the holder
// of the lock finishes a job; a lock is refreshed while the job runs, and a lock older than the
// lease belongs to a dead Kiln and may be taken over.
import type { Db } from "../db/client.js";
import { publishJobState } from "../events/job-state.js";
import type { KilnPubSub } from "../events/pubsub.js";
import type { HostRegistry } from "../services/host-registry.js";
import { getSettings } from "../services/settings.js";
import { executeJob, type JobEnd } from "./execute.js";
import { JobControl, type PauseAction } from "./job-control.js";

export const LEASE_MS = 60_000;
const HEARTBEAT_MS = 15_000;
const TICK_MS = 1_000;

export interface RunnerDeps {
  db: Db;
  registry: HostRegistry;
  pubsub: KilnPubSub;
  instanceId: string;
  /** SQLite means one Kiln: every running job is ours to re-attach at start, whoever locked it. */
  singleInstance: boolean;
  now?: () => number;
  log?: (line: string) => void;
}

interface ActiveJob {
  controller: AbortController;
  control: JobControl;
  hostId: string;
  done: Promise<JobEnd>;
}

export class JobRunner {
  private readonly active = new Map<string, ActiveJob>();
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? console.log;
  }

  async start(): Promise<void> {
    await this.recover();
    this.timer = setInterval(() => this.wake(), TICK_MS);
    this.timer.unref();
    this.heartbeat = setInterval(() => {
      void this.refreshLocks();
      // With several Kiln processes, a dead one's jobs are taken over once their lease expired.
      if (!this.deps.singleInstance && !this.stopping)
        void this.recover().catch((error: unknown) => this.log(`kiln: runner: ${(error as Error).message}`));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    this.wake();
  }

  /** Look for work now (a job was queued, a slot freed). */
  wake(): void {
    if (this.stopping) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.claim()
      .catch((error: unknown) => this.log(`kiln: runner: ${(error as Error).message}`))
      .finally(() => {
        this.ticking = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  isRunning(jobId: string): boolean {
    return this.active.has(jobId);
  }

  /** Pause or continue a job this runner is running; null when done, else why not (null job: not here). */
  async pauseOrContinue(jobId: string, action: PauseAction, actor: string): Promise<string | null | undefined> {
    const job = this.active.get(jobId);
    if (!job) return undefined;
    return job.control.request(action, actor);
  }

  /** Cancel a job this runner is running; resolves once its stage has stopped (process gone). */
  async cancel(jobId: string): Promise<JobEnd | null> {
    const job = this.active.get(jobId);
    if (!job) return null;
    job.controller.abort("cancel");
    return job.done;
  }

  /** Stop claiming, leave running work on the hosts, persist where each job is. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.ticking;
    for (const job of this.active.values()) job.controller.abort("shutdown");
    await Promise.allSettled([...this.active.values()].map((j) => j.done));
  }

  /** Jobs that were running when Kiln last stopped (or died): take them back and follow them. */
  private async recover(): Promise<void> {
    const { db, instanceId, singleInstance } = this.deps;
    const stale = new Date(this.now() - LEASE_MS);
    const running = await db.burnInJob.findMany({
      where: {
        status: "running",
        ...(singleInstance ? {} : { OR: [{ lockedBy: null }, { lockedAt: { lt: stale } }, { lockedBy: instanceId }] }),
      },
      include: { drive: { select: { hostId: true } } },
      orderBy: { createdAt: "asc" },
    });
    for (const job of running) {
      if (this.active.has(job.id)) continue;
      const { count } = await db.burnInJob.updateMany({
        where: { id: job.id, status: "running", lockedBy: job.lockedBy },
        data: { lockedBy: instanceId, lockedAt: new Date(this.now()) },
      });
      if (count === 1) {
        this.log(`kiln: re-attaching to job ${job.id} (${job.profile}, drive ${job.serial})`);
        this.launch(job.id, job.drive.hostId);
      }
    }
  }

  private async claim(): Promise<void> {
    const { db, instanceId } = this.deps;
    const queued = await db.burnInJob.findMany({
      where: { status: "queued" },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true, driveId: true, drive: { select: { hostId: true } } },
      take: 500,
    });
    // Nothing waiting is the common case: one query a tick, nothing more.
    if (queued.length === 0) return;
    const settings = await getSettings(db);
    // Counts come from the database: other Kiln processes' jobs take slots too.
    const running = await db.burnInJob.findMany({
      where: { status: "running" },
      select: { driveId: true, drive: { select: { hostId: true } } },
    });
    let total = running.length;
    const perHost = new Map<string, number>();
    for (const r of running) perHost.set(r.drive.hostId, (perHost.get(r.drive.hostId) ?? 0) + 1);
    const busyDrives = new Set(running.map((r) => r.driveId));
    for (const job of queued) {
      if (this.stopping || total >= settings.maxConcurrentJobs) break;
      const hostId = job.drive.hostId;
      if ((perHost.get(hostId) ?? 0) >= settings.maxJobsPerHost) continue;
      // At most one active job per drive: a later job waits for the earlier one.
      if (busyDrives.has(job.driveId)) continue;
      const now = new Date(this.now());
      const { count } = await db.burnInJob.updateMany({
        where: { id: job.id, status: "queued" },
        data: { status: "running", lockedBy: instanceId, lockedAt: now, startedAt: now, attempts: { increment: 1 } },
      });
      if (count !== 1) continue; // another Kiln took it
      total += 1;
      perHost.set(hostId, (perHost.get(hostId) ?? 0) + 1);
      busyDrives.add(job.driveId);
      await publishJobState(db, this.deps.pubsub, job.id);
      this.launch(job.id, hostId);
    }
  }

  private launch(jobId: string, hostId: string): void {
    const controller = new AbortController();
    const control = new JobControl();
    const done = executeJob(
      {
        db: this.deps.db,
        registry: this.deps.registry,
        pubsub: this.deps.pubsub,
        instanceId: this.deps.instanceId,
        now: this.now,
        log: this.log,
      },
      jobId,
      controller.signal,
      control,
    )
      .catch(async (error: unknown) => {
        this.log(`kiln: job ${jobId} crashed: ${(error as Error).stack ?? error}`);
        await this.deps.db.burnInJob
          .updateMany({
            where: { id: jobId, lockedBy: this.deps.instanceId },
            data: {
              status: "unknown",
              errorText: `Kiln lost track of the job: ${(error as Error).message}`,
              finishedAt: new Date(this.now()),
            },
          })
          .catch(() => {});
        return "unknown" as JobEnd;
      })
      .then(async (end) => {
        if (end === "detached") {
          // We MUST release the lock here, so the next Kiln re-attaches at once.
          await this.deps.db.burnInJob
            .updateMany({ where: { id: jobId, lockedBy: this.deps.instanceId }, data: { lockedBy: null, lockedAt: null } })
            .catch(() => {});
        }
        return end;
      })
      .finally(() => {
        this.active.delete(jobId);
        this.wake();
      });
    this.active.set(jobId, { controller, control, hostId, done });
  }

  private async refreshLocks(): Promise<void> {
    if (this.active.size === 0) return;
    await this.deps.db.burnInJob
      .updateMany({
        where: { id: { in: [...this.active.keys()] }, lockedBy: this.deps.instanceId },
        data: { lockedAt: new Date(this.now()) },
      })
      .catch((error: unknown) => this.log(`kiln: refreshing job locks: ${(error as Error).message}`));
  }
}
