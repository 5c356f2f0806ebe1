// Stage progress: published on every update, written to the database at most once a second per
// stage and by default every 5 s (setting progressWriteSeconds); phase changes, errors and
// completion at once. A multi-day scan updates every second: writing each sample would cost
// 200 drives 200 transactions a second for nothing, since live views subscribe.
//
// The drawer's charts read two series written with those same transactions: a surface scan's
// samples (one per 0.25% of each phase: at most 3,200 per scan) and the drive's temperature while
// the job runs (at most one reading a minute).
import type { Db } from "../db/client.js";
import type { Stage } from "../db/generated/sqlite/client.js";
import { type DependencyHealth, firstLine, throughOutages } from "../dependency-health.js";
import { type KilnPubSub, publishJobEvent, scanLatency } from "../events/pubsub.js";
import type { SpeedCurve } from "./estimates.js";
import { fencedWrite, type Lease, LeaseLost } from "./lease.js";
import { jobPercent } from "./profiles.js";
import { type ScanSample, scanSecondsLeft } from "./scan-eta.js";
import { engineOfPatterns, phaseCountOf, stageScanEngine } from "./scan-phases.js";

export type StageFields = Partial<
  Pick<
    Stage,
    | "status"
    | "progressPct"
    | "errorText"
    | "startedAt"
    | "finishedAt"
    | "bbPhase"
    | "bbPhasePct"
    | "bbPhaseHistory"
    | "bbMbps"
    | "bbLatP50Ms"
    | "bbLatP99Ms"
    | "bbLatMaxMs"
    | "bbBadBlocks"
    | "bbBadBlockList"
    | "bbBlockSize"
    | "bbBlocksAtOnce"
    | "bbPatterns"
    | "remotePid"
    | "remotePgid"
    | "remoteStartTime"
    | "remoteBootId"
    | "remoteLogPath"
    | "remoteExitPath"
    | "remoteDir"
    | "remoteLogOffset"
    | "pausedAt"
    | "pauseReason"
    | "pausedSeconds"
    | "pauses"
    | "etaSeconds"
    | "etaAt"
  >
>;

/** A surface scan keeps one sample per this much of each phase. */
export const SAMPLE_STEP_PCT = 0.25;
/** The drive's temperature series keeps at most one reading per this interval. */
export const TEMPERATURE_ROW_INTERVAL_MS = 60_000;

interface SampleRow {
  stageId: string;
  at: Date;
  phase: number;
  phasePct: number;
  mbps: number | null;
  temperatureC: number | null;
  latP50Ms: number | null;
  latP99Ms: number | null;
  latMaxMs: number | null;
}
interface TemperatureRow {
  driveId: string;
  jobId: string;
  at: Date;
  celsius: number;
}

/** When each job (the object its stages share) last kept a temperature reading. */
const lastTemperatureRowAt = new WeakMap<object, number>();

/** The floor: never more than one write per stage per second. */
export const MIN_WRITE_INTERVAL_MS = 1000;
const MAX_LOG_CHARS = 16_000;

interface StageView {
  id: string;
  name: string;
  weight: number;
  status: string;
  progressPct: number;
  startedAt?: Date | null;
  pausedSeconds?: number;
}

/** What the job's time left is computed from (runner/estimates.ts); without it, no estimate is kept. */
export interface EtaPlan {
  /** Each stage's estimated seconds by name, for the stages not reached yet. */
  stageSeconds: Record<string, number>;
  /** The drive's size and its kind's speed curve, for a surface scan's zones. */
  sizeBytes: number;
  curve: SpeedCurve;
}

interface CurrentStage extends StageView {
  /** The stage's log as stored; this object is its only writer while the stage runs. */
  log: string;
}

export interface ProgressOptions {
  /** The lease every write proves (lease.ts): a lost lease writes and publishes nothing more. */
  lease: Lease;
  /** Called once, when a write finds the lease taken over. */
  onLeaseLost?: (error: LeaseLost) => void;
  now?: () => number;
  writeIntervalMs?: number;
  /** Writes wait out a database outage (told here once); without it they are retried with the next update. */
  health?: DependencyHealth;
  /** True once Kiln is stopping: a write stops waiting for the database (the next start re-reads the host). */
  stopWaiting?: () => boolean;
  /** The job's estimates: with them the stage and the job keep a time left. */
  eta?: EtaPlan;
  /** A re-entered scan's samples so far (its time left reads their zones). */
  samples?: ScanSample[];
}

