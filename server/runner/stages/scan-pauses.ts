// Pausing a running surface scan: its process group is stopped (SIGSTOP) on the host and later
// continued (SIGCONT). An operator asks for it (pauseBurnIn / continueBurnIn); thermal protection
// does it by itself for a hard drive that reads at or above thermalPauseAtC twice in a row, and
// continues once it reads at or below thermalResumeAtC. The state is stored on the stage, so a
// Kiln that restarts while a scan is paused re-attaches to it paused. Time spent paused is kept
// out of the scan's elapsed time, its ETA and its stuck detection.
import { parseStoredJson } from "../../db/stored-json.js";
import type { DetachedProcess } from "../../transport/types.js";
import type { StageContext } from "../stage-context.js";

export type PauseReason = "operator" | "heat";

export interface PauseRecord {
  at: string;
  reason: PauseReason;
  by: string;
  temperatureC: number | null;
  continuedAt: string | null;
}

/** Readings in a row at or above the pause threshold before thermal protection pauses. */
const HOT_READINGS = 2;

export class ScanPauses {
  private pausedAt: number | null;
  private reason: PauseReason | null;
  private pausedSeconds: number;
  private records: PauseRecord[];
  private hotReadings = 0;

  constructor(
    private readonly ctx: StageContext,
    private readonly proc: DetachedProcess,
  ) {
    this.pausedAt = ctx.stage.pausedAt?.getTime() ?? null;
    this.reason = (ctx.stage.pauseReason as PauseReason | null) ?? null;
    this.pausedSeconds = ctx.stage.pausedSeconds;
    this.records = parseStoredJson<PauseRecord[]>(ctx.stage.pauses) ?? [];
  }

  get paused(): boolean {
    return this.pausedAt !== null;
  }

  /** Carries out an operator's request, if one is waiting. Returns true when the state changed. */
  async handleRequest(): Promise<boolean> {
    const request = this.ctx.control.take();
    if (!request) return false;
    if (request.action === "pause") {
      if (this.paused) {
        request.answer(`already paused (${this.reason})`);
        return false;
      }
      const done = await this.pause("operator", request.actor, null);
      request.answer(done ? null : "the badblocks process is gone");
      return done;
    }
    if (!this.paused) {
      request.answer("not paused");
      return false;
    }
    const done = await this.continue(request.actor, null);
    request.answer(done ? null : "the badblocks process is gone");
    return done;
  }

  /** Thermal protection, for each temperature read during the scan. Returns true when the state changed. */
  async onTemperature(celsius: number): Promise<boolean> {
    const { thermalProtection, thermalPauseAtC, thermalResumeAtC } = this.ctx.settings;
    // Hard drives only: an SSD's controller throttles itself, and a write scan is not for SSDs anyway.
    if (!thermalProtection || this.ctx.drive.rotationRate === 0) return false;
    if (!this.paused) {
      this.hotReadings = celsius >= thermalPauseAtC ? this.hotReadings + 1 : 0;
      if (this.hotReadings < HOT_READINGS) return false;
      this.hotReadings = 0;
      return this.pause("heat", "thermal protection", celsius);
    }
    if (this.reason === "heat" && celsius <= thermalResumeAtC) return this.continue("thermal protection", celsius);
    return false;
  }

  private async pause(reason: PauseReason, by: string, celsius: number | null): Promise<boolean> {
    if (!(await this.ctx.transport.signalGroup(this.proc, "STOP"))) return false;
    const now = this.ctx.now();
    this.pausedAt = now;
    this.reason = reason;
    this.records.push({ at: new Date(now).toISOString(), reason, by, temperatureC: celsius, continuedAt: null });
    this.ctx.progress.log(
      `[PAUSED] ${reason === "heat" ? `for heat: ${celsius} °C (pause at ${this.ctx.settings.thermalPauseAtC} °C, continue at ${this.ctx.settings.thermalResumeAtC} °C)` : `by ${by}`}`,
    );
    this.ctx.progress.update(
      { pausedAt: new Date(now), pauseReason: reason, pauses: JSON.stringify(this.records), bbMbps: null },
      { immediate: true },
    );
    await this.ctx.progress.flush();
    return true;
  }

  private async continue(by: string, celsius: number | null): Promise<boolean> {
    if (!(await this.ctx.transport.signalGroup(this.proc, "CONT"))) return false;
    const now = this.ctx.now();
    this.pausedSeconds += (now - (this.pausedAt ?? now)) / 1000;
    const last = this.records.at(-1);
    if (last && last.continuedAt === null) last.continuedAt = new Date(now).toISOString();
    this.ctx.progress.log(`[CONTINUED] by ${by}${celsius !== null ? ` at ${celsius} °C` : ""}`);
    this.pausedAt = null;
    this.reason = null;
    this.ctx.progress.update(
      { pausedAt: null, pauseReason: null, pausedSeconds: Math.round(this.pausedSeconds * 10) / 10, pauses: JSON.stringify(this.records) },
      { immediate: true },
    );
    await this.ctx.progress.flush();
    return true;
  }

  /** Before the group is killed (cancel, stuck): stopped processes act on SIGTERM only once continued. */
  async beforeKill(): Promise<void> {
    if (this.paused) await this.ctx.transport.signalGroup(this.proc, "CONT").catch(() => false);
  }
}
