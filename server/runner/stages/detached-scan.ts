// A surface scan run detached on the host (own session, pid file, log, exit-code file) and
// followed by byte offset in the file it writes its progress to, whatever program it is
// (badblocks, fio: each an engine). A Kiln restart re-attaches to the same process; a process that
// vanished without an exit code is `unknown`, never `failed`. Pause and continue, thermal
// protection, cancel, stuck detection and temperatures are the same for every engine.
import { readSmartReport } from "../../services/inventory.js";
import { type DetachedProcess, type ExecResult, type LogChunk, type Transport, TransportError } from "../../transport/types.js";
import { LeaseLost } from "../lease.js";
import type { StageFields } from "../progress.js";
import { devicePathOf, formatDuration, onHost, pause, type StageContext, type StageOutcome, stopReason } from "../stage-context.js";
import { checkBeforeWrite } from "../write-guard.js";
import { ScanPauses } from "./scan-pauses.js";

export const READ_CHUNK = 1 << 20;

/** What one scan program tells the follower. */
export interface ScanEngine {
  /** Its name in messages: "badblocks", "fio". */
  readonly name: string;
  /** The file whose growth is the scan's progress (its log, or a status file in its run directory). */
  progressPath(proc: DetachedProcess): string;
  /**
   * Progress text read again after a restart, quietly (its samples are in the database), for an
   * engine whose state is the sum of its log (badblocks). Without it a re-attach goes on from the
   * stored offset (fio: each status report is whole), and what was consumed is never read again:
   * it is punched out of the file on the host as the file grows (ConsumedBytes).
   */
  replay?(text: string): void;
  /** New progress text read at `now`: the stage fields it changes, and whether they must be written at once. */
  consume(text: string, now: number): { fields: StageFields; immediate: boolean };
  /** Bytes at the end of what was consumed that the engine holds until the rest arrives. */
  pendingBytes(): number;
  /** A pause or a continue: the next rate is measured afresh. */
  resetRate(): void;
  /** The process is gone: read what it left and decide. */
  finish(proc: DetachedProcess, offset: number): Promise<StageOutcome>;
  /** Starts the program (the write guard has passed). */
  start(): Promise<DetachedProcess>;
}

/** Runs or re-attaches to the stage's scan and follows it to its end (or to Kiln's shutdown). */
export async function followScan(ctx: StageContext, engine: ScanEngine): Promise<StageOutcome> {
  let proc = attached(ctx);
  let offset = 0;
  if (proc) {
    const consumed = Number(ctx.stage.remoteLogOffset);
    ctx.progress.log(`re-attaching to ${engine.name} pid ${proc.pid} at log offset ${consumed}`);
    if (engine.replay) {
      while (offset < consumed) {
        const chunk = await onHost(ctx, "re-reading the log", () =>
          readProgress(ctx, engine.progressPath(proc as DetachedProcess), offset, Math.min(READ_CHUNK, consumed - offset)),
        );
        if (chunk.data.length === 0) break;
        engine.replay?.(chunk.data.toString("latin1"));
        offset = chunk.nextOffset;
      }
    } else offset = consumed;
  } else {
    // Every new start (first run, re-run after a restart, resume), never a re-attach.
    const refusal = await checkBeforeWrite(ctx);
    if (refusal) return refusal;
    proc = await engine.start();
  }
  const path = engine.progressPath(proc);
  const pollMs = ctx.settings.pollSeconds * 1000;
  const stuckMs = ctx.settings.stuckMinutes * 60_000;
  let lastGrowth = ctx.now();
  let lastTemperatureBeat = -1;
  const pauses = new ScanPauses(ctx, proc);
  const consumedBytes = engine.replay ? null : new ConsumedBytes(ctx.transport, path, (line) => ctx.progress.log(line));
  // A pause or a continue: no progress is expected while paused, and the rate starts afresh after.
  const pausedOrContinued = () => {
    lastGrowth = ctx.now();
    engine.resetRate();
  };
  ctx.control.accept(true);
  try {
    for (;;) {
      const reason = stopReason(ctx.signal);
      if (reason === "shutdown") {
        await ctx.progress.flush();
        return { status: "detached" };
      }
      if (reason === "cancel") {
        await pauses.beforeKill();
        return cancelScan(ctx, proc, engine.name);
      }
      if (await pauses.handleRequest()) pausedOrContinued();

      const chunk = await onHost(ctx, `reading the ${engine.name} log`, () => readProgress(ctx, path, offset, READ_CHUNK));
      if (chunk.data.length > 0) {
        const now = ctx.now();
        const { fields, immediate } = engine.consume(chunk.data.toString("latin1"), now);
        offset = chunk.nextOffset;
        lastGrowth = now;
        ctx.progress.update({ remoteLogOffset: BigInt(offset - engine.pendingBytes()), ...fields }, { immediate });
        await consumedBytes?.free(offset - engine.pendingBytes());
        if (chunk.data.length === READ_CHUNK) continue; // more is waiting
      } else {
        const alive = await onHost(ctx, `checking ${engine.name}`, () => ctx.transport.processState(proc as DetachedProcess));
        if (alive === "gone") {
          const outcome = await engine.finish(proc, offset);
          await removeRun(ctx, proc);
          return outcome;
        }
        if (pauses.paused) lastGrowth = ctx.now();
        else if (ctx.now() - lastGrowth >= stuckMs) {
          await proveLease(ctx);
          await ctx.transport.killGroup(proc);
          const quiet = formatDuration(ctx.now() - lastGrowth);
          ctx.progress.log(`[INTERRUPTED] no progress for ${quiet}: killed by Kiln`);
          await removeRun(ctx, proc);
          return { status: "unknown", error: `no progress for ${quiet}: ${engine.name} was killed, the drive's state is unknown` };
        }
      }
      // On the clock's beat (every whole interval), not each scan's own: all the scans of a host
      // then read their temperatures in the same poll, with one command on the host.
      const beat = Math.floor(ctx.now() / (ctx.settings.temperaturePollSeconds * 1000));
      if (beat !== lastTemperatureBeat) {
        lastTemperatureBeat = beat;
        const celsius = await readTemperature(ctx);
        if (celsius !== null && (await pauses.onTemperature(celsius))) pausedOrContinued();
      }
      await pause(ctx, pollMs);
    }
  } finally {
    ctx.control.accept(false);
  }
}

