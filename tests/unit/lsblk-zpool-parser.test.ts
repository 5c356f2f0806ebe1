import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { HostOutputError } from "../../server/parsers/host-json.js";
import { parseLsblk } from "../../server/parsers/lsblk.js";
import { parseZpoolStatus } from "../../server/parsers/zpool.js";
import { FIXTURES } from "../helpers/shared-fixtures.js";

const read = (p: string) => readFileSync(path.join(FIXTURES, p), "utf8");

describe("zpool status -P / zpool import parser", () => {
  it("reads pools, states and member devices with their vdevs and roles", () => {
    const pools = parseZpoolStatus(read("zpool/status-P-constructed.txt"));
    expect(pools.map((p) => [p.name, p.state, p.importable])).toEqual([
      ["tank", "ONLINE", false],
      ["boot-pool", "DEGRADED", false],
    ]);
    expect(pools[0]?.devices).toEqual([
      { path: "/dev/disk/by-partuuid/2b6f4d8e-aaaa-4bbb-8ccc-ddddeeeeffff", state: "ONLINE", vdev: "mirror-0", role: "data" },
      { path: "/dev/disk/by-id/ata-WDC_WUH721414ALE6L4_9RK1YYYY-part2", state: "ONLINE", vdev: "mirror-0", role: "data" },
      { path: "/dev/nvme1n1p1", state: "ONLINE", vdev: null, role: "log" },
    ]);
    expect(pools[1]?.devices.map((d) => d.path)).toEqual(["/dev/vda3"]);
  });

  it("marks pools listed by zpool import as importable", () => {
    const [pool] = parseZpoolStatus(read("zpool/import-constructed.txt"));
    expect(pool).toMatchObject({ name: "backup", importable: true, id: "9876543210987654321", state: "ONLINE" });
    expect(pool?.devices.map((d) => d.path)).toEqual(["sde1"]);
  });

  it("returns no pools for `no pools available`", () => {
    expect(parseZpoolStatus("no pools available\n")).toEqual([]);
  });
});

describe("lsblk -J -b -O parser", () => {
  it("reads a real machine's loop devices: mounted, active swap and free", () => {
    const disks = parseLsblk(read("lsblk/loop-mounted-swap-free.json"));
    const byName = Object.fromEntries(disks.map((d) => [d.name, d]));
    expect(byName.loop0?.usage).toEqual([{ kind: "mount", name: "/tmp/mnta", detail: "/dev/loop0", active: true }]);
    expect(byName.loop1?.usage).toEqual([{ kind: "swap", name: "/dev/loop1", detail: null, active: true }]);
    expect(byName.loop2?.usage).toEqual([]);
    expect(byName.loop2?.sizeBytes).toBe(67108864);
    expect(byName.vda?.usage).toEqual([{ kind: "mount", name: "/", detail: "/dev/vda", active: true }]);
  });

  it("says what uses each disk of a NAS: ZFS (by partuuid), md, LVM, importable pool, USB mount; free disks stay free", () => {
    const pools = [
      ...parseZpoolStatus(read("zpool/status-P-constructed.txt")),
      ...parseZpoolStatus(read("zpool/import-constructed.txt"), { importable: true }),
    ];
    const disks = parseLsblk(read("lsblk/nas-constructed.json"), pools);
    // "!" marks active use (no unlock can allow it), the rest is data at rest.
    const usage = Object.fromEntries(disks.map((d) => [d.name, d.usage.map((u) => `${u.active ? "!" : ""}${u.kind}:${u.name}`)]));
    expect(disks.map((d) => d.name)).toEqual(["sda", "sdb", "sdc", "sdd", "sde", "sdf", "nvme0n1"]);
    // The zfs_member label of sda2 gives way to the imported pool it belongs to.
    expect(usage.sda).toEqual(["swap_signature:/dev/sda1", "partitions:/dev/sda", "!zfs:tank"]);
    expect(disks[0]?.usage.find((u) => u.kind === "zfs")?.detail).toMatch(/ONLINE mirror-0/);
    expect(usage.sdb).toEqual(["md_member:/dev/sdb", "!mount:/srv/media", "filesystem:/dev/md0", "!md:md0"]);
    expect(disks[1]?.usage[0]?.detail).toBe('linux_raid_member, label "nas:0", uuid a1b2c3d4-0000-0000-0000-000000000001');
    expect(usage.sdc).toEqual([
      "lvm_pv:/dev/sdc1",
      "!mount:/data",
      "filesystem:/dev/mapper/vg0-data",
      "!lvm:vg0-data",
      "partitions:/dev/sdc",
    ]);
    expect(usage.sdd).toEqual([]);
    expect(usage.sde).toEqual(["partitions:/dev/sde", "zfs_importable:backup"]);
    expect(usage.sdf).toEqual(["!mount:/mnt/usb", "filesystem:/dev/sdf1", "partitions:/dev/sdf"]);
    expect(usage.nvme0n1).toEqual([]);
    expect(disks[3]).toMatchObject({ serial: "ZVT0CCCC", sizeBytes: 20000588955648, rotational: true, transport: "sata" });
  });

  it("refuses output that is not lsblk JSON", () => {
    expect(() => parseLsblk("NAME MAJ:MIN RM SIZE")).toThrow(HostOutputError);
    expect(() => parseLsblk('{"devices": []}')).toThrow(/blockdevices/);
  });
});
