// fio as the surface scan's engine (the `standard` profile): one pass that writes the whole drive
// with data whose every 4 KiB carries its own offset and a checksum, from a seed of the job's own,
// then reads it all back and verifies it (server/parsers/fio.ts). Phase 1 is the write, phase 2
// the verify. Progress is fio's JSON status file in the run directory; a verify error or an I/O
// error ends the pass, and its first failing byte is the finding.
import { createHash } from "node:crypto";
import {
  describeFinding,
  FIO_BLOCK_SIZE,
  type FioStatus,
  FioStatusStream,
  fioArgv,
  firstFioFinding,
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

/** The bytes a pass covers: the drive's size down to a whole 4 KiB. */
export function scanRange(sizeBytes: number): { fromByte: number; toByte: number } {
  return { fromByte: 0, toByte: Math.floor(sizeBytes / VERIFY_INTERVAL) * VERIFY_INTERVAL };
}

interface Done {
  written: number;
  verified: number;
}

const totals = (status: FioStatus): Done => ({
  written: status.jobs.reduce((sum, j) => sum + j.writtenBytes, 0),
  verified: status.jobs.reduce((sum, j) => sum + j.verifiedBytes, 0),
});

export function fioScan(ctx: StageContext): ScanEngine {
  const { fromByte, toByte } = scanRange(Number(ctx.drive.sizeBytes ?? 0));
  const size = toByte - fromByte;
  const stream = new FioStatusStream();
  const history: Record<string, string> = ctx.stage.bbPhaseHistory ? JSON.parse(ctx.stage.bbPhaseHistory) : {};
  let phase = ctx.stage.bbPhase ?? 1;
  let lastSample: { phase: number; bytes: number; at: number } | null = null;
  let last: Done = { written: 0, verified: 0 };

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
      bbPhasePct: Math.round(pct * 100) / 100,
      progressPct: Math.round(((phase - 1) * 50 + pct / 2) * 100) / 100,
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
      last = totals(newest);
      const fields = fieldsOf(last, now);
      return { fields, immediate: phase !== before };
    },
    pendingBytes: () => stream.pendingBytes(),
    resetRate() {
      lastSample = null;
    },
    async finish(proc: DetachedProcess, from: number) {
      const offset = await readRest(ctx, `${proc.dir}/${STATUS_FILE}`, from, (text) => {
        const newest = stream.push(text).at(-1);
        if (newest) last = totals(newest);
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
      ctx.progress.update(
        {
          bbPhase: 1,
          bbPhasePct: 0,
          progressPct: 0,
          bbPhaseHistory: JSON.stringify({ 1: new Date(ctx.now()).toISOString() }),
          bbBadBlocks: 0,
          bbBadBlockList: "[]",
          bbMbps: null,
          bbBlockSize: VERIFY_INTERVAL,
          bbBlocksAtOnce: FIO_BLOCK_SIZE / VERIFY_INTERVAL,
          bbPatterns: JSON.stringify([FIO_PATTERN]),
        },
        { immediate: true },
      );
      history[1] = new Date(ctx.now()).toISOString();
      const argv = fioArgv({
        device: devicePathOf(ctx.drive),
        fromByte,
        toByte,
        mode: "write",
        seed: jobSeed(ctx.job.id),
        statusFile: STATUS_FILE,
      });
      return startScan(ctx, argv);
    },
  };
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