/** The consumed part of a progress file is freed on the host once this much more was consumed. */
export const FREE_EVERY_BYTES = 16 << 20;

/**
 * Frees the consumed start of a progress file on the host (`fallocate --punch-hole`: the file
 * keeps its size and its writer's position, the punched range reads as zeros and takes no space).
 * fio's status reports are about 12 KiB a second: a pass over a 24 TB drive would otherwise leave
 * about 3 GB in the run directory. A file system that cannot punch holes is said once in the log
 * and left alone; an unreachable host is tried again at the next step.
 */
export class ConsumedBytes {
  private freed = 0;
  private works = true;

  constructor(
    private readonly transport: Pick<Transport, "exec">,
    private readonly path: string,
    private readonly log: (line: string) => void,
    private readonly every = FREE_EVERY_BYTES,
  ) {}

  /** Bytes freed so far (from the file's start). */
  get freedBytes(): number {
    return this.freed;
  }

  async free(consumed: number): Promise<void> {
    const upTo = Math.floor(consumed / 4096) * 4096;
    if (!this.works || upTo - this.freed < this.every) return;
    let result: ExecResult;
    try {
      result = await this.transport.exec(["fallocate", "--punch-hole", "--offset", "0", "--length", String(upTo), this.path]);
    } catch (error) {
      if (error instanceof TransportError) return; // the host is away: the scan's own reads say so
      throw error;
    }
    if (result.code === 0) {
      this.freed = upTo;
      return;
    }
    this.works = false;
    const said = result.stderr.trim().split("\n").at(-1) || `exit ${result.code ?? result.signal}`;
    this.log(`cannot free the consumed part of ${this.path} on the host (${said}): it keeps growing until the scan ends`);
  }
}

/** Starts `argv` detached for the stage and records the process at once. */
export async function startScan(ctx: StageContext, argv: string[]): Promise<DetachedProcess> {
  const location = { workDir: ctx.settings.remoteWorkDir, job: ctx.job.id, stage: ctx.stage.id };
  await proveLease(ctx);
  const proc = await onHost(ctx, `starting ${argv[0]}`, () => ctx.transport.startDetached(argv, location));
  ctx.progress.log(
    proc.adopted
      ? `found ${argv[0]} pid ${proc.pid} of an earlier start of this stage still running in ${proc.dir}: following it, not starting another`
      : `started ${argv.join(" ")} as pid ${proc.pid} in ${proc.dir}`,
  );
  // Written at once: if Kiln dies a moment later, the next start must know this process.
  ctx.progress.update({ ...remoteFields(proc), remoteLogOffset: 0n }, { immediate: true });
  await ctx.progress.flush();
  return proc;
}

