// Every fixed set of values the API shows, as an enum: clients switch on them with types, and a
// value outside the set is a bug Kiln reports instead of passing on.
import { USAGE_KINDS } from "../parsers/lsblk.js";
import { SANITIZE_METHODS } from "../parsers/sanitize.js";
import { JOB_STATUSES, VERDICT_OUTCOMES } from "../runner/job-status.js";
import { PROFILE_NAMES, STAGE_NAMES } from "../runner/profiles.js";
import { builder } from "./builder.js";

export { JOB_STATUSES, VERDICT_OUTCOMES };
export const STAGE_STATUSES = ["pending", "running", "passed", "failed", "cancelled", "unknown", "skipped"] as const;
/** slow: the host answers, but a command ran past its timeout (settings host*Seconds): busy, not gone. */
export const HOST_STATUSES = ["unknown", "ok", "slow", "untrusted", "unreachable", "key_mismatch", "error"] as const;
export const HOST_TRANSPORTS = ["local", "ssh", "demo"] as const;
export const SMART_HEALTHS = ["passed", "failed", "unknown"] as const;

export const JobStatusRef = builder.enumType("JobStatus", { values: JOB_STATUSES });
export const StageStatusRef = builder.enumType("StageStatus", { values: STAGE_STATUSES });
export const StageNameRef = builder.enumType("StageName", { values: STAGE_NAMES });
export const ProfileRef = builder.enumType("Profile", { values: PROFILE_NAMES });
export const SanitizeMethodRef = builder.enumType("SanitizeMethod", {
  values: SANITIZE_METHODS,
  description:
    "The drive's own sanitize (NVMe Sanitize, ATA SANITIZE): block_erase (flash blocks erased; on a hard drive its firmware overwrites), crypto_erase (the drive's encryption key changed: only for drives that encrypt everything they store), overwrite (one pass of zeros by the drive).",
});
export const HostStatusRef = builder.enumType("HostStatus", {
  values: HOST_STATUSES,
  description: "error: the host answered with something Kiln cannot use (statusReason says what).",
});
export const HostTransportRef = builder.enumType("HostTransport", { values: HOST_TRANSPORTS });
export const SmartHealthRef = builder.enumType("SmartHealth", { values: SMART_HEALTHS });
export const VerdictOutcomeRef = builder.enumType("VerdictOutcome", { values: VERDICT_OUTCOMES });
export const DriveUsageKindRef = builder.enumType("DriveUsageKind", {
  values: USAGE_KINDS,
  description:
    "Active (the host uses the drive now): mount, swap, md, lvm, crypt, zfs. At rest: filesystem, luks, encrypted, md_member, fwraid, lvm_pv, zfs_label, bcache, ceph, swap_signature, partitions, zfs_importable, unchecked. unknown: a record Kiln cannot read.",
});

/** A stored string as one of `values`; anything else is a bug, said so rather than passed on. */
export function oneOf<const T extends readonly string[]>(values: T, value: string, what: string): T[number] {
  if ((values as readonly string[]).includes(value)) return value as T[number];
  throw new Error(`${what} "${value}" is not one of ${values.join(", ")}`);
}
