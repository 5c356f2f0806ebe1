// Loop devices that hold data nobody has mounted: each made with the real tool where the test
// machine has it (mkfs.*, cryptsetup, pvcreate, make-bcache, mkswap, sfdisk), or by writing the
// on-disk signature libblkid looks for where no tool can run here (md needs the md driver, ZFS
// and firmware RAID their own stacks, Ceph a cluster). .ci/run installs the tools.
import { execFileSync } from "node:child_process";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";

export interface DataKind {
  /** What the test calls it. */
  name: string;
  /** The usage kind Kiln must report for it (null: the drive must count as free). */
  expect: string | null;
  /** The program that makes it, when one is needed. */
  tool?: string;
  sizeMiB?: number;
  make(device: string): void;
}

const run = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { input, stdio: ["pipe", "ignore", "pipe"] });

function writeAt(device: string, offset: number, bytes: Buffer): void {
  const fd = openSync(device, "r+");
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sizeOf(device: string): number {
  return Number(execFileSync("blockdev", ["--getsize64", device]).toString().trim());
}

/** md 0.90 superblock: magic a92b4efc at the last 64 KiB boundary minus 64 KiB. */
function mdSuperblock(device: string): void {
  const sb = Buffer.alloc(64);
  const words = [0xa92b4efc, 0, 90, 0, 0, 0x4b494c4e, 0, 1, 0, 2, 2, 0, 0, 0x11111111, 0x22222222, 0x33333333];
  for (const [i, w] of words.entries()) sb.writeUInt32LE(w, i * 4);
  const size = sizeOf(device);
  writeAt(device, Math.floor(size / 0x10000) * 0x10000 - 0x10000, sb);
}

/** A ZFS vdev label: uberblocks (magic 0x00bab10c) in the first two labels. */
function zfsLabel(device: string): void {
  const ub = Buffer.alloc(16);
  ub.writeBigUInt64LE(0x00bab10cn, 0);
  ub.writeBigUInt64LE(5000n, 8);
  for (const label of [0, 256 * 1024]) for (let i = 0; i < 8; i++) writeAt(device, label + 128 * 1024 + i * 1024, ub);
}

/** Intel Matrix (IMSM) firmware RAID: its signature two sectors before the end. */
function iswSignature(device: string): void {
  writeAt(device, sizeOf(device) - 2 * 512, Buffer.from("Intel Raid ISM Cfg Sig. 1.3.00"));
}

export const DATA_KINDS: DataKind[] = [
  { name: "ext4", expect: "filesystem", tool: "mkfs.ext4", make: (d) => run("mkfs.ext4", ["-q", "-F", d]) },
  { name: "xfs", expect: "filesystem", tool: "mkfs.xfs", sizeMiB: 320, make: (d) => run("mkfs.xfs", ["-q", "-f", d]) },
  { name: "btrfs", expect: "filesystem", tool: "mkfs.btrfs", make: (d) => run("mkfs.btrfs", ["-q", "-f", d]) },
  { name: "ntfs", expect: "filesystem", tool: "mkntfs", make: (d) => run("mkntfs", ["-Q", "-F", d]) },
  { name: "vfat", expect: "filesystem", tool: "mkfs.vfat", make: (d) => run("mkfs.vfat", [d]) },
  {
    name: "luks",
    expect: "luks",
    tool: "cryptsetup",
    make: (d) =>
      run("cryptsetup", ["luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", d, "-"], "kiln"),
  },
  { name: "lvm", expect: "lvm_pv", tool: "pvcreate", make: (d) => run("pvcreate", ["-q", "-ff", "-y", d]) },
  { name: "bcache", expect: "bcache", tool: "make-bcache", make: (d) => run("make-bcache", ["-B", d]) },
  { name: "swap", expect: "swap_signature", tool: "mkswap", make: (d) => run("mkswap", [d]) },
  { name: "md", expect: "md_member", make: mdSuperblock },
  { name: "zfs", expect: "zfs_label", make: zfsLabel },
  { name: "isw", expect: "fwraid", make: iswSignature },
  {
    name: "ceph",
    expect: "ceph",
    make: (d) => writeAt(d, 0, Buffer.from("bluestore block device\n6c3a4f2e-1111-2222-3333-444455556666\n")),
  },
  {
    name: "gpt-2-partitions",
    expect: "partitions",
    tool: "sfdisk",
    make: (d) => run("sfdisk", ["-q", "--no-reread", d], "label: gpt\n,8M\n,8M\n"),
  },
  { name: "gpt-empty", expect: null, tool: "sfdisk", make: (d) => run("sfdisk", ["-q", "--no-reread", d], "label: gpt\n") },
  { name: "blank", expect: null, make: () => {} },
];

export function hasTool(tool: string | undefined): boolean {
  if (!tool) return true;
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore", env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
    return true;
  } catch {
    return false;
  }
}
