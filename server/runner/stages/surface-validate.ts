// surface_validate: the write+verify scan of the whole drive, run detached on the host and
// followed by detached-scan.ts. The profile picks the engine: `badblocks -w -s -v` with its 4
// patterns (here), or fio's position-checked pass (surface-fio.ts).
import { BadblocksParser, type BadblocksState, STANDARD_PATTERNS } from "../../parsers/badblocks.js";
import type { DetachedProcess } from "../../transport/types.js";
import { chooseGeometry } from "../geometry.js";
import { scanEngineOf } from "../profiles.js";
import type { StageFields } from "../progress.js";
import { devicePathOf, HostLostError, type StageContext, type StageOutcome } from "../stage-context.js";
import { exitCodeOf, followScan, readRest, type ScanEngine, startScan } from "./detached-scan.js";
import { fioScan } from "./surface-fio.js";

const MAX_LISTED_BAD_BLOCKS = 1000;

export async function surfaceValidateStage(ctx: StageContext): Promise<StageOutcome> {
  try {
    return await followScan(ctx, scanEngineOf(ctx.job.profile) === "fio" ? fioScan(ctx) : badblocksScan(ctx));
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
  return startScan(ctx, argv);
}

/** badblocks as the scan engine: its log is its progress, replayed after a restart. */
function badblocksScan(ctx: StageContext): ScanEngine {
  const patterns = patternsOf(ctx);
  const parser = new BadblocksParser({ patterns, maxBadBlockList: MAX_LISTED_BAD_BLOCKS });
  const history: Record<string, string> = ctx.stage.bbPhaseHistory ? JSON.parse(ctx.stage.bbPhaseHistory) : {};
  const blockSize = ctx.stage.bbBlockSize ?? 4096;
  const geometryBytes = blockSize * Math.floor(Number(ctx.drive.sizeBytes ?? 0) / blockSize);
  let lastSample: { phase: number; pct: number; at: number } | null = null;
  let before = parser.state();
  return {
    name: "badblocks",
    progressPath: (proc) => proc.logPath,
    replay(text) {
      parser.push(text, null);
      before = parser.state();
    },
    consume(text, now) {
      const events = parser.push(text, now);
      const state = parser.state();
      const fields: StageFields = stateFields(state, history, now);
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
      const immediate = state.phase !== before.phase || state.badBlocks !== before.badBlocks;
      before = state;
      return { fields, immediate };
    },
    pendingBytes: () => 0,
    resetRate() {
      lastSample = null;
    },
    async finish(proc, from) {
      // The rest of the log, then the exit code (the wrapper writes it a moment after the exit).
      const offset = await readRest(ctx, proc.logPath, from, (text) => parser.push(text, ctx.now()));
      parser.end(ctx.now());
      const code = await exitCodeOf(ctx, proc);
      const state = parser.state();
      ctx.progress.update({ remoteLogOffset: BigInt(offset), ...stateFields(state, history, ctx.now()) }, { immediate: true });
      return outcomeOf(ctx, state, code);
    },
    start: () => start(ctx, patterns),
  };
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
