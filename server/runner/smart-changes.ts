// The SMART figures a verdict compares, before (precheck) and after (final check), in the order an
// operator reads them. The drawer's table (BurnInJob.smartChanges) and the burn-in report use it.
import type { SmartCounters, SmartReport } from "../parsers/smartctl.js";

export interface SmartChange {
  name: string;
  before: number | null;
  after: number | null;
  /** A rise of this figure fails the verdict (verdict.ts). */
  decides: boolean;
  /** Temperature and power-on hours move in every burn-in: shown, never marked as a change. */
  informational: boolean;
}

/** An ATA attribute before and after: the drive's normalised value, its worst and its threshold. */
export interface SmartAttributeChange {
  id: number;
  name: string;
  value: number | null;
  worst: number | null;
  threshold: number | null;
  rawBefore: string | null;
  rawAfter: string | null;
  /** The verdict fails on a rise of its raw count (5, 197, 198). */
  decides: boolean;
  /** Its normalised value is at or below its threshold now: the drive itself says it failed. */
  failing: boolean;
}

type Figure = keyof SmartCounters | "temperatureC" | "powerOnHours";

const SMART_ROWS: Array<[Figure, string]> = [
  ["reallocatedSectors", "Reallocated sectors (5)"],
  ["pendingSectors", "Pending sectors (197)"],
  ["offlineUncorrectable", "Offline uncorrectable (198)"],
  ["reportedUncorrectable", "Reported uncorrectable (187)"],
  ["commandTimeouts", "Command timeouts (188)"],
  ["udmaCrcErrors", "UDMA CRC errors (199)"],
  ["mediaErrors", "Media errors (NVMe)"],
  ["criticalWarning", "Critical warning (NVMe)"],
  ["percentageUsed", "Percentage used (NVMe)"],
  ["availableSpare", "Available spare (NVMe)"],
  ["errorLogEntries", "Error log entries (NVMe)"],
  ["grownDefects", "Grown defects (SCSI)"],
  ["uncorrectedErrors", "Uncorrected errors (SCSI)"],
  ["powerOnHours", "Power-on hours"],
  ["temperatureC", "Temperature (°C)"],
];

/** The figures the verdict fails on (a rise, or any NVMe critical warning): verdict.ts FAILING_RISES. */
const DECIDING = new Set<Figure>([
  "reallocatedSectors",
  "pendingSectors",
  "offlineUncorrectable",
  "mediaErrors",
  "grownDefects",
  "uncorrectedErrors",
  "criticalWarning",
]);
const INFORMATIONAL = new Set<Figure>(["temperatureC", "powerOnHours"]);
/** ATA attribute ids of the deciding counters. */
const DECIDING_ATTRIBUTES = new Set([5, 197, 198]);

function figure(report: SmartReport | null, key: Figure): number | null {
  if (!report) return null;
  const value = key === "temperatureC" || key === "powerOnHours" ? report[key] : report.counters?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Rows neither report has are left out. */
export function smartChanges(before: SmartReport | null, after: SmartReport | null): SmartChange[] {
  return SMART_ROWS.map(([key, name]) => ({
    name,
    before: figure(before, key),
    after: figure(after, key),
    decides: DECIDING.has(key),
    informational: INFORMATIONAL.has(key),
  })).filter((r) => r.before !== null || r.after !== null);
}

/** A figure that changed during the job; temperature and power-on hours drift in every one, and are not marked. */
export const smartFigureChanged = (row: SmartChange): boolean =>
  !row.informational && row.before !== null && row.after !== null && row.before !== row.after;

/** Every ATA attribute of either report, by id, with the newest normalised values. NVMe and SCSI drives have none. */
export function smartAttributeChanges(before: SmartReport | null, after: SmartReport | null): SmartAttributeChange[] {
  const ids = new Set([...(before?.attributes ?? []), ...(after?.attributes ?? [])].map((a) => a.id));
  return [...ids]
    .sort((a, b) => a - b)
    .map((id) => {
      const b = before?.attributes?.find((a) => a.id === id);
      const a = after?.attributes?.find((x) => x.id === id);
      const now = a ?? b;
      return {
        id,
        name: now?.name ?? `attribute ${id}`,
        value: now?.value ?? null,
        worst: now?.worst ?? null,
        threshold: now?.threshold ?? null,
        rawBefore: b?.rawString ?? null,
        rawAfter: a?.rawString ?? null,
        decides: DECIDING_ATTRIBUTES.has(id),
        failing: now !== undefined && now.threshold > 0 && now.value <= now.threshold,
      };
    });
}