export class StageProgress {
  private pending: StageFields = {};
  private pendingLog: string[] = [];
  private lastWrite = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private writeErrors = 0;
  private jobPct: number;
  private pendingSamples: SampleRow[] = [];
  private pendingTemperatures: TemperatureRow[] = [];
  /** The (phase, 0.25% step) of the last sample kept. */
  private lastSampleStep: string | null = null;
  private temperature: number | null = null;
  /** Every sample of the scan, this run's and those stored before: the zones its time left reads. */
  private readonly scanSamples: ScanSample[];
  private readonly eta: EtaPlan | undefined;
  private jobEta: number | null = null;
  /** The scan's time left as last worked out: for which count of samples, and when. */
  private scanLeft: { key: number; seconds: number | null; at: number } | null = null;
  private leaseLost = false;
  private readonly lease: Lease;
  private readonly onLeaseLost: (error: LeaseLost) => void;
  private readonly now: () => number;
  private readonly writeIntervalMs: number;
  private readonly health: DependencyHealth | undefined;
  private readonly stopWaiting: () => boolean;

  constructor(
    private readonly db: Db,
    private readonly pubsub: KilnPubSub,
    private readonly job: {
      id: string;
      driveId: string;
      profile: string;
      status: string;
      progressPct: number;
      startedAt: Date | null;
      drive: { hostId: string };
    },
    /** Every stage of the job (for the weighted job percent); the current one is updated in place. */
    private readonly stages: StageView[],
    readonly stage: CurrentStage & Record<string, unknown>,
    options: ProgressOptions,
  ) {
    this.jobPct = job.progressPct;
    this.lease = options.lease;
    this.onLeaseLost = options.onLeaseLost ?? (() => {});
    this.now = options.now ?? Date.now;
    this.writeIntervalMs = options.writeIntervalMs ?? MIN_WRITE_INTERVAL_MS;
    this.health = options.health;
    this.stopWaiting = options.stopWaiting ?? (() => false);
    this.eta = options.eta;
    this.scanSamples = [...(options.samples ?? [])];
  }

  /** Another instance took the job over: this one writes and publishes nothing more for it. */
  get lost(): boolean {
    return this.leaseLost;
  }

  get temperatureC(): number | null {
    return this.temperature;
  }

  /** The drive's temperature now: shown with the next event, kept in its series once a minute. */
  set temperatureC(celsius: number | null) {
    this.temperature = celsius;
    if (celsius === null) return;
    const now = this.now();
    if (now - (lastTemperatureRowAt.get(this.job) ?? Number.NEGATIVE_INFINITY) < TEMPERATURE_ROW_INTERVAL_MS) return;
    lastTemperatureRowAt.set(this.job, now);
    this.pendingTemperatures.push({ driveId: this.job.driveId, jobId: this.job.id, at: new Date(now), celsius });
    this.schedule(false);
  }

  /** Apply fields; publish now; write now if `immediate` or a second has passed, else soon. */
  update(fields: StageFields, options: { immediate?: boolean } = {}): void {
    if (this.leaseLost) return;
    Object.assign(this.pending, fields);
    Object.assign(this.stage, fields);
    this.keepSample();
    const current = this.stages.find((s) => s.id === this.stage.id);
    if (current) Object.assign(current, { status: this.stage.status, progressPct: this.stage.progressPct });
    // The job's percent never moves backwards (a stage re-entered after a restart starts at 0).
    this.jobPct = Math.max(this.jobPct, jobPercent(this.stages));
    this.estimate();
    this.publish();
    this.schedule(options.immediate ?? false);
  }

  /** Add lines to the stage's bounded log (written with the next update). */
  log(line: string): void {
    this.pendingLog.push(`${new Date(this.now()).toISOString()} ${line}`);
    this.schedule(false);
  }

