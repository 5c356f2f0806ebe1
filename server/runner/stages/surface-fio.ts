// fio as the surface scan's engine (the `standard` profile): one pass that writes the whole drive
// with data whose every 4 KiB carries its own offset and a checksum, from a seed of the job's own,
// then reads it all back and verifies it (server/parsers/fio.ts). Phase 1 is the write, phase 2
// the verify, each a prefix of the drive, so that a resumed pass (Stage.scanResume) goes on from
// the last byte written or verified. Progress is fio's JSON status file in the run directory; a
// verify error or an I/O error ends the pass, and its first failing byte is the finding.
import { createHash } from "node:crypto";
import {
  describeFinding,
  FIO_BLOCK_SIZE,
  type FioStart,
  type FioStatus,
  FioStatusStream,
  fioArgv,
  firstFioFinding,
  intervalLatency,
  passBytes,
  VERIFY_INTERVAL,
} from "../../parsers/fio.js";
import type { DetachedProcess } from "../../transport/types.js";
import type { StageFields } from "../progress.js";
import { FIO_PATTERN } from "../scan-phases.js";
import { devicePathOf, type StageContext, type StageOutcome } from "../stage-context.js";
import { exitCodeOf, readRest, type ScanEngine, startScan } from "./detached-scan.js";

/** The status file fio writes in its run directory. */
const STATUS_FILE = "status.json";

/** A seed of the job's own (fio's randseed): the data differs from any other job's. */
export function jobSeed(jobId: string): number {
  return createHash("sha256").update(`kiln-scan:${jobId}`).digest().readUInt32BE(0) || 1;
}

/** The bytes a pass covers, from the first: the drive's size down to a whole 4 KiB. */
export function scanBytes(sizeBytes: number): number {
  return Math.floor(sizeBytes / VERIFY_INTERVAL) * VERIFY_INTERVAL;
}

/** The scan's percent from its phase (1 write, 2 verify) and the percent within it, rounded down. */
const overallPct = (phase: number, pct: number) => Math.floor(((phase - 1) * 50 + pct / 2) * 100) / 100;

interface Done {
  written: number;
  verified: number;
}

/** Where the stage's pass begins: Stage.scanResume of a resumed job, else the first byte. */
export function startOf(scanResume: string | null): FioStart {
  if (!scanResume) return { phase: 1, fromByte: 0 };
  const value = JSON.parse(scanResume) as { phase?: unknown; fromByte?: unknown };
  const fromByte = Number(value.fromByte);
  if (!Number.isSafeInteger(fromByte) || fromByte < 0) throw new Error(`Stage.scanResume: bad fromByte in ${scanResume}`);
  return value.phase === 2 ? { phase: 2, fromByte } : { phase: 1, fromByte };
}

