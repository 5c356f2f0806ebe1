// What uses a drive, as stored in Drive.usage (JSON) and shown to the operator, and the two
// rules built on it: active use can never be unlocked, data at rest needs an unlock grant.
import { ACTIVE_USAGE_KINDS, type DriveUsage, USAGE_KINDS, type UsageKind } from "../parsers/lsblk.js";

export type { DriveUsage };

const ACTIVE_KINDS = new Set<string>(ACTIVE_USAGE_KINDS);

/** A stored kind; rows written before kinds were enum names used dashes (zfs-importable). */
function kindOf(raw: unknown): UsageKind {
  const kind = String(raw).replace(/-/g, "_");
  return (USAGE_KINDS as readonly string[]).includes(kind) ? (kind as UsageKind) : "unknown";
}

/** Drive.usage column -> list; a damaged value reads as unknown active usage rather than "free". */
export function parseUsage(json: string): DriveUsage[] {
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) throw new Error("not a list");
    return value.map((u) => {
      const kind = kindOf(u.kind);
      return {
        kind,
        name: String(u.name),
        detail: u.detail == null ? null : String(u.detail),
        // Rows written before `active` existed: their kind says; an unreadable kind is active (the safe side).
        active: typeof u.active === "boolean" ? u.active : ACTIVE_KINDS.has(kind) || kind === "unknown",
      };
    });
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
