// The erasure claim's checks: hdparm -N read back, whether a device reaches the whole drive (ATA,
// NVMe from recorded smartctl JSON, SAS), and when a report may say "Clear".
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseHdparmMaxSectors } from "../../server/parsers/hdparm.js";
import { parseSmartctlJson, type SmartReport } from "../../server/parsers/smartctl.js";
import { erasureStatement } from "../../server/reports/erasure.js";
import { checkCapacity } from "../../server/runner/capacity.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";

const fixtures = smartctlFixtureDir();
const smart = (file: string) => parseSmartctlJson(readFileSync(path.join(fixtures as string, file), "utf8"));
const ata = { protocol: "ata" } as SmartReport;

describe("hdparm -N", () => {
  it("reads the current and native max sectors", () => {
    expect(parseHdparmMaxSectors("\n/dev/sdb:\n max sectors   = 976773168/976773168, HPA is disabled\n")).toEqual({
      current: 976773168,
      native: 976773168,
    });
    expect(parseHdparmMaxSectors("\n/dev/sdc:\n max sectors   = 976771055/976773168, HPA is enabled\n")).toEqual({
      current: 976771055,
      native: 976773168,
    });
  });

  it("gives null for a drive that did not answer, or numbers that are not sectors", () => {
    expect(parseHdparmMaxSectors("\n/dev/sdd:\nSG_IO: bad/missing sense data\n")).toBeNull();
    expect(parseHdparmMaxSectors(" max sectors   = 0/976773168")).toBeNull();
    expect(parseHdparmMaxSectors(" max sectors   = 99999999999999999999/1")).toBeNull();
    expect(parseHdparmMaxSectors("")).toBeNull();
  });
});

describe("does the device reach the whole drive", () => {
  it("ATA: only when hdparm -N answers with no hidden sectors", () => {
    expect(checkCapacity(512 * 1000, ata, { current: 1000, native: 1000 })).toMatchObject({
      method: "hdparm -N",
      driveBytes: 512_000,
      wholeDriveReachable: true,
    });
    expect(checkCapacity(512 * 1000, ata, { current: 1000, native: 1008 })).toMatchObject({
      wholeDriveReachable: false,
      detail: "a host protected area hides 4096 bytes (max sectors 1000 of 1008 native)",
    });
    expect(checkCapacity(512 * 1000, ata, "SG_IO: bad/missing sense data")).toMatchObject({
      method: "none",
      wholeDriveReachable: false,
      detail: "the drive did not answer hdparm -N (SG_IO: bad/missing sense data): a host protected area cannot be ruled out",
    });
    expect(checkCapacity(512 * 1000, ata, null).wholeDriveReachable).toBe(false);
    // The device smaller than the drive's current max (a partition handed to Kiln, a lying lsblk).
    expect(checkCapacity(512 * 999, ata, { current: 1000, native: 1000 })).toMatchObject({
      wholeDriveReachable: false,
      detail: "max sectors 1000 = native 1000, but the device is 511488 bytes: 512 bytes are out of its reach",
    });
  });

  it("no SMART, or a kind without a check: never reachable", () => {
    expect(checkCapacity(4096, null, null)).toMatchObject({ method: "none", wholeDriveReachable: false });
  });

  it.runIf(fixtures !== null)("NVMe: one namespace holding all the drive's capacity (recorded drives)", () => {
    const nvme = smart("smart-nvme-failed.json");
    expect(nvme.nvmeCapacity).toEqual({ totalBytes: 500107862016, unallocatedBytes: 0, namespaceBytes: [500107862016] });
    expect(checkCapacity(500107862016, nvme, null)).toMatchObject({ method: "nvme namespaces", wholeDriveReachable: true });
    // No total reported: the one namespace is the measure.
    expect(checkCapacity(1024209543168, smart("smart-nvme.json"), null).wholeDriveReachable).toBe(true);
    const shared = { ...nvme, nvmeCapacity: { totalBytes: 1000, unallocatedBytes: 0, namespaceBytes: [500, 500] } };
    expect(checkCapacity(500, shared, null)).toMatchObject({
      wholeDriveReachable: false,
      detail: "the drive has 2 namespaces: this device is one of them",
    });
    const spare = { ...nvme, nvmeCapacity: { totalBytes: 1000, unallocatedBytes: 200, namespaceBytes: [800] } };
    expect(checkCapacity(800, spare, null).detail).toBe("200 bytes of the drive are in no namespace");
  });

  it.runIf(fixtures !== null)("SAS: READ CAPACITY against the device (a recorded drive)", () => {
    const sas = smart("smart-scsi.json");
    expect(checkCapacity(4000787030016, sas, null)).toMatchObject({ method: "read capacity", wholeDriveReachable: true });
    expect(checkCapacity(4000787030016 - 4096, sas, null).wholeDriveReachable).toBe(false);
  });
});

describe("the report's erasure statement", () => {
  const whole = checkCapacity(8192, ata, { current: 16, native: 16 });
  const scan = { status: "passed", patterns: ["position-checked"], blockSize: 4096, resumes: [] };

  it("claims a Clear only for a passed scan of every byte of a whole drive", () => {
    expect(erasureStatement(8192, scan, whole)).toMatchObject({ claimed: true, notClaimed: null, coveredBytes: 8192 });
    expect(erasureStatement(8192, { ...scan, status: "failed" }, whole)?.notClaimed).toMatch(/^the surface scan did not pass \(failed\)/);
    expect(erasureStatement(8192 + 512, scan, checkCapacity(8704, ata, { current: 17, native: 17 }))?.notClaimed).toBe(
      "the last 512 bytes of the device (past its last whole 4096-byte block) were not written",
    );
    expect(erasureStatement(8192, scan, null)?.notClaimed).toMatch(/capacity was not checked/);
    expect(erasureStatement(8192, scan, checkCapacity(8192, ata, { current: 16, native: 24 }))?.notClaimed).toMatch(
      /^the device may not be the whole drive: a host protected area hides 4096 bytes/,
    );
    // A profile that writes nothing says nothing about erasure.
    expect(erasureStatement(8192, null, whole)).toBeNull();
  });

  it("names the jobs a resumed scan goes on from, and what badblocks left on the drive", () => {
    const resumed = erasureStatement(8192, { ...scan, patterns: ["0xff", "0x00"], blockSize: 4096, resumes: ["job-a"] }, whole);
    expect(resumed?.technique).toBe(
      "badblocks -w wrote 0xff, 0x00 to every block, reading each pattern back and comparing it; the drive was left holding 0x00 (together with the job it resumes: job-a)",
    );
  });
});
