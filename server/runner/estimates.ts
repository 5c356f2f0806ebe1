// How long each profile would take on a drive, before it starts: from the drive's size, a speed
// curve for its kind and its own self-test durations (SMART's recommended minutes) when it reports
// them. Pure. A hard drive is fastest on its outer tracks (low LBAs) and about half as fast on its
// inner ones; the curve falls linearly with the LBA, so one sequential pass takes
// size x ln(outer / inner) / (outer - inner).
import type { SanitizeMethod } from "../parsers/sanitize.js";
import { PROFILES, type ProfileName, scanEngineOf } from "./profiles.js";
import { phaseCountOf } from "./scan-phases.js";

export interface DriveForEstimate {
  sizeBytes: number | null;
  /** RPM; 0 = solid state. */
  rotationRate: number | null;
  busType: string | null;
  /** SMART's recommended self-test durations, when the drive reports them. */
  selfTestMinutes?: { short?: number; extended?: number };
}

/** Sequential MB/s at the first and the last LBA. */
export interface SpeedCurve {
  outerMBps: number;
  innerMBps: number;
}

/**
 * Typical sequential speeds by kind: current CMR drives (16-24 TB) reach about 285 MB/s at 7200 rpm
 * and 200 MB/s at 5400 on their outer tracks, half that inside; SATA SSDs 500 MB/s, NVMe 2000
 * MB/s sustained (past any SLC cache). An estimate, said as one.
 */
export function speedCurveOf(drive: DriveForEstimate): SpeedCurve {
  if (drive.busType === "nvme") return { outerMBps: 2000, innerMBps: 2000 };
  if (drive.rotationRate === 0) return { outerMBps: 500, innerMBps: 500 };
  const outer = (drive.rotationRate ?? 7200) >= 7200 ? 285 : 200;
  return { outerMBps: outer, innerMBps: outer / 2 };
}

/** Seconds for one sequential pass over the whole drive along `curve`. */
export function passSeconds(sizeBytes: number, curve: SpeedCurve): number {
  const bytes = Math.max(0, sizeBytes);
  const outer = curve.outerMBps * 1e6;
  const inner = curve.innerMBps * 1e6;
  return outer === inner ? bytes / outer : (bytes * Math.log(outer / inner)) / (outer - inner);
}

export interface ProfileEstimate {
  profile: ProfileName;
  seconds: number;
  /** Each stage's share, for the dialog's explanation. */
  parts: Array<{ stage: string; seconds: number }>;
}

/** The estimate of every profile for the drive (`simulate` is left out, `nvme` for NVMe drives only). */
export function estimateProfiles(drive: DriveForEstimate): ProfileEstimate[] {
  if (!drive.sizeBytes || drive.sizeBytes <= 0) return [];
  const curve = speedCurveOf(drive);
  const pass = passSeconds(drive.sizeBytes, curve);
  const nvme = drive.busType === "nvme";
  // Without the drive's own figures: a short test takes 2 minutes, an extended one reads the drive once.
  const shortS = (drive.selfTestMinutes?.short ?? 2) * 60;
  const extendedS = drive.selfTestMinutes?.extended !== undefined ? drive.selfTestMinutes.extended * 60 : pass;
  const stageSeconds = (profile: ProfileName, stage: string): number => {
    switch (stage) {
      case "smart_short":
        return shortS;
      case "smart_long":
      case "nvme_selftest":
        return extendedS;
      case "surface_validate":
        // fio: one write and one read of every byte; badblocks: 4 patterns, each written and read
        // (on a hard drive the drive is the limit, not badblocks).
        return phaseCountOf(scanEngineOf(profile)) * pass;
      default:
        return 60; // precheck, final check: SMART reads and a lsblk
    }
  };
  return (Object.keys(PROFILES) as ProfileName[])
    .filter((profile) => profile !== "simulate" && (profile !== "nvme" || nvme))
    .map((profile) => {
      const parts = PROFILES[profile].map((s) => ({ stage: s.name, seconds: Math.round(stageSeconds(profile, s.name)) }));
      return { profile, seconds: parts.reduce((sum, p) => sum + p.seconds, 0), parts };
    });
}

/**
 * The drive's own sanitize: an overwrite writes every block once (a pass); a block erase is a
 * pass on a hard drive (the firmware overwrites) and a couple of minutes on flash; a crypto erase
 * changes a key. The drive's own estimate, where its sanitize log gives one, is used while it runs.
 */
export function sanitizeSeconds(drive: DriveForEstimate, method: SanitizeMethod): number {
  const flash = drive.busType === "nvme" || drive.rotationRate === 0;
  const pass = drive.sizeBytes && drive.sizeBytes > 0 ? passSeconds(drive.sizeBytes, speedCurveOf(drive)) : 0;
  if (method === "crypto_erase") return 60;
  if (method === "block_erase" && flash) return 120;
  return Math.max(60, Math.round(pass));
}
