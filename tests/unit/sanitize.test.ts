// What Kiln reads of a drive's own sanitize: nvme-cli's id-ctrl SANICAP and sanitize-log JSON (the
// shape nvme-cli 2.3, Debian 12's, prints: the log keyed by the device name, SSTAT as "(n) words"),
// hdparm -I's feature list and hdparm --sanitize-status (hdparm 9.65's words), and the probe's
// answer for every kind of device.
import { describe, expect, it } from "vitest";
import { ataSanitizeMethods, nvmeSanitizeMethods, parseHdparmSanitizeStatus, parseNvmeSanitizeLog } from "../../server/parsers/sanitize.js";
import { readSanitizeProbe, sanitizeRefusal } from "../../server/runner/sanitize-support.js";

const nvmeLog = (sprog: number, status: string, cdw10: number) => ({
  nvme0n1: {
    sprog,
    sstat: { global_erased: 0, no_cmplted_passes: 0, status },
    cdw10_info: cdw10,
    time_over_write: 4294967295,
    time_block_erase: 30,
    time_crypto_erase: 4294967295,
    time_over_write_no_dealloc: 4294967295,
    time_block_erase_no_dealloc: 4294967295,
    time_crypto_erase_no_dealloc: 4294967295,
  },
});

const IDENTIFY = `
/dev/sdb:

ATA device, with non-removable media
\tModel Number:       Samsung SSD 870 EVO 1TB
Commands/features:
\tEnabled\tSupported:
\t   *\tSMART feature set
\t   *\tSANITIZE_ANTIFREEZE_LOCK_EXT command
\t   *\tSANITIZE feature set
\t   *\tCRYPTO_SCRAMBLE_EXT command
\t   *\tBLOCK_ERASE_EXT command
Security:
\t\tsupported
Checksum: correct
`;

describe("sanitize parsers", () => {
  it("reads SANICAP bits as methods, and no field as unknown", () => {
    expect(nvmeSanitizeMethods({ sanicap: 0x3 })).toEqual(["crypto_erase", "block_erase"]);
    expect(nvmeSanitizeMethods({ sanicap: 0x60000004 })).toEqual(["overwrite"]);
    expect(nvmeSanitizeMethods({ sanicap: 0 })).toEqual([]);
    expect(nvmeSanitizeMethods({ mn: "x" })).toBeNull();
  });

  it("reads nvme sanitize-log: in progress with SPROG's fraction, done with the action it ran, and the drive's estimate", () => {
    const running = parseNvmeSanitizeLog(nvmeLog(16384, "(2) Sanitize in Progress", 2));
    expect(running).toMatchObject({ state: "in_progress", percent: 25, lastMethod: "block_erase", estimateSeconds: { block_erase: 30 } });
    expect(parseNvmeSanitizeLog(nvmeLog(65535, "(1) Sanitize Success", 4))).toMatchObject({
      state: "succeeded",
      percent: null,
      lastMethod: "crypto_erase",
    });
    expect(parseNvmeSanitizeLog(nvmeLog(65535, "(4) Sanitize Success With No-Deallocate", 2)).state).toBe("succeeded");
    expect(parseNvmeSanitizeLog(nvmeLog(65535, "(3) Sanitize Failed", 2)).state).toBe("failed");
    expect(parseNvmeSanitizeLog(nvmeLog(0, "(0) Never Sanitized", 0))).toMatchObject({ state: "none", lastMethod: null });
    // nvme-cli 1.x: a flat object, SSTAT a number (bit 8: global data erased).
    expect(parseNvmeSanitizeLog({ sprog: 32768, sstat: 0x102, cdw10_info: 3 })).toMatchObject({
      state: "in_progress",
      percent: 50,
      lastMethod: "overwrite",
    });
    expect(() => parseNvmeSanitizeLog({ nvme0n1: { foo: 1 } })).toThrow(/no sprog/);
    expect(() => parseNvmeSanitizeLog(nvmeLog(1, "busy", 2))).toThrow(/unreadable status/);
  });

  it("reads hdparm -I's sanitize commands, none without the feature set, and null without identify data", () => {
    expect(ataSanitizeMethods(IDENTIFY)).toEqual(["block_erase", "crypto_erase"]);
    expect(ataSanitizeMethods(IDENTIFY.replace(/.*SANITIZE feature set\n/, ""))).toEqual([]);
    // A loop device: hdparm prints the name and nothing else.
    expect(ataSanitizeMethods("\n/dev/loop0:\n")).toBeNull();
  });

  it("reads hdparm --sanitize-status in each state", () => {
    const status = (lines: string[]) =>
      parseHdparmSanitizeStatus(["", "/dev/sdb:", "Issuing SANITIZE_STATUS command", "Sanitize status:", ...lines].join("\n"));
    expect(status(["    State:    SD2 Sanitize operation In Process", "    Progress: 0x8000 (50%)"])).toMatchObject({
      state: "in_progress",
      percent: 50,
    });
    expect(status(["    State:    SD0 Sanitize Idle", "    Last Sanitize Operation Completed Without Error"]).state).toBe("succeeded");
    expect(status(["    State:    SD0 Sanitize Idle"]).state).toBe("none");
    expect(status(["    State:    SD1 Sanitize Frozen"]).state).toBe("frozen");
    expect(status(["    State:    SD3 Sanitize Operation Failed", "    Last Sanitize Command completed unsuccessfully"]).state).toBe(
      "failed",
    );
    expect(() => parseHdparmSanitizeStatus("SG_IO: bad/missing sense data")).toThrow(/no state/);
  });
});

