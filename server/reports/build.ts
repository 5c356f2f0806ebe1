// The burn-in report of one finished job, as plain data: what was tested (drive, host), how
// (profile, options, stages), what the surface scan saw (bad blocks, each pattern's time and
// speed, the speed over the disk), how warm the drive ran, SMART before and after, and the
// verdict. The same data is signed (signing.ts) and printed as HTML and PDF. Everything a host
// reported (model, serial, firmware...) is data here, never markup: the renderers escape it.
import type { Db } from "../db/client.js";
import { parseStoredJson } from "../db/stored-json.js";
import { JobStateError, NotFoundError } from "../errors.js";
import type { SmartReport } from "../parsers/smartctl.js";
import type { CapacityCheck } from "../runner/capacity.js";
import { ENDED_JOB_STATUSES } from "../runner/job-status.js";
import { engineOfPatterns, modeOf, patternOf, phaseHistory } from "../runner/scan-phases.js";
import { type SmartChange, smartChanges, smartFigureChanged } from "../runner/smart-changes.js";
import type { PauseRecord } from "../runner/stages/scan-pauses.js";
import type { Verdict } from "../runner/verdict.js";
import { resumedJobs } from "../services/resume-chain.js";
import { KILN_VERSION } from "../version.js";
import { type ErasureStatement, erasureStatement, type SanitizeStatement, sanitizeStatement } from "./erasure.js";

export const REPORT_FORMAT = 1;
/** Points of the speed curve kept per phase: enough for a chart, small enough to sign and mail. */
const CURVE_POINTS_PER_PHASE = 100;

export interface ReportPhase {
  phase: number;
  pattern: string;
  mode: "write" | "verify";
  startedAt: string;
  /** Null for a phase that did not end (the scan stopped in it). */
  seconds: number | null;
  /** Bytes of the drive over the phase's time; null when either is unknown. */
  averageMbps: number | null;
  /** [percent of the disk, MB/s] along the phase. */
  curve: Array<[number, number]>;
}

export interface BurnInReport {
  format: number;
  kiln: { version: string };
  job: {
    id: string;
    profile: string;
    status: string;
    options: Record<string, unknown>;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    createdBy: string | null;
    resumedFromId: string | null;
    errorText: string | null;
  };
  drive: {
    serial: string;
    model: string | null;
    vendor: string | null;
    wwn: string | null;
    firmware: string | null;
    sizeBytes: number | null;
    busType: string | null;
    rotationRate: number | null;
    logicalSectorSize: number | null;
    physicalSectorSize: number | null;
  };
  host: { name: string; transport: string };
  stages: Array<{
    name: string;
    status: string;
    startedAt: string | null;
    finishedAt: string | null;
    seconds: number | null;
    errorText: string | null;
    /** A surface scan's pauses (operator or heat). */
    pauses: PauseRecord[];
  }>;
  surfaceScan: null | {
    /** The whole scan's average (bytes written and read over its time without pauses). */
    averageMbps: number | null;
    blockSize: number | null;
    blocksAtOnce: number | null;
    badBlocks: number;
    badBlockList: number[];
    phases: ReportPhase[];
  };
  temperature: null | { minC: number; maxC: number; meanC: number; readings: number };
  smart: {
    before: SmartSummary | null;
    after: SmartSummary | null;
    changes: Array<SmartChange & { changed: boolean }>;
  };
  verdict: null | { outcome: string; reasons: string[]; warnings: string[] };
  /** What the report says about erasure (null: the profile writes nothing). Absent in reports made before it. */
  erasure?: ErasureStatement | null;
  /** The drive's own sanitize, when the job ended with one. Absent in reports made before it. */
  sanitize?: SanitizeStatement | null;
}

interface SmartSummary {
  takenAt: string;
  health: string | null;
  temperatureC: number | null;
  powerOnHours: number | null;
  selfTests: Array<{ type: string; status: string; passed: boolean | null }>;
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const secondsBetween = (a: Date | null, b: Date | null) => (a && b ? round((b.getTime() - a.getTime()) / 1000) : null);

function summary(row: { report: string; takenAt: Date } | undefined): SmartSummary | null {
  const report = row ? parseStoredJson<SmartReport>(row.report) : null;
  if (!row || !report) return null;
  return {
    takenAt: row.takenAt.toISOString(),
    health: report.health ?? null,
    temperatureC: report.temperatureC ?? null,
    powerOnHours: report.powerOnHours ?? null,
    // The newest few are what the job's own tests left.
    selfTests: (report.selfTests ?? []).slice(0, 3).map((t) => ({ type: t.type, status: t.status, passed: t.passed })),
  };
}

/** Every n-th point, so a phase keeps at most `max` (the last one always). */
function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const step = points.length / max;
  const kept: T[] = [];
  for (let i = 0; i < max - 1; i++) kept.push(points[Math.floor(i * step)] as T);
  kept.push(points[points.length - 1] as T);
  return kept;
}

/**
 * The report of a finished job: the one kept for it (once retention removed its raw data), else
 * made from its data. NotFoundError for no such job, JobStateError while it runs.
 */
export async function buildReport(db: Db, jobId: string): Promise<BurnInReport> {
  const kept = await db.jobReport.findUnique({ where: { jobId } });
  if (kept) return JSON.parse(kept.report) as BurnInReport;
  return reportFromData(db, jobId);
}

/** Keeps a finished job's report, so it outlives the raw data it is made from. */
export async function keepReport(db: Db, jobId: string): Promise<void> {
  if (await db.jobReport.findUnique({ where: { jobId }, select: { jobId: true } })) return;
  const report = await reportFromData(db, jobId);
  await db.jobReport.create({ data: { jobId, report: JSON.stringify(report) } });
}

