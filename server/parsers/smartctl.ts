// Normalises `smartctl -j` JSON (ATA/SATA, NVMe, SCSI/SAS, USB bridges, MegaRAID) into one report.
// Pure, no I/O. A field the drive did not report is absent, never a made-up zero.
import { HostOutputError, parseHostJson } from "./host-json.js";

export type SmartProtocol = "ata" | "nvme" | "scsi";

export interface SelfTestEntry {
  type: string;
  status: string;
  /** true: completed without error; false: the drive found a fault; null: aborted or not known. */
  passed: boolean | null;
  /** The log's own entry for a test that is running now (SCSI and some ATA drives log one). */
  running?: boolean;
  lifetimeHours?: number;
  /** First failing LBA, when the drive logged one. */
  lba?: number;
}

export interface SmartCounters {
  /** ATA 5 */
  reallocatedSectors?: number;
  /** ATA 187 */
  reportedUncorrectable?: number;
  /** ATA 188 */
  commandTimeouts?: number;
  /** ATA 197 */
  pendingSectors?: number;
  /** ATA 198 */
  offlineUncorrectable?: number;
  /** ATA 199 */
  udmaCrcErrors?: number;
  /** NVMe */
  mediaErrors?: number;
  criticalWarning?: number;
  percentageUsed?: number;
  availableSpare?: number;
  availableSpareThreshold?: number;
  /** SCSI grown defect list */
  grownDefects?: number;
  /** SCSI uncorrected read + write + verify errors */
  uncorrectedErrors?: number;
  /** NVMe error information log entries over the drive's life (num_err_log_entries) */
  errorLogEntries?: number;
}

export interface SmartAttribute {
  id: number;
  name: string;
  value: number;
  worst: number;
  threshold: number;
  raw: number;
  rawString: string;
  whenFailed: string;
}

export interface SmartReport {
  device?: { name: string; type?: string; protocol?: string };
  protocol?: SmartProtocol;
  model?: string;
  serial?: string;
  wwn?: string;
  firmware?: string;
  capacityBytes?: number;
  /** NVMe: the controller's whole capacity, what no namespace holds, and each namespace's size. */
  nvmeCapacity?: { totalBytes?: number; unallocatedBytes?: number; namespaceBytes: number[] };
  logicalBlockSize?: number;
  physicalBlockSize?: number;
  /** RPM; 0 means SSD. */
  rotationRate?: number;
  temperatureC?: number;
  powerOnHours?: number;
  /** passed | failed, from smart_status; absent when smartctl could not tell. */
  health?: "passed" | "failed";
  counters: SmartCounters;
  /** ATA attributes whose normalised value is at or below threshold now or in the past. */
  failingAttributes: SmartAttribute[];
  attributes: SmartAttribute[];
  selfTests: SelfTestEntry[];
  /** Percent remaining of a self-test running now. */
  selfTestRemainingPct?: number;
  /** A self-test is running now, even when the drive does not say how far it is (older smartctl on SAS). */
  selfTestRunning?: boolean;
  /** Recommended self-test durations, minutes. */
  selfTestMinutes: { short?: number; extended?: number; conveyance?: number };
  /** smartctl's exit status bit mask (bit 3: disk failing, bit 4: prefail attribute <= threshold...). */
  exitStatus?: number;
  messages: string[];
}

/** The input is not smartctl JSON, or smartctl could not read the device at all. */
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);
const obj = (v: unknown): Json => (isObject(v) ? v : {});

export function parseSmartctlJson(text: string): SmartReport {
  return normaliseSmartctl(parseHostJson(text, "smartctl -j"));
}

/** What smartctl said about its run (`smartctl.messages[].string`) in its parsed JSON output. */
export function smartctlMessages(data: unknown): string[] {
  const { messages } = obj(obj(data).smartctl);
  return Array.isArray(messages) ? messages.map((m) => str(obj(m).string)).filter((m): m is string => m !== undefined) : [];
}