  /** Write whatever is pending and wait for it. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.write();
  }

  get jobProgressPct(): number {
    return this.jobPct;
  }

  /** One sample per 0.25% step of a phase: the first update that reaches a new step. */
  private keepSample(): void {
    const s = this.stage as StageView & StageFields;
    if (s.bbPhase == null || s.bbPhase < 1 || s.bbPhasePct == null) return;
    const step = `${s.bbPhase}:${Math.floor(s.bbPhasePct / SAMPLE_STEP_PCT)}`;
    if (step === this.lastSampleStep) return;
    this.lastSampleStep = step;
    this.scanSamples.push({ phase: s.bbPhase, phasePct: s.bbPhasePct, mbps: s.bbMbps ?? null });
    this.pendingSamples.push({
      stageId: this.stage.id,
      at: new Date(this.now()),
      phase: s.bbPhase,
      phasePct: s.bbPhasePct,
      mbps: s.bbMbps ?? null,
      temperatureC: this.temperature,
      latP50Ms: s.bbLatP50Ms ?? null,
      latP99Ms: s.bbLatP99Ms ?? null,
      latMaxMs: s.bbLatMaxMs ?? null,
    });
  }

  /**
   * The stage's and the job's time left, kept with the next write: a surface scan from its
   * measured zones, another stage on a straight line of its own percent (its estimate before
   * 0.5%), then the estimates of the stages still to come. Null while paused or without a plan.
   */
  private estimate(): void {
    const s = this.stage as StageView & StageFields;
    const plan = this.eta;
    let stageLeft: number | null = null;
    // A pause's time is no time the scan worked: worked out afresh when it goes on.
    if (s.pausedAt != null) this.scanLeft = null;
    if (plan && s.status === "running" && s.pausedAt == null) {
      if (s.name === "surface_validate" && s.bbPhase != null && s.bbPhase >= 1) {
        // Worked out again with each new sample (every 0.25% of a phase); in between, counted down.
        const key = this.scanSamples.length;
        if (this.scanLeft?.key !== key) {
          const seconds = scanSecondsLeft({
            sizeBytes: plan.sizeBytes,
            phases: phaseCountOf(engineOfPatterns(s.bbPatterns ?? null)),
            phase: s.bbPhase,
            phasePct: s.bbPhasePct ?? 0,
            samples: this.scanSamples,
            curve: plan.curve,
          });
          this.scanLeft = { key, seconds, at: this.now() };
        }
        const { seconds, at } = this.scanLeft;
        stageLeft = seconds === null ? null : Math.max(0, seconds - (this.now() - at) / 1000);
      }
      const working = s.startedAt ? Math.max(0, (this.now() - s.startedAt.getTime()) / 1000 - (s.pausedSeconds ?? 0)) : 0;
      if (stageLeft === null && s.progressPct >= 0.5 && s.progressPct < 100) stageLeft = (working * (100 - s.progressPct)) / s.progressPct;
      if (stageLeft === null && plan.stageSeconds[s.name] !== undefined)
        stageLeft = Math.max(0, (plan.stageSeconds[s.name] as number) - working);
    }
    const index = this.stages.findIndex((v) => v.id === s.id);
    const later = this.stages.slice(index + 1).filter((v) => v.status === "pending");
    const known = stageLeft !== null && later.every((v) => plan?.stageSeconds[v.name] !== undefined);
    this.jobEta = known ? (stageLeft as number) + later.reduce((sum, v) => sum + (plan?.stageSeconds[v.name] ?? 0), 0) : null;
    const at = new Date(this.now());
    Object.assign(this.pending, { etaSeconds: stageLeft, etaAt: stageLeft === null ? null : at });
    Object.assign(this.stage, { etaSeconds: stageLeft, etaAt: stageLeft === null ? null : at });
  }

