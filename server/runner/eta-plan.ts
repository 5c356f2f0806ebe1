// What a running job's time left is computed from: the estimate of its profile for its drive
// (the drive's size, its kind's speed curve, its own self-test minutes from the newest SMART
// report), and a re-entered scan's samples so far. Read once per stage from the database; the
// estimates the API shows before a start (Drive.profileEstimates) read the drive the same way.
import type { Db } from "../db/client.js";
import { parseStoredJson } from "../db/stored-json.js";
import type { SanitizeMethod } from "../parsers/sanitize.js";
import type { SmartReport } from "../parsers/smartctl.js";
import { type DriveForEstimate, estimateProfiles, sanitizeSeconds, speedCurveOf } from "./estimates.js";
import type { EtaPlan } from "./progress.js";
import type { ScanSample } from "./scan-eta.js";

interface DriveOfJob {
  id: string;
  sizeBytes: bigint | null;
  rotationRate: number | null;
  busType: string | null;
}

/** What a drive's estimates are made from: its size and kind, and its self-test minutes from its newest SMART report. */
export async function driveForEstimate(db: Db, drive: DriveOfJob): Promise<DriveForEstimate> {
  const newest = await db.smartSnapshot.findFirst({
    where: { driveId: drive.id },
    orderBy: [{ takenAt: "desc" }, { id: "desc" }],
    select: { report: true },
  });
  const minutes = parseStoredJson<SmartReport>(newest?.report ?? null)?.selfTestMinutes;
  return {
    sizeBytes: drive.sizeBytes === null ? null : Number(drive.sizeBytes),
    rotationRate: drive.rotationRate,
    busType: drive.busType,
    ...(minutes ? { selfTestMinutes: minutes } : {}),
  };
}

/** The plan of a job's profile on its drive; none for a profile without estimates (simulate) or a drive of unknown size. */
export async function readEtaPlan(db: Db, profile: string, drive: DriveOfJob, sanitize?: SanitizeMethod): Promise<EtaPlan | undefined> {
  if (drive.sizeBytes === null || drive.sizeBytes <= 0n) return undefined;
  const forEstimate = await driveForEstimate(db, drive);
  const estimate = estimateProfiles(forEstimate).find((e) => e.profile === profile);
  if (!estimate) return undefined;
  return {
    stageSeconds: {
      ...Object.fromEntries(estimate.parts.map((p) => [p.stage, p.seconds])),
      ...(sanitize ? { sanitize: sanitizeSeconds(forEstimate, sanitize) } : {}),
    },
    sizeBytes: Number(drive.sizeBytes),
    curve: speedCurveOf(forEstimate),
  };
}

/** The samples a scan stored before this start, oldest first (at most 3,200: one per 0.25% of 8 phases). */
export async function readScanSamples(db: Db, stageId: string): Promise<ScanSample[]> {
  return db.stageSample.findMany({
    where: { stageId },
    orderBy: [{ at: "asc" }, { id: "asc" }],
    select: { phase: true, phasePct: true, mbps: true },
  });
}