export function normaliseSmartctl(data: unknown): SmartReport {
  if (!isObject(data)) throw new HostOutputError("expected a JSON object from smartctl -j");
  const smartctl = obj(data.smartctl);
  const messages = smartctlMessages(data);
  const exitStatus = num(smartctl.exit_status);
  if (!isObject(data.device) && data.serial_number === undefined && data.model_name === undefined) {
    // Bits 0-1: command line did not parse / device open failed.
    const why = messages[0] ?? "no device section, serial or model";
    throw new HostOutputError(`smartctl output has no device data: ${why}`);
  }
  const device = obj(data.device);
  const protocol = protocolOf(str(device.protocol), str(device.type));
  const report: SmartReport = { counters: {}, failingAttributes: [], attributes: [], selfTests: [], selfTestMinutes: {}, messages };
  if (str(device.name)) report.device = { name: str(device.name) as string, type: str(device.type), protocol: str(device.protocol) };
  if (protocol) report.protocol = protocol;
  setIf(report, "model", str(data.model_name) ?? joinVendorProduct(data));
  setIf(report, "serial", str(data.serial_number));
  setIf(report, "wwn", wwnOf(data.wwn));
  setIf(report, "firmware", str(data.firmware_version) ?? str(data.revision));
  setIf(report, "capacityBytes", num(obj(data.user_capacity).bytes) ?? num(data.nvme_total_capacity));
  if (protocol === "nvme") {
    const namespaces = Array.isArray(data.nvme_namespaces) ? data.nvme_namespaces : [];
    const nvme: NonNullable<SmartReport["nvmeCapacity"]> = {
      namespaceBytes: namespaces.map((n) => num(obj(obj(n).size).bytes)).filter((n): n is number => n !== undefined),
    };
    const total = num(data.nvme_total_capacity);
    const unallocated = num(data.nvme_unallocated_capacity);
    if (total !== undefined) nvme.totalBytes = total;
    if (unallocated !== undefined) nvme.unallocatedBytes = unallocated;
    report.nvmeCapacity = nvme;
  }
  setIf(report, "logicalBlockSize", num(data.logical_block_size));
  setIf(report, "physicalBlockSize", num(data.physical_block_size));
  setIf(report, "rotationRate", num(data.rotation_rate) ?? (protocol === "nvme" ? 0 : undefined));
  setIf(report, "temperatureC", num(obj(data.temperature).current) ?? num(obj(data.nvme_smart_health_information_log).temperature));
  setIf(report, "powerOnHours", num(obj(data.power_on_time).hours) ?? num(obj(data.nvme_smart_health_information_log).power_on_hours));
  const status = obj(data.smart_status);
  if (typeof status.passed === "boolean") report.health = status.passed ? "passed" : "failed";
  if (exitStatus !== undefined) report.exitStatus = exitStatus;

  readAtaAttributes(data, report);
  readNvmeHealth(data, report);
  readScsiCounters(data, report);
  readSelfTests(data, report);
  // Identity first, then health data, so printed reports read top-down.
  const { counters, selfTestMinutes, selfTests, failingAttributes, attributes, messages: notes, ...identity } = report;
  return { ...identity, counters, selfTestMinutes, selfTests, failingAttributes, attributes, messages: notes };
}

function setIf<K extends keyof SmartReport>(report: SmartReport, key: K, value: SmartReport[K] | undefined): void {
  if (value !== undefined) report[key] = value;
}

function protocolOf(protocol: string | undefined, type: string | undefined): SmartProtocol | undefined {
  const p = (protocol ?? "").toLowerCase();
  if (p === "ata") return "ata";
  if (p === "nvme") return "nvme";
  if (p === "scsi") return "scsi";
  const t = (type ?? "").toLowerCase();
  if (t.startsWith("nvme")) return "nvme";
  if (t === "scsi") return "scsi";
  if (t.startsWith("sat") || t.startsWith("ata") || t.startsWith("usb")) return "ata";
  return undefined;
}

function joinVendorProduct(data: Json): string | undefined {
  const vendor = str(data.vendor);
  const product = str(data.product);
  return vendor && product ? `${vendor} ${product}` : product;
}

/** NAA + OUI + id, as the 16 hex digits lsblk and /dev/disk/by-id show (0x5000c500...). */
function wwnOf(value: unknown): string | undefined {
  const wwn = obj(value);
  const naa = num(wwn.naa);
  const oui = num(wwn.oui);
  const id = num(wwn.id);
  if (naa === undefined || oui === undefined || id === undefined) return undefined;
  const hex = naa.toString(16) + oui.toString(16).padStart(6, "0") + id.toString(16).padStart(9, "0");
  return `0x${hex}`;
}

/** Leading integer of a raw string ("32 (Min/Max 24/38)" -> 32, "0 0 0" -> 0), else the raw value. */
function rawCount(raw: Json): number {
  const text = str(raw.string);
  const match = text ? /^(\d+)/.exec(text) : null;
  if (match) return Number(match[1]);
  return num(raw.value) ?? 0;
}