  private schedule(immediate: boolean): void {
    if (this.leaseLost) return;
    const due = this.lastWrite + Math.max(MIN_WRITE_INTERVAL_MS, this.writeIntervalMs) - this.now();
    if (immediate || due <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.write();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.write();
    }, due);
  }

  private write(): Promise<void> {
    // Writes are serialised so an older sample can never land after a newer one.
    this.writing = this.writing.then(async () => {
      const fields = this.pending;
      const lines = this.pendingLog;
      const samples = this.pendingSamples;
      const temperatures = this.pendingTemperatures;
      if (this.leaseLost) return;
      if (Object.keys(fields).length === 0 && lines.length === 0 && samples.length === 0 && temperatures.length === 0) return;
      this.pending = {};
      this.pendingLog = [];
      this.pendingSamples = [];
      this.pendingTemperatures = [];
      this.lastWrite = this.now();
      let log: string | undefined;
      if (lines.length) {
        const joined = `${this.stage.log}${lines.join("\n")}\n`;
        log = joined.length > MAX_LOG_CHARS ? joined.slice(joined.indexOf("\n", joined.length - MAX_LOG_CHARS) + 1) : joined;
      }
      try {
        // updateMany: nothing is read back. An update returns the whole row, the stage's log
        // included, which cost a progress write 2.4x the CPU (BENCHMARKS.md, issue 12).
        const writes = [
          this.db.stage.updateMany({ where: { id: this.stage.id }, data: { ...fields, ...(log !== undefined ? { log } : {}) } }),
          ...(samples.length ? [this.db.stageSample.createMany({ data: samples })] : []),
          ...(temperatures.length ? [this.db.driveTemperature.createMany({ data: temperatures })] : []),
        ];
        const job = { progressPct: this.jobPct, etaSeconds: this.jobEta, etaAt: this.jobEta === null ? null : new Date(this.now()) };
        const fenced = () => fencedWrite(this.db, this.lease, writes, job);
        // Through an outage the newest values pile up in `pending` and go with the next write.
        await (this.health ? throughOutages(this.health, fenced, this.stopWaiting) : fenced());
        if (log !== undefined) this.stage.log = log;
      } catch (error) {
        if (error instanceof LeaseLost) {
          // Nothing was written and nothing more will be: the new holder follows the job now.
          this.leaseLost = true;
          if (this.timer) clearTimeout(this.timer);
          this.timer = null;
          this.onLeaseLost(error);
          return;
        }
        // Keep what was not written (newer values win) and try again with the next write.
        this.pending = { ...fields, ...this.pending };
        this.pendingLog = [...lines, ...this.pendingLog];
        this.pendingSamples = [...samples, ...this.pendingSamples];
        this.pendingTemperatures = [...temperatures, ...this.pendingTemperatures];
        if (this.stopWaiting()) return;
        this.writeErrors += 1;
        if (this.writeErrors === 1 || this.writeErrors % 100 === 0) {
          console.error(`kiln: writing progress of stage ${this.stage.id} failed (${this.writeErrors}x): ${firstLine(error)}`);
        }
        this.schedule(false);
      }
    });
    return this.writing;
  }

  private publish(): void {
    const s = this.stage as StageView & StageFields;
    publishJobEvent(this.pubsub, {
      jobId: this.job.id,
      driveId: this.job.driveId,
      hostId: this.job.drive.hostId,
      status: this.job.status,
      lease: this.lease.version,
      progressPct: this.jobPct,
      etaSeconds: this.jobEta,
      startedAt: this.job.startedAt?.getTime() ?? null,
      at: this.now(),
      stage: {
        id: s.id,
        name: s.name,
        status: s.status,
        progressPct: s.progressPct,
        engine: stageScanEngine({ name: s.name, bbPatterns: s.bbPatterns ?? null }, this.job.profile),
        phase: s.bbPhase ?? null,
        phasePct: s.bbPhasePct ?? null,
        mbps: s.bbMbps ?? null,
        badBlocks: s.bbBadBlocks ?? null,
        latency: scanLatency(s.bbLatP50Ms ?? null, s.bbLatP99Ms ?? null, s.bbLatMaxMs ?? null),
        temperatureC: this.temperature,
        paused: s.pausedAt != null,
        pauseReason: s.pauseReason ?? null,
      },
    });
  }
}
