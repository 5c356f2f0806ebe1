// What a hostile or broken host can print, and what Kiln makes of it: JSON nested to overflow a
// stack, a badblocks log without line breaks, by-id names that lead out of /dev/disk/by-id, work
// directories with "..", and the signature probe's answers (data at rest on a device).
import { describe, expect, it } from "vitest";
import { redactUrl } from "../../server/db/url.js";
import { BadblocksParser } from "../../server/parsers/badblocks.js";
import { HostOutputError, parseHostJson } from "../../server/parsers/host-json.js";
import { parseLsblk } from "../../server/parsers/lsblk.js";
import { parseSignatureProbe, usageOfProbe } from "../../server/parsers/signatures.js";
import { parseSmartctlJson } from "../../server/parsers/smartctl.js";
import { checkDevicePath } from "../../server/transport/shell.js";
import { checkWorkDir } from "../../server/transport/work-dir.js";

const deep = (n: number) => `{"blockdevices": [${'{"name":"x","type":"disk","children":['.repeat(n)}${"]}".repeat(n)}]}`;

describe("JSON from hosts", () => {
  it("refuses lsblk JSON nested 10,000 deep with a clear error instead of overflowing the stack", () => {
    expect(() => parseLsblk(deep(10_000))).toThrow(HostOutputError);
    expect(() => parseLsblk(deep(10_000))).toThrow(/lsblk -J: JSON nested deeper than 64 levels/);
    expect(() => parseSmartctlJson(`{"a":${"[".repeat(100_000)}${"]".repeat(100_000)}}`)).toThrow(/smartctl -j: JSON nested deeper/);
  });

  it("still reads real nesting (disk > partition > crypt > LVM) and ignores brackets inside strings", () => {
    expect(parseLsblk(deep(5)).map((d) => d.name)).toEqual(["x"]);
    expect(parseHostJson('{"label": "[[[[[[[[\\"[[[[", "n": [1]}', "test", 2)).toEqual({ label: '[[[[[[[["[[[[', n: [1] });
    expect(() => parseHostJson("{not json", "zpool")).toThrow(/^zpool: not valid JSON/);
  });
});

describe("badblocks log without line breaks", () => {
  it("cuts a segment longer than any badblocks line, counts it, and never joins it with what follows", () => {
    const parser = new BadblocksParser();
    const garbage = "A".repeat(64 * 1024);
    // 32 MiB without a line break, in 64 KiB chunks, then real badblocks output.
    for (let i = 0; i < 512; i++) parser.push(garbage, 0);
    parser.push("9999\nTesting with pattern 0xaa: 12.50% done, 0:01 elapsed. (0/0/0 errors)\b\b\b", 1);
    const state = parser.state();
    expect(state.overlongSegments).toBe(1);
    expect(state.unrecognised).toHaveLength(1);
    expect(state.unrecognised[0]?.length).toBeLessThanOrEqual(200);
    // "AAAA...9999" is not a bad block: the digits belong to the cut segment.
    expect(state.badBlocks).toBe(0);
    expect(state).toMatchObject({ phase: 1, phasePct: 12.5, pattern: "0xaa" });
  });

  it("cuts an overlong segment that arrives terminated in one chunk too", () => {
    const parser = new BadblocksParser();
    parser.push(`${"B".repeat(100_000)}\n123\n`, 0);
    expect(parser.state()).toMatchObject({ overlongSegments: 1, badBlocks: 1, badBlockList: [123] });
    expect(parser.state().unrecognised[0]).toBe("B".repeat(200));
  });
});

describe("paths from hosts and settings", () => {
  it("refuses by-id names that lead out of /dev/disk/by-id", () => {
    expect(checkDevicePath("/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K1234567")).toBeTruthy();
    expect(() => checkDevicePath("/dev/disk/by-id/..")).toThrow(/is not a device Kiln will touch/);
    expect(() => checkDevicePath("/dev/disk/by-id/.")).toThrow(/is not a device Kiln will touch/);
    expect(() => checkDevicePath("/dev/disk/by-id/a b")).toThrow(/is not a device Kiln will touch/);
  });

  it("takes only plain absolute work directories", () => {
    expect(checkWorkDir("/var/lib/kiln")).toBe("/var/lib/kiln");
    for (const bad of ["var/lib/kiln", "/var/lib/../tmp", "/var/./lib", "/var//lib", "/", "/var/lib/kiln/"]) {
      expect(() => checkWorkDir(bad), bad).toThrow(/^remoteWorkDir: /);
    }
  });

  it("never prints a password, even of a URL too broken to parse", () => {
    expect(redactUrl("postgresql://kiln:s3cret@db:99999/kiln")).toBe("postgresql://kiln:***@db:99999/kiln");
    expect(redactUrl("postgresql://kiln:p@ss:w0rd@db:abc/kiln")).toBe("postgresql://kiln:***@db:abc/kiln");
    expect(redactUrl("postgresql://kiln:s3cret@db:5432/kiln")).toBe("postgresql://kiln:***@db:5432/kiln");
  });
});