async function reportFromData(db: Db, jobId: string): Promise<BurnInReport> {
  const job = await db.burnInJob.findUnique({
    where: { id: jobId },
    include: {
      drive: { include: { host: { select: { name: true, transport: true } } } },
      stages: { orderBy: { position: "asc" }, omit: { log: true } },
    },
  });
  if (!job) throw new NotFoundError("job", jobId);
  if (!ENDED_JOB_STATUSES.has(job.status))
    throw new JobStateError(jobId, job.status, `job ${jobId} is ${job.status}: its report is made once it has finished`);
  const [snapshots, temperatures] = await Promise.all([
    db.smartSnapshot.findMany({ where: { jobId, kind: { in: ["baseline", "final"] } }, orderBy: { takenAt: "asc" } }),
    db.driveTemperature.findMany({ where: { jobId }, select: { celsius: true } }),
  ]);
  const baseline = snapshots.findLast((s) => s.kind === "baseline");
  const final = snapshots.findLast((s) => s.kind === "final");
  const sizeBytes = job.drive.sizeBytes === null ? null : Number(job.drive.sizeBytes);

  const scanStage = job.stages.find((s) => s.name === "surface_validate" && s.bbPhase !== null);
  let surfaceScan: BurnInReport["surfaceScan"] = null;
  if (scanStage) {
    const samples = await db.stageSample.findMany({
      where: { stageId: scanStage.id },
      orderBy: [{ at: "asc" }, { id: "asc" }],
      select: { phase: true, phasePct: true, mbps: true },
    });
    const engine = engineOfPatterns(scanStage.bbPatterns);
    const starts = phaseHistory(scanStage.bbPhaseHistory, engine);
    const phases = starts.map((start, i): ReportPhase => {
      const next = starts[i + 1]?.startedAt ?? (scanStage.status === "passed" ? scanStage.finishedAt : null);
      const seconds = secondsBetween(start.startedAt, next);
      const curve = samples
        .filter((s) => s.phase === start.phase && s.mbps !== null)
        .map((s): [number, number] => [round(s.phasePct, 2), round(s.mbps as number)]);
      return {
        phase: start.phase,
        pattern: patternOf(start.phase, engine),
        mode: modeOf(start.phase),
        startedAt: start.startedAt.toISOString(),
        seconds,
        averageMbps: seconds && sizeBytes ? round(sizeBytes / 1e6 / seconds) : null,
        curve: thin(curve, CURVE_POINTS_PER_PHASE),
      };
    });
    surfaceScan = {
      averageMbps: job.scanMbps,
      blockSize: scanStage.bbBlockSize,
      blocksAtOnce: scanStage.bbBlocksAtOnce,
      badBlocks: scanStage.bbBadBlocks ?? 0,
      badBlockList: parseStoredJson<number[]>(scanStage.bbBadBlockList) ?? [],
      phases,
    };
  }

  const writingStage = job.stages.find((s) => s.name === "surface_validate");
  const erasure = erasureStatement(
    sizeBytes,
    writingStage
      ? {
          status: writingStage.status,
          patterns: parseStoredJson<string[]>(writingStage.bbPatterns) ?? [],
          blockSize: writingStage.bbBlockSize,
          resumes: await resumedJobs(db, job.resumedFromId),
        }
      : null,
    parseStoredJson<CapacityCheck>(job.capacityCheck),
  );
  const celsius = temperatures.map((t) => t.celsius);
  const before = baseline ? parseStoredJson<SmartReport>(baseline.report) : null;
  const after = final ? parseStoredJson<SmartReport>(final.report) : null;
  const verdict = parseStoredJson<Verdict>(job.verdict);
  return {
    format: REPORT_FORMAT,
    kiln: { version: KILN_VERSION },
    job: {
      id: job.id,
      profile: job.profile,
      status: job.status,
      options: parseStoredJson<Record<string, unknown>>(job.options) ?? {},
      createdAt: job.createdAt.toISOString(),
      startedAt: iso(job.startedAt),
      finishedAt: iso(job.finishedAt),
      createdBy: job.createdBy,
      resumedFromId: job.resumedFromId,
      errorText: job.errorText,
    },
    drive: {
      serial: job.serial,
      model: job.drive.model,
      vendor: job.drive.vendor,
      wwn: job.drive.wwn,
      firmware: job.drive.firmware,
      sizeBytes,
      busType: job.drive.busType,
      rotationRate: job.drive.rotationRate,
      logicalSectorSize: job.drive.logicalSectorSize,
      physicalSectorSize: job.drive.physicalSectorSize,
    },
    host: { name: job.drive.host.name, transport: job.drive.host.transport },
    stages: job.stages.map((s) => ({
      name: s.name,
      status: s.status,
      startedAt: iso(s.startedAt),
      finishedAt: iso(s.finishedAt),
      seconds: secondsBetween(s.startedAt, s.finishedAt),
      errorText: s.errorText,
      pauses: parseStoredJson<PauseRecord[]>(s.pauses) ?? [],
    })),
    surfaceScan,
    temperature: celsius.length
      ? {
          minC: Math.min(...celsius),
          maxC: Math.max(...celsius),
          meanC: round(celsius.reduce((a, b) => a + b, 0) / celsius.length),
          readings: celsius.length,
        }
      : null,
    smart: {
      before: summary(baseline),
      after: summary(final),
      changes: smartChanges(before, after).map((row) => ({ ...row, changed: smartFigureChanged(row) })),
    },
    verdict: verdict ? { outcome: verdict.result, reasons: verdict.reasons, warnings: verdict.warnings } : null,
    erasure,
    sanitize: sanitizeStatement(job.stages.find((s) => s.name === "sanitize") ?? null),
  };
}
