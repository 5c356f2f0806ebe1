import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HostOutputError } from "../../server/parsers/host-json.js";
import { parseSmartctlJson, parseSmartctlScan } from "../../server/parsers/smartctl.js";
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
    });
    expect(ok.temperatureC).toBe(36);
    expect(ok.powerOnHours).toBe(2401);
    const failed = parseSmartctlJson(read("smart-nvme-failed.json"));
    expect(failed.counters.mediaErrors).toBe(7);
    expect(failed.counters.percentageUsed).toBe(3);
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
