// The SMART figures a verdict compares, before (precheck) and after (final check), in the order an
// operator reads them. The drawer's table (BurnInJob.smartChanges) and the burn-in report use it.
import type { SmartCounters, SmartReport } from "../parsers/smartctl.js";

export interface SmartChange {
  name: string;
  before: number | null;
  after: number | null;
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

function figure(report: SmartReport | null, key: Figure): number | null {
  if (!report) return null;
  const value = key === "temperatureC" || key === "powerOnHours" ? report[key] : report.counters?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Rows neither report has are left out. */
export function smartChanges(before: SmartReport | null, after: SmartReport | null): SmartChange[] {
  return SMART_ROWS.map(([key, name]) => ({ name, before: figure(before, key), after: figure(after, key) })).filter(
    (r) => r.before !== null || r.after !== null,
  );
}

export const smartFigureChanged = (row: SmartChange): boolean => row.before !== null && row.after !== null && row.before !== row.after;
