// The verdict from the SMART difference between the baseline (precheck) and the final snapshot.
// Pure. A counter missing on either side is not compared (and said so), never taken as zero.
import type { SmartCounters, SmartReport } from "../parsers/smartctl.js";

export interface Verdict {
  result: "passed" | "failed";
  /** Why it failed. */
  reasons: string[];
  /** Worth knowing, not failing (a rising UDMA CRC count is a cable, not a drive). */
  warnings: string[];
}

const FAILING_RISES: Array<[keyof SmartCounters, string]> = [
  ["reallocatedSectors", "reallocated sectors"],
  ["pendingSectors", "pending sectors"],
  ["offlineUncorrectable", "offline-uncorrectable sectors"],
  ["mediaErrors", "NVMe media errors"],
  ["grownDefects", "grown defects"],
  ["uncorrectedErrors", "uncorrected errors"],
];

export function verdictFrom(baseline: SmartReport, final: SmartReport): Verdict {
  const reasons: string[] = [];
  const warnings: string[] = [];
  const b = baseline.counters;
  const f = final.counters;
  for (const [key, label] of FAILING_RISES) {
    const before = b[key];
    const after = f[key];
    if (before !== undefined && after !== undefined && after > before)
      reasons.push(`${after - before} new ${label} (${before} -> ${after})`);
  }
  if (f.criticalWarning !== undefined && f.criticalWarning !== 0) reasons.push(`NVMe critical warning 0x${f.criticalWarning.toString(16)}`);
  if (final.health === "failed") reasons.push("SMART overall health: FAILED");
  if (b.udmaCrcErrors !== undefined && f.udmaCrcErrors !== undefined && f.udmaCrcErrors > b.udmaCrcErrors) {
    warnings.push(`UDMA CRC errors rose ${b.udmaCrcErrors} -> ${f.udmaCrcErrors}: check the cable (not a drive fault)`);
  }
  if (b.reportedUncorrectable !== undefined && f.reportedUncorrectable !== undefined && f.reportedUncorrectable > b.reportedUncorrectable) {
    warnings.push(`reported uncorrectable errors rose ${b.reportedUncorrectable} -> ${f.reportedUncorrectable}`);
  }
  if (b.commandTimeouts !== undefined && f.commandTimeouts !== undefined && f.commandTimeouts > b.commandTimeouts) {
    warnings.push(`command timeouts rose ${b.commandTimeouts} -> ${f.commandTimeouts}: check cable and power`);
  }
  if (b.errorLogEntries !== undefined && f.errorLogEntries !== undefined && f.errorLogEntries > b.errorLogEntries) {
    // Many NVMe drives log harmless entries (an unsupported command the host probed for).
    warnings.push(`NVMe error log entries rose ${b.errorLogEntries} -> ${f.errorLogEntries}: read them with smartctl -l error`);
  }
  const compared = FAILING_RISES.filter(([key]) => b[key] !== undefined && f[key] !== undefined).length;
  if (compared === 0 && final.health === undefined)
    warnings.push("the drive reports no failure counters: the verdict rests on the self-tests and the surface scan");
  return { result: reasons.length ? "failed" : "passed", reasons, warnings };
}
