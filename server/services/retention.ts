// Retention: a finished job's bulky raw data (its stages' logs, the scan's sample series, the
// drive temperatures of the run, the raw SMART snapshots) is removed retentionDays after it
// finished. What people keep relying on stays: the job, its stages' results, its verdict, and its
// report, which is stored first (reports/build.ts keepReport) so it still has the speed curve
// and the SMART table. A daily sweep does it one job at a time, each in its own transaction, and
// yields between jobs, so the runner's writes are never held up for long.
import { setImmediate as yieldToOthers } from "node:timers/promises";
import type { Db } from "../db/client.js";
import { DependencyHealth } from "../dependency-health.js";
import { keepReport } from "../reports/build.js";
import { getSettings } from "./settings.js";

const JOBS_PER_ROUND = 50;
/** Jobs one run of the sweeper takes on; a backlog (the first run over a long history) goes on a minute later. */
const JOBS_PER_RUN = 10_000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface SweepResult {
  jobs: number;
  samples: number;
  temperatures: number;
  snapshots: number;
}

/** Removes the raw data of jobs that finished more than retentionDays ago; at most `maxJobs` per call. */
export async function sweepRetention(db: Db, now = new Date(), maxJobs = 10_000): Promise<SweepResult> {
  const result: SweepResult = { jobs: 0, samples: 0, temperatures: 0, snapshots: 0 };
  const { retentionDays } = await getSettings(db);
  if (retentionDays === 0) return result;
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  while (result.jobs < maxJobs) {
    const jobs = await db.burnInJob.findMany({
      where: { purgedAt: null, finishedAt: { lt: cutoff } },
      orderBy: { finishedAt: "asc" },
      take: Math.min(JOBS_PER_ROUND, maxJobs - result.jobs),
      select: { id: true },
    });
    if (!jobs.length) break;
    for (const { id } of jobs) {
      await keepReport(db, id);
      const [samples, temperatures, snapshots] = await db.$transaction([
        db.stageSample.deleteMany({ where: { stage: { jobId: id } } }),
        db.driveTemperature.deleteMany({ where: { jobId: id } }),
        db.smartSnapshot.deleteMany({ where: { jobId: id } }),
        db.stage.updateMany({ where: { jobId: id, log: { not: "" } }, data: { log: `(log removed after ${retentionDays} days)\n` } }),
        db.burnInJob.update({ where: { id }, data: { purgedAt: now } }),
      ]);
      result.jobs += 1;
      result.samples += samples.count;
      result.temperatures += temperatures.count;
      result.snapshots += snapshots.count;
      await yieldToOthers();
    }
  }
  return result;
}

/** Runs the sweep a minute after start, then daily (every minute while a backlog lasts). */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly log: (line: string) => void = () => {},
    private readonly intervalMs = DAY_MS,
    private readonly firstDelayMs = 60_000,
    private readonly health: DependencyHealth = new DependencyHealth(log),
  ) {}

  start(): void {
    this.schedule(this.firstDelayMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      let next = this.intervalMs;
      this.running = sweepRetention(this.db, new Date(), JOBS_PER_RUN)
        .then((r) => {
          if (r.jobs) this.log(`kiln: retention: removed the raw data of ${r.jobs} finished job(s); their reports are kept`);
          if (r.jobs === JOBS_PER_RUN) next = this.firstDelayMs;
        })
        .catch((error: unknown) => {
          // The database away: tried again a minute later, not a day.
          if (this.health.failed("retention", error)) next = this.firstDelayMs;
        })
        .finally(() => {
          this.running = null;
          this.schedule(next);
        });
    }, ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
