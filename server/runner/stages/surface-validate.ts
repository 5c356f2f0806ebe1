// surface_validate: `badblocks -w -s -v` run detached on the host (own session, pid file, log
// file, exit-code file), followed by byte offset from the log. A Kiln restart re-attaches to the
// same process; a process that vanished without an exit code is `unknown`, never `failed`.
import { BadblocksParser, type BadblocksState, STANDARD_PATTERNS } from "../../parsers/badblocks.js";
import { readSmartReport } from "../../services/inventory.js";
import type { DetachedProcess } from "../../transport/types.js";
import { chooseGeometry } from "../geometry.js";
import { LeaseLost } from "../lease.js";
import type { StageFields } from "../progress.js";
import {
  devicePathOf,
  formatDuration,
  HostLostError,
  onHost,
  pause,
  type StageContext,
  type StageOutcome,
  stopReason,
} from "../stage-context.js";
import { checkBeforeWrite } from "../write-guard.js";
import { ScanPauses } from "./scan-pauses.js";

const READ_CHUNK = 1 << 20;
const MAX_LISTED_BAD_BLOCKS = 1000;

export async function surfaceValidateStage(ctx: StageContext): Promise<StageOutcome> {
  try {
    return await follow(ctx);
  } catch (error) {
    if (error instanceof HostLostError) {
      ctx.progress.log(`[INTERRUPTED] ${error.message}`);
      return { status: "unknown", error: error.message };
    }
    throw error;
  }
}

function patternsOf(ctx: StageContext): string[] {
  return ctx.stage.bbPatterns ? (JSON.parse(ctx.stage.bbPatterns) as string[]) : [...STANDARD_PATTERNS];
}