export function fioScan(ctx: StageContext): ScanEngine {
  const size = scanBytes(Number(ctx.drive.sizeBytes ?? 0));
  const begin = startOf(ctx.stage.scanResume);
  const stream = new FioStatusStream();
  const history: Record<string, string> = ctx.stage.bbPhaseHistory ? JSON.parse(ctx.stage.bbPhaseHistory) : {};
  let phase = ctx.stage.bbPhase ?? begin.phase;
  let lastSample: { phase: number; bytes: number; at: number } | null = null;
  // The report before the newest, for the latencies of the last interval (fio's histograms count
  // from its start). `undefined` until one is known: re-attached to a running fio after a restart,
  // the first report read has no earlier one and its interval's latencies are not known.
  let previous: FioStatus | null | undefined;
  let last: Done = begin.phase === 2 ? { written: size, verified: begin.fromByte } : { written: begin.fromByte, verified: 0 };

  /** The stage's fields for what fio reported last, at `now`. */
  const fieldsOf = (done: Done, now: number): StageFields => {
    // Verifying once anything was read back, or once everything was written.
    const next = done.verified > 0 || done.written >= size ? 2 : 1;
    const bytes = next === 1 ? done.written : done.verified;
    const pct = size > 0 ? Math.min(100, (bytes / size) * 100) : 0;
    if (next !== phase) ctx.progress.log(`phase ${next}: ${next === 1 ? "write" : "verify"}`);
    phase = next;
    history[phase] ??= new Date(now).toISOString();
    const fields: StageFields = {
      bbPhase: phase,
      // Rounded down: the stored percent is a lower bound of the bytes done (a resume starts there).
      bbPhasePct: Math.floor(pct * 100) / 100,
      progressPct: overallPct(phase, pct),
      bbPhaseHistory: JSON.stringify(history),
    };
    if (lastSample && lastSample.phase === phase && now - lastSample.at >= 1000) {
      fields.bbMbps = Math.round(((bytes - lastSample.bytes) / ((now - lastSample.at) / 1000) / 1e6) * 10) / 10;
      lastSample = { phase, bytes, at: now };
    } else if (!lastSample || lastSample.phase !== phase) {
      lastSample = { phase, bytes, at: now };
      fields.bbMbps = null;
    }
    return fields;
  };

  return {
    name: "fio",
    progressPath: (proc) => `${proc.dir}/${STATUS_FILE}`,
    consume(text, now) {
      const reports = stream.push(text);
      const newest = reports.at(-1);
      if (!newest) return { fields: {}, immediate: false };
      const before = phase;
      last = passBytes(begin, newest, size);
      const fields = { ...fieldsOf(last, now), ...latencyFields(reports.at(-2) ?? previous, newest, phase) };
      previous = newest;
      return { fields, immediate: phase !== before };
    },
    pendingBytes: () => stream.pendingBytes(),
    resetRate() {
      lastSample = null;
    },
    async finish(proc: DetachedProcess, from: number) {
      const offset = await readRest(ctx, `${proc.dir}/${STATUS_FILE}`, from, (text) => {
        const newest = stream.push(text).at(-1);
        if (newest) last = passBytes(begin, newest, size);
      });
      let log = "";
      await readRest(ctx, proc.logPath, 0, (text) => {
        if (log.length < 1 << 20) log += text;
      });
      const code = await exitCodeOf(ctx, proc);
      const finding = firstFioFinding(log, size);
      const fields: StageFields = { remoteLogOffset: BigInt(offset), ...fieldsOf(last, ctx.now()) };
      if (finding) {
        fields.bbBadBlocks = 1;
        fields.bbBadBlockList = JSON.stringify([Math.floor(finding.offset / VERIFY_INTERVAL)]);
      }
      ctx.progress.update(fields, { immediate: true });
      if (finding) {
        ctx.progress.log(`fio: ${describeFinding(finding)}`);
        return { status: "failed", error: `${describeFinding(finding)} (first failing byte ${finding.offset})` };
      }
      return outcomeOf(ctx, code, last, size, log);
    },
    async start() {
      const at = new Date(ctx.now()).toISOString();
      phase = begin.phase;
      // A new fio: its first report's histograms are its first interval's.
      previous = null;
      const pct = size > 0 ? Math.floor((begin.fromByte / size) * 10000) / 100 : 0;
      ctx.progress.update(
        {
          bbPhase: phase,
          bbPhasePct: pct,
          progressPct: overallPct(phase, pct),
          bbPhaseHistory: JSON.stringify({ [phase]: at }),
          bbBadBlocks: 0,
          bbBadBlockList: "[]",
          bbMbps: null,
          bbLatP50Ms: null,
          bbLatP99Ms: null,
          bbLatMaxMs: null,
          bbBlockSize: VERIFY_INTERVAL,
          bbBlocksAtOnce: FIO_BLOCK_SIZE / VERIFY_INTERVAL,
          bbPatterns: JSON.stringify([FIO_PATTERN]),
        },
        { immediate: true },
      );
      history[phase] = at;
      if (begin.fromByte > 0) {
        ctx.progress.log(
          begin.phase === 1
            ? `resuming the write at byte ${begin.fromByte} (written before by the interrupted pass), then verifying from byte 0`
            : `resuming the verify at byte ${begin.fromByte} (verified before by the interrupted pass)`,
        );
      }
      const argv = fioArgv({
        device: devicePathOf(ctx.drive),
        toByte: size,
        start: begin,
        seed: jobSeed(ctx.job.id),
        statusFile: STATUS_FILE,
      });
      return startScan(ctx, argv);
    },
  };
}

/**
 * The completion latencies of the phase's direction (1 write, 2 verify: read) between two reports;
 * all null when they are not known (no earlier report) or no request of that kind completed.
 */
function latencyFields(before: FioStatus | null | undefined, after: FioStatus, phase: number): StageFields {
  const latency = before === undefined ? null : intervalLatency(before, after, phase === 1 ? "write" : "read");
  return { bbLatP50Ms: latency?.p50 ?? null, bbLatP99Ms: latency?.p99 ?? null, bbLatMaxMs: latency?.max ?? null };
}

/** A pass that ended without a finding: passed only when fio exited 0 with every byte verified. */
function outcomeOf(ctx: StageContext, code: number | null, done: Done, size: number, log: string): StageOutcome {
  if (code === null) {
    ctx.progress.log("[INTERRUPTED] fio is gone and left no exit code (host rebooted or process killed)");
    return { status: "unknown", error: "the fio process is gone and left no exit code: the host rebooted or something killed it" };
  }
  if (code === 0 && done.written >= size && done.verified >= size) return { status: "passed" };
  const said =
    log
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("fio:") || /error/i.test(l))
      .slice(-3)
      .join(" | ") || "no message";
  if (code > 128) {
    ctx.progress.log(`[INTERRUPTED] fio ended by a signal (exit ${code}) not sent by Kiln`);
    return {
      status: "unknown",
      error: `fio was stopped from outside Kiln (exit ${code}) after ${done.verified} of ${size} bytes verified`,
    };
  }
  // It refused before writing (no such device, no libaio, direct I/O unsupported): nothing learned.
  if (done.written === 0) return { status: "unknown", error: `fio stopped before writing (exit ${code}): ${said}` };
  return { status: "failed", error: `fio failed (exit ${code}) after ${done.written} bytes written, ${done.verified} verified: ${said}` };
}
