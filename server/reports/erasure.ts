// What a report may say about erasure: a NIST SP 800-88 Rev. 1 "Clear" by overwrite with
// verification, claimed only when the surface scan passed (every block written and read back as
// written), it covered every byte of the device, and the device reaches the whole drive (no host
// protected area, one NVMe namespace of all of it: BurnInJob.capacityCheck). Otherwise the report
// says why not. Pure.
import { SANITIZE_METHOD_WORDS, type SanitizeMethod } from "../parsers/sanitize.js";
import type { CapacityCheck } from "../runner/capacity.js";
import { FIO_PATTERN } from "../runner/scan-phases.js";
import type { SanitizeRun } from "../runner/stages/sanitize.js";

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

/** What the report says about the drive's own sanitize, run as the job's last stage. */
export interface SanitizeStatement {
  standard: "NIST SP 800-88 Rev. 1";
  method: "Purge";
  /** The report claims the Purge: the drive said its sanitize ended without error. */
  claimed: boolean;
  sanitizeMethod: SanitizeMethod;
  /** nvme | ata */
  commandSet: string;
  command: string[];
  issuedAt: string | null;
  endedAt: string | null;
  /** The stage's result: passed, failed, unknown, cancelled (the drive may go on), running. */
  result: string;
  /** The drive's own words on it. */
  said: string | null;
  notClaimed: string | null;
  limits: string[];
}

const SANITIZE_LIMITS = [
  "A sanitize is carried out by the drive's firmware: Kiln issued the command and read the drive's own sanitize status; it did not read the media afterwards.",
];
const CRYPTO_LIMIT =
  "A crypto erase is a Purge only where the drive encrypts everything it stores with the key it changed (a self-encrypting drive): the drive's documentation says whether it does.";

/** The statement for a job's sanitize stage, or null when the job had none. */
export function sanitizeStatement(stage: { status: string; sanitize: string | null } | null): SanitizeStatement | null {
  if (!stage) return null;
  const run = stage.sanitize ? (JSON.parse(stage.sanitize) as SanitizeRun) : null;
  if (!run) return null;
  const claimed = stage.status === "passed" && run.result === "passed";
  return {
    standard: "NIST SP 800-88 Rev. 1",
    method: "Purge",
    claimed,
    sanitizeMethod: run.method,
    commandSet: run.commandSet,
    command: run.command,
    issuedAt: run.issuedAt,
    endedAt: run.endedAt,
    result: stage.status,
    said: run.said,
    notClaimed: claimed
      ? null
      : run.issuedAt === null
        ? "the drive did not accept the sanitize command"
        : `the sanitize did not end without error (${stage.status}${run.said ? `: ${run.said}` : ""})`,
    limits: run.method === "crypto_erase" ? [...SANITIZE_LIMITS, CRYPTO_LIMIT] : SANITIZE_LIMITS,
  };
}

/** One line for the report. */
export function sanitizeLine(s: SanitizeStatement): string {
  const what = `${SANITIZE_METHOD_WORDS[s.sanitizeMethod]} (${s.commandSet === "nvme" ? "NVMe Sanitize" : "ATA SANITIZE"}: ${s.command.join(" ")})`;
  return s.claimed
    ? `Purged: ${s.standard} ${s.method} by the drive's own ${what}, issued ${s.issuedAt}, which the drive reported done without error at ${s.endedAt} (${s.said ?? "no words"}).`
    : `No sanitize claimed (${what}): ${s.notClaimed}.`;
}