async function start(ctx: StageContext, patterns: string[]): Promise<DetachedProcess> {
  const { drive, stage, options } = ctx;
  const device = devicePathOf(drive);
  const geometry = chooseGeometry(Number(drive.sizeBytes ?? 0), {
    physicalSectorSize: drive.physicalSectorSize,
    logicalSectorSize: drive.logicalSectorSize,
    blockSize: stage.bbBlockSize ?? options.blockSize,
    blocksAtOnce: stage.bbBlocksAtOnce ?? options.blocksAtOnce,
  });
  const firstPhase = 2 * Math.max(0, STANDARD_PATTERNS.indexOf(patterns[0] as (typeof STANDARD_PATTERNS)[number])) + 1;
  // On entry the stage already shows its first phase at 0%, before badblocks prints anything.
  ctx.progress.update(
    {
      bbPhase: firstPhase,
      bbPhasePct: 0,
      progressPct: ((firstPhase - 1) * 100) / 8,
      bbPhaseHistory: JSON.stringify({ [firstPhase]: new Date(ctx.now()).toISOString() }),
      bbBadBlocks: 0,
      bbBadBlockList: "[]",
      bbMbps: null,
      bbBlockSize: geometry.blockSize,
      bbBlocksAtOnce: geometry.blocksAtOnce,
      bbPatterns: JSON.stringify(patterns),
    },
    { immediate: true },
  );
  const argv = [
    "badblocks",
    "-w",
    "-s",
    "-v",
    "-b",
    String(geometry.blockSize),
    "-c",
    String(geometry.blocksAtOnce),
    ...(options.passes ? ["-p", String(options.passes)] : []),
    ...(options.maxBadBlocks !== undefined ? ["-e", String(options.maxBadBlocks)] : []),
    ...(options.readDelayFactor ? ["-d", String(options.readDelayFactor)] : []),
    ...patterns.flatMap((p) => ["-t", p]),
    device,
    // An explicit block range: the whole drive, whatever size badblocks would guess.
    String(geometry.blocks - 1),
    "0",
  ];
  const location = { workDir: ctx.settings.remoteWorkDir, job: ctx.job.id, stage: stage.id };
  await proveLease(ctx);
  const proc = await onHost(ctx, "starting badblocks", () => ctx.transport.startDetached(argv, location));
  ctx.progress.log(
    proc.adopted
      ? `found badblocks pid ${proc.pid} of an earlier start of this stage still running in ${proc.dir}: following it, not starting another`
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

async function follow(ctx: StageContext): Promise<StageOutcome> {
  const patterns = patternsOf(ctx);
  const parser = new BadblocksParser({ patterns, maxBadBlockList: MAX_LISTED_BAD_BLOCKS });
  const history: Record<string, string> = ctx.stage.bbPhaseHistory ? JSON.parse(ctx.stage.bbPhaseHistory) : {};
  let proc = attached(ctx);
  let offset = 0;
  if (proc) {
    // Re-attach after a restart: rebuild the parser's state from the part of the log already
    // consumed (quietly: those samples are in the database), then go on from the stored offset.
    const consumed = Number(ctx.stage.remoteLogOffset);
    ctx.progress.log(`re-attaching to badblocks pid ${proc.pid} at log offset ${consumed}`);
    while (offset < consumed) {
      const chunk = await onHost(ctx, "re-reading the log", () =>
        ctx.transport.readLog((proc as DetachedProcess).logPath, offset, Math.min(READ_CHUNK, consumed - offset)),
      );
      if (chunk.data.length === 0) break;
      parser.push(chunk.data.toString("latin1"), null);
      offset = chunk.nextOffset;
    }
  } else {
    // Every new start (first run, re-run after a restart, resume), never a re-attach.
    const refusal = await checkBeforeWrite(ctx);
    if (refusal) return refusal;
    proc = await start(ctx, patterns);
  }
  const geometryBytes = (ctx.stage.bbBlockSize ?? 4096) * Math.floor(Number(ctx.drive.sizeBytes ?? 0) / (ctx.stage.bbBlockSize ?? 4096));
  const pollMs = ctx.settings.pollSeconds * 1000;
  const stuckMs = ctx.settings.stuckMinutes * 60_000;
  let lastGrowth = ctx.now();
  let lastSample: { phase: number; pct: number; at: number } | null = null;
  let lastTemperatureBeat = -1;
  let before = parser.state();
  const pauses = new ScanPauses(ctx, proc);
  // A pause or a continue: no progress is expected while paused, and the rate starts afresh after.
  const pausedOrContinued = () => {
    lastGrowth = ctx.now();
    lastSample = null;
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
        return cancel(ctx, proc);
      }
      if (await pauses.handleRequest()) pausedOrContinued();

      const chunk = await onHost(ctx, "reading the badblocks log", () =>
        ctx.transport.readLog((proc as DetachedProcess).logPath, offset, READ_CHUNK),
      );
      if (chunk.data.length > 0) {
        const now = ctx.now();
        const events = parser.push(chunk.data.toString("latin1"), now);
        offset = chunk.nextOffset;
        lastGrowth = now;
        const state = parser.state();
        const fields: StageFields = { remoteLogOffset: BigInt(offset), ...stateFields(state, history, now) };
        // MB/s from the byte rate between samples of one phase at least a second apart.
        if (state.phase > 0) {
          if (lastSample && lastSample.phase === state.phase && now - lastSample.at >= 1000) {
            const bytes = ((state.phasePct - lastSample.pct) / 100) * geometryBytes;
            if (bytes >= 0) fields.bbMbps = Math.round((bytes / ((now - lastSample.at) / 1000) / 1e6) * 10) / 10;
            lastSample = { phase: state.phase, pct: state.phasePct, at: now };
          } else if (!lastSample || lastSample.phase !== state.phase) {
            // A new phase runs at its own speed (a verify pass is not the write before it): no
            // rate until its second sample.
            lastSample = { phase: state.phase, pct: state.phasePct, at: now };
            fields.bbMbps = null;
          }
        }
        for (const event of events) {
          if (event.kind === "phase") ctx.progress.log(`phase ${event.phase}: pattern ${event.pattern} ${event.mode}`);
          if (event.kind === "badBlock" && state.badBlocks <= 100) ctx.progress.log(`bad block ${event.block}`);
          if (event.kind === "completed") ctx.progress.log(`pass completed, ${event.badBlocks} bad blocks found`);
        }
        const phaseChanged = state.phase !== before.phase;
        const newBadBlocks = state.badBlocks !== before.badBlocks;
        ctx.progress.update(fields, { immediate: phaseChanged || newBadBlocks });
        before = state;
        if (chunk.data.length === READ_CHUNK) continue; // more is waiting
      } else {
        const alive = await onHost(ctx, "checking badblocks", () => ctx.transport.processState(proc as DetachedProcess));
        if (alive === "gone") return finish(ctx, proc, parser, history, offset);
        if (pauses.paused) lastGrowth = ctx.now();
        else if (ctx.now() - lastGrowth >= stuckMs) {
          await proveLease(ctx);
          await ctx.transport.killGroup(proc);
          const quiet = formatDuration(ctx.now() - lastGrowth);
          ctx.progress.log(`[INTERRUPTED] no progress for ${quiet}: killed by Kiln`);
          await removeRun(ctx, proc);
          return { status: "unknown", error: `no progress for ${quiet}: badblocks was killed, the drive's state is unknown` };
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

function stateFields(state: BadblocksState, history: Record<string, string>, now: number): StageFields {
  // A re-entered phase keeps its first timestamp.
  for (const h of state.history) history[h.phase] ??= new Date(h.startedAt ?? now).toISOString();
  return {
    bbPhase: state.phase || null,
    bbPhasePct: state.phasePct,
    progressPct: state.overallPct,
    bbPhaseHistory: JSON.stringify(history),
    bbBadBlocks: Math.max(state.badBlocks, state.reportedBadBlocks ?? 0),
    bbBadBlockList: JSON.stringify(state.badBlockList),
  };
}

async function finish(
  ctx: StageContext,
  proc: DetachedProcess,
  parser: BadblocksParser,
  history: Record<string, string>,
  from: number,
): Promise<StageOutcome> {
  // The rest of the log, then the exit code (the wrapper writes it a moment after the exit).
  let offset = from;
  for (;;) {
    const chunk = await onHost(ctx, "reading the end of the log", () => ctx.transport.readLog(proc.logPath, offset, READ_CHUNK));
    if (chunk.data.length === 0) break;
    parser.push(chunk.data.toString("latin1"), ctx.now());
    offset = chunk.nextOffset;
  }
  parser.end(ctx.now());
  let code: number | null = null;
  for (let i = 0; i < 20 && code === null; i++) {
    code = await onHost(ctx, "reading the exit code", () => ctx.transport.readExitCode(proc.exitPath));
    if (code === null) await pause(ctx, 100);
  }
  const state = parser.state();
  ctx.progress.update({ remoteLogOffset: BigInt(offset), ...stateFields(state, history, ctx.now()) }, { immediate: true });
  // Log and exit code are read: the run directory has served its purpose.
  await removeRun(ctx, proc);
  return outcomeOf(ctx, state, code);
}

/** What a finished badblocks run says about the drive, from its whole log and its exit code. */
function outcomeOf(ctx: StageContext, state: BadblocksState, code: number | null): StageOutcome {
  const badBlocks = Math.max(state.badBlocks, state.reportedBadBlocks ?? 0);
  if (badBlocks > 0) {
    const first = state.badBlockList.slice(0, 10).join(", ");
    return { status: "failed", error: `${badBlocks} bad block(s) found${first ? ` (first: ${first})` : ""}` };
  }
  if (code === null) {
    ctx.progress.log("[INTERRUPTED] badblocks is gone and left no exit code (host rebooted or process killed)");
    return {
      status: "unknown",
      error: "the badblocks process is gone and left no exit code: the host rebooted or something killed it; resume the scan",
    };
  }
  if (code === 0 && state.done) return { status: "passed" };
  if (state.interruptedAt !== null || code > 128) {
    ctx.progress.log(`[INTERRUPTED] badblocks ended by a signal (exit ${code}) not sent by Kiln`);
    return {
      status: "unknown",
      error: `badblocks was stopped from outside Kiln (exit ${code}${state.interruptedAt !== null ? `, interrupted at block ${state.interruptedAt}` : ""}); resume the scan`,
    };
  }
  if (code === 0) return { status: "unknown", error: "badblocks exited 0 without completing its pass" };
  const said = state.unrecognised.slice(-3).join(" | ") || "no message";
  // It refused before its first pattern (device busy, missing, not permitted): nothing was
  // written and nothing is known about the drive.
  if (state.phase === 0) return { status: "unknown", error: `badblocks stopped before writing (exit ${code}): ${said}` };
  // badblocks itself reported failing during the scan (an I/O setup error): Kiln saw it fail.
  return { status: "failed", error: `badblocks failed (exit ${code}): ${said}` };
}

async function cancel(ctx: StageContext, proc: DetachedProcess): Promise<StageOutcome> {
  await proveLease(ctx);
  const gone = await ctx.transport.killGroup(proc, { signal: "TERM", timeoutMs: 1500 });
  ctx.progress.log("[ABORTED] cancelled by the operator");
  if (!gone) return { status: "unknown", error: `cancel: badblocks pid ${proc.pid} did not stop after SIGTERM and SIGKILL` };
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
