// What uses a drive, as stored in Drive.usage (JSON) and shown to the operator.
import type { DriveUsage } from "../parsers/lsblk.js";

export type { DriveUsage };

/** Drive.usage column -> list; a damaged value reads as unknown usage rather than "free". */
export function parseUsage(json: string): DriveUsage[] {
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) throw new Error("not a list");
    return value.map((u) => ({ kind: String(u.kind), name: String(u.name), detail: u.detail == null ? null : String(u.detail) }));
  } catch {
    return [{ kind: "unknown", name: "unreadable usage record", detail: json.slice(0, 200) }];
  }
}