// Modelled on `wipefs -n -J` (util-linux 2.38) output recorded on loop devices on these machines.
const probe = (device: string, json: string, exit = 0, partitions = 0) =>
  `#kiln-probe ${device}\n${json}\n#kiln-status ${exit} ${partitions}\n`;
const sig = (type: string, offset: string, extra = "") =>
  `{"device": "x", "offset": "${offset}", "type": "${type}", "uuid": ${extra ? `"${extra}"` : "null"}, "label": null}`;
const sigs = (...s: string[]) => `{\n   "signatures": [\n      ${s.join(",\n      ")}\n   ]\n}`;

describe("signature probe (data at rest on the device itself)", () => {
  it("names what each signature is, once per kind and header copy", () => {
    const devices = parseSignatureProbe(
      [
        probe("/dev/loop1", sigs(sig("ext4", "0x438", "d8f8"))),
        probe("/dev/loop2", sigs(sig("crypto_LUKS", "0x0", "8a32"), sig("crypto_LUKS", "0x4000", "8a32"))),
        probe("/dev/loop3", sigs(sig("isw_raid_member", "0x7fffc00"))),
        probe("/dev/loop4", sigs(sig("ceph_bluestore", "0x0"))),
        probe("/dev/loop5", sigs(sig("zfs_member", "0x21c00"), sig("zfs_member", "0x21800"))),
        probe("/dev/loop6", sigs(sig("LVM2_member", "0x218", "wjsi"))),
        probe("/dev/loop7", sigs(sig("linux_raid_member", "0x3ff0000", "1111"))),
        probe("/dev/loop8", sigs(sig("bcache", "0x1018", "5242"))),
        probe("/dev/loop9", sigs(sig("swap", "0xff6", "91db"))),
      ].join(""),
    );
    const kinds = devices.map((d) => usageOfProbe(d).map((u) => `${u.kind}${u.active ? "!" : ""}`));
    expect(kinds).toEqual([
      ["filesystem"],
      ["luks"],
      ["fwraid"],
      ["ceph"],
      ["zfs_label"],
      ["lvm_pv"],
      ["md_member"],
      ["bcache"],
      ["swap_signature"],
    ]);
    expect(usageOfProbe(devices[0] as never)[0]).toEqual({
      kind: "filesystem",
      name: "/dev/loop1",
      detail: "ext4, uuid d8f8",
      active: false,
    });
  });

  it("counts a partition table only when it has partitions", () => {
    const gpt = sigs(sig("gpt", "0x200"), sig("gpt", "0x7fffe00"), sig("PMBR", "0x1fe"));
    const [empty, partitioned, blank] = parseSignatureProbe(
      probe("/dev/sdb", gpt, 0, 0) + probe("/dev/sdc", gpt, 0, 2) + probe("/dev/sdd", sigs()),
    );
    expect(usageOfProbe(empty as never)).toEqual([]);
    expect(usageOfProbe(partitioned as never)).toEqual([
      { kind: "partitions", name: "/dev/sdc", detail: "gpt partition table with 2 partitions", active: false },
    ]);
    expect(usageOfProbe(blank as never)).toEqual([]);
  });

  it("treats a device it could not probe as unchecked, never as free", () => {
    const [busy, garbled] = parseSignatureProbe(
      probe("/dev/sde", "wipefs: error: /dev/sde: probing initialization failed: Device or resource busy", 1) +
        probe("/dev/sdf", "{[[[ not json"),
    );
    expect(usageOfProbe(busy as never)).toEqual([
      { kind: "unchecked", name: "/dev/sde", detail: expect.stringMatching(/wipefs exit 1: wipefs: error: .*busy/), active: false },
    ]);
    expect(usageOfProbe(garbled as never)[0]).toMatchObject({ kind: "unchecked", detail: expect.stringMatching(/not valid JSON/) });
  });
});
