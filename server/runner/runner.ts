// The job runner: claims queued jobs in order within the global and per-host limits, runs each
// in process, re-attaches to jobs that were running when Kiln last stopped, and on SIGTERM stops
// claiming and leaves running scans running on their hosts.
//
// Jobs are rows (graphile-worker's model): status, attempts, lockedBy, lockedAt, leaseVersion.
// Several Kiln instances may share one PostgreSQL database:
// - a claim runs in one transaction under an advisory lock, so the limits hold across instances
//   at every moment (counting and claiming are one step);
// - the holder renews its leases every quarter lease; a lease not renewed for a whole lease
//   belongs to a dead or cut-off instance and is taken over (leaseVersion + 1), and the new holder
//   re-attaches to the scans on the hosts;
// - every write of a running job proves holder and version (lease.ts): an instance that lost a
//   job writes nothing more and stops following it at once.
import type { Db } from "../db/client.js";
import { DependencyHealth, firstLine, isDatabaseUnreachable } from "../dependency-health.js";
import { publishJobState } from "../events/job-state.js";
import type { KilnPubSub } from "../events/pubsub.js";
import type { HostRegistry } from "../services/host-registry.js";
import { getSettings } from "../services/settings.js";
import { type CommandAction, type JobCommand, type JobCommandReply, sendCommand, serveCommands } from "./commands.js";
import { executeJob, type JobEnd } from "./execute.js";
import { JobControl, type PauseAction } from "./job-control.js";
import { DEFAULT_LEASE_MS, type Lease } from "./lease.js";

const TICK_MS = 1_000;
/** Claims of all instances take turns on this PostgreSQL advisory lock (a transaction's). */
const CLAIM_LOCK_KEY = 0x6b696c6e; // "kiln"

export interface RunnerDeps {
  db: Db;
  registry: HostRegistry;
  pubsub: KilnPubSub;
  instanceId: string;
  /** SQLite means one Kiln: every running job is ours to re-attach at start, whoever locked it. */
  singleInstance: boolean;
  /** A lock not renewed for this long is taken over (KILN_LEASE_SECONDS); renewed every quarter of it. */
  leaseMs?: number;
  /** Events reach every instance (Redis): cancel, pause and continue can be sent to a job's holder. */
  sharedEvents?: boolean;
  now?: () => number;
  log?: (line: string) => void;
  /** Where outages of the database are told (once each) and waited out. */
  health?: DependencyHealth;
}

