// What a report may say about erasure: a NIST SP 800-88 Rev. 1 "Clear" by overwrite with
// verification, claimed only when the surface scan passed (every block written and read back as
// written), it covered every byte of the device, and the device reaches the whole drive (no host
// protected area, one NVMe namespace of all of it: BurnInJob.capacityCheck). Otherwise the report
// says why not. Pure.
import type { CapacityCheck } from "../runner/capacity.js";
import { FIO_PATTERN } from "../runner/scan-phases.js";

export interface ErasureStatement {
  standard: "NIST SP 800-88 Rev. 1";
  method: "Clear";
  /** The report claims the Clear. */
  claimed: boolean;
  /** How the drive was overwritten and verified. */
  technique: string;
  /** Why no claim is made (null when claimed). */
  notClaimed: string | null;
  /** Bytes overwritten and verified, from the first. */
  coveredBytes: number;
  capacity: CapacityCheck | null;
  /** What a Clear does not reach, said with every statement. */
  limits: string[];
}

export const ERASURE_LIMITS = [
  "A Clear overwrites the blocks a host can address. Sectors the drive has remapped, and an SSD's over-provisioned or retired flash, are out of its reach: where that matters NIST SP 800-88 asks for Purge (the drive's own sanitize or secure erase).",
  "What was written and read back, and the drive's capacity, are what the drive and its host reported; the media beneath were not examined.",
];

export interface ScanFacts {
  status: string;
  /** JSON list of the patterns the scan ran (Stage.bbPatterns). */
  patterns: string[];
  blockSize: number | null;
  /** Jobs the scan's job resumes, oldest first: parts of the same overwrite. */
  resumes: string[];
}

/** The statement for a job's scan, or null when the job wrote nothing (a profile without a scan). */
export function erasureStatement(
  sizeBytes: number | null,
  scan: ScanFacts | null,
  capacity: CapacityCheck | null,
): ErasureStatement | null {
  if (!scan) return null;
  const fio = scan.patterns.includes(FIO_PATTERN);
  const unit = fio ? 4096 : (scan.blockSize ?? 4096);
  const size = sizeBytes ?? 0;
  const coveredBytes = Math.floor(size / unit) * unit;
  const parts = scan.resumes.length
    ? ` (together with the job${scan.resumes.length > 1 ? "s" : ""} it resumes: ${scan.resumes.join(", ")})`
    : "";
  const technique = fio
    ? `fio wrote every 4 KiB of the device with data carrying its own offset and a checksum, then read every block back and verified it${parts}`
    : `badblocks -w wrote ${scan.patterns.join(", ")} to every block, reading each pattern back and comparing it; the drive was left holding ${scan.patterns.at(-1)}${parts}`;
  const why =
    scan.status !== "passed"
      ? `the surface scan did not pass (${scan.status}): blocks that were not written or not read back as written may still hold data`
      : size === 0
        ? "the device's size is unknown"
        : coveredBytes < size
          ? `the last ${size - coveredBytes} bytes of the device (past its last whole ${unit}-byte block) were not written`
          : !capacity
            ? "the drive's capacity was not checked before the scan (a job of an earlier Kiln)"
            : !capacity.wholeDriveReachable
              ? `the device may not be the whole drive: ${capacity.detail}`
              : null;
  return {
    standard: "NIST SP 800-88 Rev. 1",
    method: "Clear",
    claimed: why === null,
    technique,
    notClaimed: why,
    coveredBytes,
    capacity,
    limits: ERASURE_LIMITS,
  };
}

/** One line for the report's top. */
export function erasureLine(e: ErasureStatement): string {
  return e.claimed
    ? `Erased: ${e.standard} ${e.method} by overwrite with verification of all ${e.coveredBytes} bytes. ${e.technique}. ${e.capacity?.detail ?? ""}.`
    : `No erasure claimed: ${e.notClaimed}.`;
}
