// What uses a drive, as stored in Drive.usage (JSON) and shown to the operator, and the two
// rules built on it: active use can never be unlocked, data at rest needs an unlock grant.
import type { DriveUsage } from "../parsers/lsblk.js";

export type { DriveUsage };

/** Kinds that mean the host is using the drive right now (rows written before `active` existed). */
const ACTIVE_KINDS = new Set(["mount", "swap", "md", "lvm", "crypt", "zfs"]);

/** Drive.usage column -> list; a damaged value reads as unknown active usage rather than "free". */
export function parseUsage(json: string): DriveUsage[] {
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) throw new Error("not a list");
    return value.map((u) => ({
      kind: String(u.kind),
      name: String(u.name),
      detail: u.detail == null ? null : String(u.detail),
      active: typeof u.active === "boolean" ? u.active : ACTIVE_KINDS.has(String(u.kind)),
    }));
  } catch {
    return [{ kind: "unknown", name: "unreadable usage record", detail: json.slice(0, 200), active: true }];
  }
}

export function activeUsage(usage: DriveUsage[]): DriveUsage[] {
  return usage.filter((u) => u.active);
}

/** "mount /mnt/backup, filesystem /dev/sdb1 (ext4)" */
export function describeUsage(usage: DriveUsage[]): string {
  return usage.map((u) => `${u.kind} ${u.name}${u.detail && u.kind !== "mount" ? ` (${u.detail})` : ""}`).join(", ");
}