interface ActiveJob {
  lease: Lease;
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
  private stopCommands: (() => Promise<void>) | null = null;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly health: DependencyHealth;
  readonly leaseMs: number;

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? console.log;
    this.health = deps.health ?? new DependencyHealth(this.log, this.now);
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  async start(): Promise<void> {
    if (this.deps.sharedEvents)
      this.stopCommands = serveCommands(this.deps.pubsub, this.deps.instanceId, (c) => this.carryOut(c), this.log);
    await this.recover({ atStart: true });
    this.timer = setInterval(() => this.wake(), TICK_MS);
    this.timer.unref();
    this.heartbeat = setInterval(() => {
      void this.renewLeases();
      // With several Kiln processes, a dead one's jobs are taken over once their lease expired.
      if (!this.deps.singleInstance && !this.stopping)
        void this.recover({ atStart: false }).catch((error: unknown) => this.health.failed("runner: taking over jobs", error));
    }, this.leaseMs / 4);
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
      // Once a second while the database is away: told once (dependency-health.ts), tried again next tick.
      .then(() => this.health.reached("database"))
      .catch((error: unknown) => void this.health.failed("runner: claiming jobs", error))
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

  /**
   * Cancel, pause or continue a job that `holder` runs: sent to it (shared mode), answered by it.
   * undefined: there is no way to reach other instances; null: the holder did not answer in time.
   */
  async commandHolder(holder: string, jobId: string, action: CommandAction, actor: string): Promise<JobCommandReply | null | undefined> {
    if (!this.deps.sharedEvents) return undefined;
    return sendCommand(this.deps.pubsub, holder, { jobId, action, actor }, this.health);
  }

  /** A command another instance sent for a job this one runs. */
  private async carryOut(command: JobCommand): Promise<JobCommandReply> {
    if (!this.active.has(command.jobId)) return { handled: false, refusal: null };
    if (command.action === "cancel") {
      await this.cancel(command.jobId);
      return { handled: true, refusal: null };
    }
    const refusal = await this.pauseOrContinue(command.jobId, command.action, command.actor);
    return refusal === undefined ? { handled: false, refusal: null } : { handled: true, refusal };
  }

  /** Stop claiming, leave running work on the hosts, persist where each job is. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopCommands?.();
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.ticking;
    for (const job of this.active.values()) job.controller.abort("shutdown");
    await Promise.allSettled([...this.active.values()].map((j) => j.done));
  }

  /**
   * Jobs that were running when Kiln last stopped (or died): take them back and follow them. At
   * start that includes jobs locked under this instance's own name (a restart with a fixed
   * KILN_INSTANCE_ID); later sweeps take only released and expired ones, never a fresh claim of
   * this instance that is about to be launched.
   */
  private async recover({ atStart }: { atStart: boolean }): Promise<void> {
    const { db, instanceId, singleInstance } = this.deps;
    const stale = new Date(this.now() - this.leaseMs);
    const mine = atStart ? [{ lockedBy: instanceId }] : [];
    const running = await db.burnInJob.findMany({
      where: {
        status: "running",
        ...(singleInstance ? {} : { OR: [{ lockedBy: null }, { lockedAt: { lt: stale } }, ...mine] }),
      },
      include: { drive: { select: { hostId: true } } },
      orderBy: { createdAt: "asc" },
    });
    for (const job of running) {
      if (this.active.has(job.id)) continue;
      // The version it was read with: of two instances taking it over at once, one wins.
      const { count } = await db.burnInJob.updateMany({
        where: { id: job.id, status: "running", lockedBy: job.lockedBy, leaseVersion: job.leaseVersion },
        data: { lockedBy: instanceId, lockedAt: new Date(this.now()), leaseVersion: { increment: 1 } },
      });
      if (count === 1) {
        const from = job.lockedBy && job.lockedBy !== instanceId ? ` from ${job.lockedBy}` : "";
        this.log(`kiln: re-attaching to job ${job.id} (${job.profile}, drive ${job.serial})${from}, lease ${job.leaseVersion + 1}`);
        this.launch({ jobId: job.id, holder: instanceId, version: job.leaseVersion + 1 }, job.drive.hostId);
      }
    }
  }

  private async claim(): Promise<void> {
    const { db } = this.deps;
    // Nothing waiting is the common case: one query a tick, nothing more.
    if (!(await db.burnInJob.findFirst({ where: { status: "queued" }, select: { id: true } }))) return;
    const claimed = await db.$transaction((tx) => this.claimInTransaction(tx as unknown as Db), { maxWait: 30_000, timeout: 60_000 });
    for (const job of claimed) {
      // Announced as claimed before its stages publish their own progress.
      await publishJobState(db, this.deps.pubsub, job.lease.jobId);
      this.launch(job.lease, job.hostId);
    }
  }

  /**
   * Counting what runs and claiming what fits, as one step: on PostgreSQL every instance's claim
   * takes the same advisory lock first, so two instances never both fill the last slot.
   */
  private async claimInTransaction(tx: Db): Promise<Array<{ lease: Lease; hostId: string }>> {
    const { instanceId } = this.deps;
    if (!this.deps.singleInstance) await tx.$executeRawUnsafe(`SELECT 1 FROM pg_advisory_xact_lock(${CLAIM_LOCK_KEY})`);
    const queued = await tx.burnInJob.findMany({
      where: { status: "queued" },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { id: true, driveId: true, leaseVersion: true, drive: { select: { hostId: true } } },
      take: 500,
    });
    if (queued.length === 0) return [];
    const settings = await getSettings(tx);
    // Counts come from the database: other Kiln processes' jobs take slots too.
    const running = await tx.burnInJob.findMany({
      where: { status: "running" },
      select: { driveId: true, drive: { select: { hostId: true } } },
    });
    let total = running.length;
    const perHost = new Map<string, number>();
    for (const r of running) perHost.set(r.drive.hostId, (perHost.get(r.drive.hostId) ?? 0) + 1);
    const busyDrives = new Set(running.map((r) => r.driveId));
    const claimed: Array<{ lease: Lease; hostId: string }> = [];
    for (const job of queued) {
      if (this.stopping || total >= settings.maxConcurrentJobs) break;
      const hostId = job.drive.hostId;
      if ((perHost.get(hostId) ?? 0) >= settings.maxJobsPerHost) continue;
      // At most one active job per drive: a later job waits for the earlier one.
      if (busyDrives.has(job.driveId)) continue;
      const now = new Date(this.now());
      const version = job.leaseVersion + 1;
      const { count } = await tx.burnInJob.updateMany({
        where: { id: job.id, status: "queued" }, // a cancel may have won meanwhile
        data: { status: "running", lockedBy: instanceId, lockedAt: now, startedAt: now, attempts: { increment: 1 }, leaseVersion: version },
      });
      if (count !== 1) continue;
      total += 1;
      perHost.set(hostId, (perHost.get(hostId) ?? 0) + 1);
      busyDrives.add(job.driveId);
      claimed.push({ lease: { jobId: job.id, holder: instanceId, version }, hostId });
    }
    return claimed;
  }

  private launch(lease: Lease, hostId: string): void {
    const { jobId } = lease;
    const controller = new AbortController();
    const control = new JobControl();
    const onLeaseLost = () => {
      if (!controller.signal.aborted) controller.abort("lease-lost");
    };
    const done = executeJob(
      {
        db: this.deps.db,
        registry: this.deps.registry,
        pubsub: this.deps.pubsub,
        instanceId: this.deps.instanceId,
        now: this.now,
        log: this.log,
        health: this.health,
      },
      jobId,
      { signal: controller.signal, control, lease, onLeaseLost },
    )
      .catch(async (error: unknown) => {
        if (isDatabaseUnreachable(error)) {
          // Stopping while the database is away: nothing could be written; the next start (or
          // another instance, once the lease expired) takes the job up from what was stored.
          this.log(`kiln: job ${jobId}: left running on its host, the database being away (${firstLine(error)})`);
          return "detached" as JobEnd;
        }
        this.log(`kiln: job ${jobId} crashed: ${(error as Error).stack ?? error}`);
        await this.deps.db.burnInJob
          .updateMany({
            where: { id: jobId, lockedBy: lease.holder, leaseVersion: lease.version },
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
        if (end === "lost") {
          this.log(
            `kiln: job ${jobId}: lease ${lease.version} was taken over by another instance (this one was paused or cut off past its lease); stopped following it, its work goes on there`,
          );
        }
        if (end === "detached") {
          // We MUST release the lock here, so the next Kiln re-attaches at once.
          await this.deps.db.burnInJob
            .updateMany({
              where: { id: jobId, lockedBy: lease.holder, leaseVersion: lease.version },
              data: { lockedBy: null, lockedAt: null },
            })
            .catch(() => {});
        }
        return end;
      })
      .finally(() => {
        this.active.delete(jobId);
        this.slotFreed();
      });
    this.active.set(jobId, { lease, controller, control, hostId, done });
  }

  /**
   * One Kiln claims the freed slot at once. Of several, the one whose job ended would always win
   * it and end up with all the work: it looks within the next tick like every other instance.
   */
  private slotFreed(): void {
    if (this.deps.singleInstance) this.wake();
    else setTimeout(() => this.wake(), Math.random() * TICK_MS).unref();
  }

  /**
   * Renew every lease held; a job whose lease is not ours any more (another instance took it
   * over while this one was paused or cut off) is dropped at once, with nothing written.
   */
  private async renewLeases(): Promise<void> {
    if (this.active.size === 0) return;
    const { db, instanceId } = this.deps;
    try {
      const held = [...this.active.values()].map((j) => j.lease);
      const { count } = await db.burnInJob.updateMany({
        where: { OR: held.map((l) => ({ id: l.jobId, lockedBy: instanceId, leaseVersion: l.version })) },
        data: { lockedAt: new Date(this.now()) },
      });
      this.health.reached("database");
      if (count === held.length) return;
      const still = await db.burnInJob.findMany({
        where: { OR: held.map((l) => ({ id: l.jobId, lockedBy: instanceId, leaseVersion: l.version })) },
        select: { id: true },
      });
      const kept = new Set(still.map((j) => j.id));
      for (const lease of held) {
        const job = this.active.get(lease.jobId);
        // A job that just ended released its lock itself.
        if (!kept.has(lease.jobId) && job?.lease === lease && !job.controller.signal.aborted) job.controller.abort("lease-lost");
      }
    } catch (error) {
      this.health.failed("runner: renewing job leases", error);
    }
  }
}