const ATA_COUNTERS: Record<number, keyof SmartCounters> = {
  5: "reallocatedSectors",
  187: "reportedUncorrectable",
  188: "commandTimeouts",
  197: "pendingSectors",
  198: "offlineUncorrectable",
  199: "udmaCrcErrors",
};

function readAtaAttributes(data: Json, report: SmartReport): void {
  const table = obj(data.ata_smart_attributes).table;
  if (!Array.isArray(table)) return;
  for (const row of table) {
    if (!isObject(row)) continue;
    const id = num(row.id);
    if (id === undefined) continue;
    const raw = obj(row.raw);
    const attribute: SmartAttribute = {
      id,
      name: str(row.name) ?? `attribute_${id}`,
      value: num(row.value) ?? 0,
      worst: num(row.worst) ?? 0,
      threshold: num(row.thresh) ?? 0,
      raw: rawCount(raw),
      rawString: str(raw.string) ?? String(num(raw.value) ?? ""),
      whenFailed: typeof row.when_failed === "string" ? row.when_failed : "",
    };
    report.attributes.push(attribute);
    if (attribute.whenFailed) report.failingAttributes.push(attribute);
    const counter = ATA_COUNTERS[id];
    if (counter) report.counters[counter] = attribute.raw;
  }
}

function readNvmeHealth(data: Json, report: SmartReport): void {
  if (!isObject(data.nvme_smart_health_information_log)) return;
  const log = data.nvme_smart_health_information_log;
  const c = report.counters;
  const set = (key: keyof SmartCounters, value: unknown) => {
    const n = num(value);
    if (n !== undefined) c[key] = n;
  };
  set("mediaErrors", log.media_errors);
  set("criticalWarning", log.critical_warning);
  set("percentageUsed", log.percentage_used);
  set("availableSpare", log.available_spare);
  set("availableSpareThreshold", log.available_spare_threshold);
  set("errorLogEntries", log.num_err_log_entries);
}

function readScsiCounters(data: Json, report: SmartReport): void {
  const grown = num(data.scsi_grown_defect_list);
  if (grown !== undefined) report.counters.grownDefects = grown;
  const log = data.scsi_error_counter_log;
  if (isObject(log)) {
    let total: number | undefined;
    for (const kind of ["read", "write", "verify"]) {
      const n = num(obj(log[kind]).total_uncorrected_errors);
      if (n !== undefined) total = (total ?? 0) + n;
    }
    if (total !== undefined) report.counters.uncorrectedErrors = total;
  }
}

function readSelfTests(data: Json, report: SmartReport): void {
  // ATA: recommended durations and a test running now.
  const ataSelfTest = obj(obj(data.ata_smart_data).self_test);
  const polling = obj(ataSelfTest.polling_minutes);
  for (const key of ["short", "extended", "conveyance"] as const) {
    const minutes = num(polling[key]);
    if (minutes !== undefined) report.selfTestMinutes[key] = minutes;
  }
  const ataStatus = obj(ataSelfTest.status);
  const remaining = num(ataStatus.remaining_percent);
  // Status value 0xF0-0xFF (240-255) is "in progress"; the low nibble is tenths remaining.
  if (remaining !== undefined) report.selfTestRemainingPct = remaining;
  else if ((num(ataStatus.value) ?? 0) >= 240) report.selfTestRemainingPct = ((num(ataStatus.value) as number) & 0x0f) * 10;

  const ataLog = obj(data.ata_smart_self_test_log);
  const table = obj(ataLog.extended).table ?? obj(ataLog.standard).table;
  if (Array.isArray(table)) {
    for (const row of table) {
      if (!isObject(row)) continue;
      const status = obj(row.status);
      // Status 0xF_ is "in progress"; smartctl leaves `passed` out for aborted tests (0x1_-0x3_).
      const running = (num(status.value) ?? 0) >> 4 === 0xf;
      const entry: SelfTestEntry = {
        type: str(obj(row.type).string) ?? "unknown",
        status: str(status.string) ?? "unknown",
        passed: !running && typeof status.passed === "boolean" ? status.passed : null,
      };
      if (running) entry.running = true;
      const hours = num(row.lifetime_hours);
      if (hours !== undefined) entry.lifetimeHours = hours;
      const lba = num(row.lba);
      if (lba !== undefined) entry.lba = lba;
      report.selfTests.push(entry);
    }
  }

  // NVMe self-test log (smartctl 7.3+).
  const nvme = data.nvme_self_test_log;
  if (isObject(nvme)) {
    const operation = num(obj(nvme.current_self_test_operation).value);
    const completion = num(nvme.current_self_test_completion_percent);
    if (operation !== undefined && operation !== 0) report.selfTestRemainingPct = 100 - (completion ?? 0);
    if (Array.isArray(nvme.table)) {
      for (const row of nvme.table) {
        if (!isObject(row)) continue;
        const result = obj(row.self_test_result);
        const resultValue = num(result.value);
        const entry: SelfTestEntry = {
          type: str(obj(row.self_test_code).string) ?? "unknown",
          status: str(result.string) ?? "unknown",
          passed: nvmeSelfTestPassed(resultValue),
        };
        const lba = num(obj(row.lba).value) ?? num(row.lba);
        if (lba !== undefined) entry.lba = lba;
        const hours = num(row.power_on_hours);
        if (hours !== undefined) entry.lifetimeHours = hours;
        report.selfTests.push(entry);
      }
    }
  }
  // SCSI: durations in seconds when the drive reports them.
  const scsiSeconds = num(data.scsi_extended_self_test_seconds);
  if (scsiSeconds !== undefined && report.selfTestMinutes.extended === undefined)
    report.selfTestMinutes.extended = Math.ceil(scsiSeconds / 60);
  readScsiSelfTests(data, report);
  if (report.selfTestRemainingPct !== undefined) report.selfTestRunning = true;
}

