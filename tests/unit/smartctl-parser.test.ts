import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HostOutputError } from "../../server/parsers/host-json.js";
import { parseSmartctlJson, parseSmartctlScan } from "../../server/parsers/smartctl.js";
import { verdictFrom } from "../../server/runner/verdict.js";
import { smartctlFixtureDir, smartctlFixtures } from "../helpers/shared-fixtures.js";

const dir = smartctlFixtureDir();
const read = (name: string) => readFileSync(path.join(dir as string, name), "utf8");

describe.runIf(dir !== null)("smartctl parser on recorded drives (../shared/fixtures/smartctl)", () => {
  it("reads a SATA HDD: identity, capacity, temperature, hours, counters, running self-test, durations", () => {
    const r = parseSmartctlJson(read("smart-ata.json"));
    expect(r.protocol).toBe("ata");
    expect(r.serial).toBeTruthy();
    expect(r.capacityBytes).toBe(14000519643136);
    expect(r.rotationRate).toBe(5400);
    expect(r.temperatureC).toBe(32);
    expect(r.powerOnHours).toBe(1730);
    expect(r.health).toBe("passed");
    expect(r.wwn).toMatch(/^0x5[0-9a-f]{15}$/);
    expect(r.counters).toEqual({ reallocatedSectors: 0, pendingSectors: 0, offlineUncorrectable: 0, udmaCrcErrors: 0 });
    // Attribute 187/188 are not in this drive's table: absent, not zero.
    expect("reportedUncorrectable" in r.counters).toBe(false);
    expect(r.selfTestRemainingPct).toBe(10);
    expect(r.selfTestMinutes).toEqual({ short: 2, extended: 1479 });
    expect(r.selfTests[0]).toMatchObject({ type: "Short offline", status: "Completed without error", passed: true, lifetimeHours: 1708 });
  });

  it("reads a failing USB-bridged drive: SMART failed, reallocated and pending sectors, failing attribute", () => {
    const r = parseSmartctlJson(read("smart-fail2.json"));
    expect(r.health).toBe("failed");
    expect(r.device?.type).toBe("usbjmicron");
    expect(r.counters.reallocatedSectors).toBe(1975);
    expect(r.counters.pendingSectors).toBe(8);
    expect(r.failingAttributes.map((a) => a.id)).toContain(5);
    expect(r.exitStatus).toBe(216);
  });

  it("reads NVMe health: media errors, critical warning, wear, spare; rotation 0", () => {
    const ok = parseSmartctlJson(read("smart-nvme.json"));
    expect(ok.protocol).toBe("nvme");
    expect(ok.rotationRate).toBe(0);
    expect(ok.counters).toEqual({
      mediaErrors: 0,
      criticalWarning: 0,
      percentageUsed: 0,
      availableSpare: 100,
      availableSpareThreshold: 10,
      errorLogEntries: 0,
    });
    expect(ok.temperatureC).toBe(36);
    expect(ok.powerOnHours).toBe(2401);
    const failed = parseSmartctlJson(read("smart-nvme-failed.json"));
    expect(failed.counters.mediaErrors).toBe(7);
    expect(failed.counters.percentageUsed).toBe(3);
    expect(failed.counters.errorLogEntries).toBe(62);
  });

  it("reads SCSI/SAS: vendor + product model, grown defects, uncorrected errors", () => {
    const r = parseSmartctlJson(read("smart-scsi.json"));
    expect(r.protocol).toBe("scsi");
    expect(r.model).toBe("SEAGATE ST4000NM0043");
    expect(r.firmware).toBe("MS03");
    expect(r.counters.grownDefects).toBe(56);
    expect(r.counters.uncorrectedErrors).toBe(0);
    expect(r.powerOnHours).toBe(43549);
  });

  // The recorded SAS drive has no self-test log; the entries below are written the way smartctl's
  // scsiprint writes them (code, result, failed_segment, power_on_time or self_test_in_progress).
  const sas = (extra: Record<string, unknown>) => parseSmartctlJson(JSON.stringify({ ...JSON.parse(read("smart-scsi.json")), ...extra }));
  const scsiEntry = (result: number, text: string, extra: Record<string, unknown> = {}) => ({
    code: { value: 1, string: "Background short" },
    result: { value: result, string: text },
    ...(result === 15 ? { self_test_in_progress: true } : { power_on_time: { hours: 43549, aka: "accumulated_power_on_hours" } }),
    ...extra,
  });

  it("reads a SAS drive's running self-test: its percent (smartctl 7.4+), or only that it runs (older)", () => {
    const running = scsiEntry(15, "Self test in progress ...");
    const now = sas({ scsi_self_test_status: { in_progress: true, completion_percent: 30 }, scsi_self_test_0: running });
    expect(now.selfTestRunning).toBe(true);
    expect(now.selfTestRemainingPct).toBe(70);
    expect(now.selfTests[0]).toMatchObject({ type: "Background short", running: true, passed: null });
    const legacy = sas({ scsi_self_test_0: running, scsi_self_test_1: scsiEntry(0, "Completed") });
    expect(legacy.selfTestRunning).toBe(true);
    expect(legacy.selfTestRemainingPct).toBeUndefined();
    expect(legacy.selfTests.map((t) => t.passed)).toEqual([null, true]);
    expect(sas({ scsi_self_test_status: { in_progress: false } }).selfTestRunning).toBeUndefined();
  });

  it("reads a SAS drive's self-test log: completed, failed in a segment (with the LBA), aborted", () => {
    const r = sas({
      scsi_self_test_0: scsiEntry(7, "Failed in segment", { failed_segment: { value: 3 }, lba_first_failure: { value: 77 } }),
      scsi_self_test_1: scsiEntry(1, "Aborted (by user command)"),
      scsi_self_test_2: scsiEntry(0, "Completed"),
      scsi_self_test_4: scsiEntry(0, "Completed"), // after a gap: not read (smartctl stops at the first empty slot)
    });
    expect(r.selfTests).toEqual([
      { type: "Background short", status: "Failed in segment", passed: false, lifetimeHours: 43549, lba: 77 },
      { type: "Background short", status: "Aborted (by user command)", passed: null, lifetimeHours: 43549 },
      { type: "Background short", status: "Completed", passed: true, lifetimeHours: 43549 },
    ]);
  });

  it("tells NVMe self-test faults (results 5-7) from aborts (1-4, 8, 9)", () => {
    const nvme = JSON.parse(read("smart-nvme.json"));
    const row = (value: number, text: string) => ({
      self_test_code: { value: 2, string: "Extended self-test" },
      self_test_result: { value, string: text },
      power_on_hours: 2400,
    });
    const r = parseSmartctlJson(
      JSON.stringify({
        ...nvme,
        nvme_self_test_log: {
          current_self_test_operation: { value: 0, string: "No self-test in progress" },
          table: [
            row(7, "Completed: failed segments"),
            row(2, "Aborted: Controller Reset"),
            row(0, "Completed without error"),
            row(8, "Aborted: Unknown"),
          ],
        },
      }),
    );
    expect(r.selfTests.map((t) => t.passed)).toEqual([false, null, true, null]);
    expect(r.selfTestRunning).toBeUndefined();
  });

  it("reads an ATA test aborted by the host as no result, not as passed", () => {
    const ata = JSON.parse(read("smart-ata.json"));
    ata.ata_smart_self_test_log.standard.table.unshift({
      type: { value: 1, string: "Short offline" },
      status: { value: 16, string: "Aborted by host" },
      lifetime_hours: 1729,
    });
    expect(parseSmartctlJson(JSON.stringify(ata)).selfTests[0]).toMatchObject({ status: "Aborted by host", passed: null });
  });

  it("judges a SAS drive's new grown defects and uncorrected errors, and warns on new NVMe error log entries", () => {
    const before = sas({});
    const worse = JSON.parse(read("smart-scsi.json"));
    worse.scsi_grown_defect_list = 60;
    worse.scsi_error_counter_log.verify = { total_uncorrected_errors: 2 };
    expect(verdictFrom(before, parseSmartctlJson(JSON.stringify(worse)))).toEqual({
      result: "failed",
      reasons: ["4 new grown defects (56 -> 60)", "2 new uncorrected errors (0 -> 2)"],
      warnings: [],
    });
    const nvme = JSON.parse(read("smart-nvme.json"));
    const nvmeBefore = parseSmartctlJson(JSON.stringify(nvme));
    nvme.nvme_smart_health_information_log.num_err_log_entries = 3;
    const v = verdictFrom(nvmeBefore, parseSmartctlJson(JSON.stringify(nvme)));
    expect(v.result).toBe("passed");
    expect(v.warnings).toEqual(["NVMe error log entries rose 0 -> 3: read them with smartctl -l error"]);
  });

  it("reads a drive behind a MegaRAID controller and keeps smartctl's warnings", () => {
    const r = parseSmartctlJson(read("smart-megaraid0.json"));
    expect(r.device?.type).toBe("sat+megaraid,0");
    expect(r.messages.join(" ")).toMatch(/Attribute check/);
    expect(r.selfTestMinutes).toEqual({ short: 2, extended: 523, conveyance: 5 });
  });

  it("leaves out what a sparse report does not have instead of inventing zeros", () => {
    const r = parseSmartctlJson(read("smartctl_info_sata_smart_support_bool.json"));
    expect(r.model).toBe("WD Red SA500 2.5 4TB");
    expect(r.temperatureC).toBeUndefined();
    expect(r.powerOnHours).toBeUndefined();
    expect(r.health).toBeUndefined();
    expect(r.counters).toEqual({});
  });

  it("reads every fixture without error, each with a serial or a device list", () => {
    const files = smartctlFixtures();
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const file of files) {
      const text = read(file);
      const scan = parseSmartctlScan(text);
      if (scan) expect(scan.devices.length).toBeGreaterThan(0);
      else expect(parseSmartctlJson(text).serial, file).toBeTruthy();
    }
    expect(parseSmartctlScan(read("smartctl_scan_nvme.json"))?.devices).toEqual([
      { name: "/dev/nvme0", type: "nvme", protocol: "NVMe", openError: null },
    ]);
  });
});

describe("smartctl parser on bad input", () => {
  it("refuses text that is not JSON with a clear error", () => {
    expect(() => parseSmartctlJson("smartctl 7.3 2022-02-28\nUnable to detect device type")).toThrow(HostOutputError);
    expect(() => parseSmartctlJson("{")).toThrow(/not valid JSON/);
  });

  it("refuses JSON that holds no device data and says smartctl's reason", () => {
    const openFailed = JSON.stringify({
      smartctl: { exit_status: 2, messages: [{ string: "/dev/loop0: Unable to detect device type", severity: "error" }] },
    });
    expect(() => parseSmartctlJson(openFailed)).toThrow(/Unable to detect device type/);
    expect(() => parseSmartctlJson("[1,2]")).toThrow(/JSON object/);
  });
});