/** The stage columns that identify a detached process (stored so a restart can find it). */
export function remoteFields(proc: DetachedProcess): StageFields {
  return {
    remotePid: proc.pid,
    remotePgid: proc.pgid,
    remoteStartTime: proc.startTime,
    remoteBootId: proc.bootId,
    remoteLogPath: proc.logPath,
    remoteExitPath: proc.exitPath,
    remoteDir: proc.dir,
  };
}

/** The detached process a stage recorded, or null when it has not started one. */
function attached(ctx: StageContext): DetachedProcess | null {
  const s = ctx.stage;
  if (s.remotePid === null || !s.remoteLogPath || !s.remoteExitPath || !s.remoteStartTime || !s.remoteBootId) return null;
  return {
    pid: s.remotePid,
    pgid: s.remotePgid ?? s.remotePid,
    startTime: s.remoteStartTime,
    bootId: s.remoteBootId,
    logPath: s.remoteLogPath,
    exitPath: s.remoteExitPath,
    dir: s.remoteDir ?? s.remoteLogPath.replace(/\/log$/, ""),
  };
}

/**
 * A chunk of a run's file from `offset`; a file that is not there yet reads as empty (fio writes
 * its status file at its first report, a second after it starts, or never when it fails at once).
 */
async function readProgress(ctx: StageContext, path: string, offset: number, maxBytes: number): Promise<LogChunk> {
  try {
    return await ctx.transport.readLog(path, offset, maxBytes);
  } catch (error) {
    if (error instanceof TransportError && error.reason === "not_found") return { data: Buffer.alloc(0), nextOffset: offset };
    throw error;
  }
}

/** Reads `path` from `from` to its end (a missing file is empty). */
export async function readRest(ctx: StageContext, path: string, from: number, each: (text: string) => void): Promise<number> {
  let offset = from;
  for (;;) {
    const chunk = await onHost(ctx, "reading the end of the log", () => readProgress(ctx, path, offset, READ_CHUNK));
    if (chunk.data.length === 0) return offset;
    each(chunk.data.toString("latin1"));
    offset = chunk.nextOffset;
  }
}

/** The exit code the wrapper writes a moment after the program ended, or null when there is none. */
export async function exitCodeOf(ctx: StageContext, proc: DetachedProcess): Promise<number | null> {
  let code: number | null = null;
  for (let i = 0; i < 20 && code === null; i++) {
    code = await onHost(ctx, "reading the exit code", () => ctx.transport.readExitCode(proc.exitPath));
    if (code === null) await pause(ctx, 100);
  }
  return code;
}

async function cancelScan(ctx: StageContext, proc: DetachedProcess, name: string): Promise<StageOutcome> {
  await proveLease(ctx);
  const gone = await ctx.transport.killGroup(proc, { signal: "TERM", timeoutMs: 1500 });
  ctx.progress.log("[ABORTED] cancelled by the operator");
  if (!gone) return { status: "unknown", error: `cancel: ${name} pid ${proc.pid} did not stop after SIGTERM and SIGKILL` };
  await removeRun(ctx, proc);
  return { status: "cancelled", error: "cancelled by the operator" };
}

/**
 * Only the holder of the job's lease starts, kills or removes a scan: an instance that lost the
 * job (it was paused or cut off past its lease) learns it here (LeaseLost) and touches nothing.
 */
async function proveLease(ctx: StageContext): Promise<void> {
  await ctx.write([]);
}

/** Remove the run's directory on the host; a failure is logged, not fatal (the verdict stands). */
async function removeRun(ctx: StageContext, proc: DetachedProcess): Promise<void> {
  // Its log and exit code are the new holder's to read if the job was taken over meanwhile.
  await proveLease(ctx);
  try {
    await ctx.transport.removeRun(proc);
  } catch (error) {
    ctx.progress.log(`could not remove ${proc.dir} on the host: ${(error as Error).message}`);
  }
}

async function readTemperature(ctx: StageContext): Promise<number | null> {
  try {
    const report = await readSmartReport(ctx.transport, devicePathOf(ctx.drive), { polled: true });
    if (report?.temperatureC !== undefined) {
      ctx.progress.temperatureC = report.temperatureC;
      await ctx.write([ctx.db.drive.update({ where: { id: ctx.drive.id }, data: { temperatureC: report.temperatureC } })]);
      return report.temperatureC;
    }
  } catch (error) {
    if (error instanceof LeaseLost) throw error;
    // Temperature is a vital sign, not the test: a failed read is skipped.
  }
  return null;
}