/**
 * NVMe self-test result codes (NVMe base spec, Self-test Result Data Structure): 0 completed
 * without error; 5-7 a fault (fatal error, a segment failed); 1-4, 8, 9 aborted (by a command, a
 * reset, a namespace removal, a format, sanitize, or for no given reason): no answer either way.
 */
function nvmeSelfTestPassed(value: number | undefined): boolean | null {
  if (value === undefined) return null;
  if (value === 0) return true;
  if (value >= 5 && value <= 7) return false;
  return null;
}

/**
 * SCSI/SAS (smartctl's scsiprint): the log is `scsi_self_test_0` (newest) to `_19`. Result codes
 * (SPC-3 7.2.10): 0 completed; 1-2 aborted (by command, by reset); 3 unknown error, incomplete;
 * 4-7 completed with a failed segment; 15 in progress. smartctl 7.4 adds
 * `scsi_self_test_status { in_progress, completion_percent }`; older versions only log the running
 * test, so Kiln knows it runs but not how far it is.
 */
function readScsiSelfTests(data: Json, report: SmartReport): void {
  const status = obj(data.scsi_self_test_status);
  if (status.in_progress === true) {
    report.selfTestRunning = true;
    const done = num(status.completion_percent);
    if (done !== undefined) report.selfTestRemainingPct = Math.max(0, Math.min(100, 100 - done));
  }
  for (let i = 0; i < 20; i++) {
    const row = data[`scsi_self_test_${i}`];
    if (!isObject(row)) break;
    const result = num(obj(row.result).value);
    const running = row.self_test_in_progress === true || result === 15;
    const entry: SelfTestEntry = {
      type: str(obj(row.code).string) ?? "unknown",
      status: str(obj(row.result).string) ?? "unknown",
      passed: running ? null : scsiSelfTestPassed(result),
    };
    if (running) {
      entry.running = true;
      report.selfTestRunning = true;
    }
    const hours = num(obj(row.power_on_time).hours);
    if (hours !== undefined) entry.lifetimeHours = hours;
    const lba = num(obj(row.lba_first_failure).value);
    if (lba !== undefined) entry.lba = lba;
    report.selfTests.push(entry);
  }
}

function scsiSelfTestPassed(value: number | undefined): boolean | null {
  if (value === 0) return true;
  if (value !== undefined && value >= 3 && value <= 7) return false;
  return null;
}

export interface SmartctlScanDevice {
  name: string;
  type: string | null;
  protocol: string | null;
  /** From --scan-open: the device could not be opened (message), else null. */
  openError: string | null;
}

/**
 * `smartctl --scan -j` / `--scan-open -j`: the devices smartctl can address. Returns null when
 * the JSON is not a scan (no "devices" list), so callers can try the report parser instead.
 */
export function parseSmartctlScan(text: string): { devices: SmartctlScanDevice[] } | null {
  let data: unknown;
  try {
    data = parseHostJson(text, "smartctl --scan -j");
  } catch {
    return null;
  }
  if (!isObject(data) || !Array.isArray(data.devices)) return null;
  return {
    devices: data.devices.filter(isObject).map((d) => ({
      name: str(d.name) ?? "",
      type: str(d.type) ?? null,
      protocol: str(d.protocol) ?? null,
      openError: str(d.open_error) ?? null,
    })),
  };
}