describe("the sanitize probe's answer", () => {
  it("tells an NVMe, an ATA, a frozen ATA, a SAS and a loop device apart, with a reason for each refusal", () => {
    const nvme = readSanitizeProbe('kiln-sanitize nvme\n{"sanicap": 2}\n', "nvme");
    expect(nvme).toEqual({ supported: true, commandSet: "nvme", methods: ["block_erase"], status: null });
    expect(sanitizeRefusal(nvme, "block_erase")).toBeNull();
    expect(sanitizeRefusal(nvme, "crypto_erase")).toBe("it does not support crypto erase; it supports block_erase (block erase)");

    const ata = readSanitizeProbe(
      `kiln-sanitize ata\n${IDENTIFY}\nkiln-sanitize ata-status\nSanitize status:\n    State:    SD0 Sanitize Idle\n`,
      "sata",
    );
    expect(ata).toMatchObject({ supported: true, commandSet: "ata", methods: ["block_erase", "crypto_erase"] });
    const frozen = readSanitizeProbe(
      `kiln-sanitize ata\n${IDENTIFY}\nkiln-sanitize ata-status\n    State:    SD1 Sanitize Frozen\n`,
      "sata",
    );
    expect(sanitizeRefusal(frozen, "block_erase")).toMatch(/^its sanitize commands are frozen \(SD1/);

    const sas = readSanitizeProbe("kiln-sanitize ata\n\n/dev/sdc:\nkiln-sanitize ata-status\nSG_IO: bad sense\n", "sas");
    expect(sanitizeRefusal(sas, "block_erase")).toMatch(/SAS\/SCSI drive: Kiln does not run SCSI SANITIZE/);
    const loop = readSanitizeProbe("kiln-sanitize ata\n\n/dev/loop3:\nkiln-sanitize ata-status\n", "loop");
    expect(sanitizeRefusal(loop, "overwrite")).toMatch(/answers neither nvme id-ctrl nor ATA IDENTIFY .* \(a loop device\)$/);
    expect(sanitizeRefusal(readSanitizeProbe("kiln-sanitize no-nvme\nkiln-sanitize no-hdparm\n", "sata"), "block_erase")).toBe(
      "the host has neither nvme (nvme-cli) nor hdparm installed to ask the drive",
    );
  });
});
