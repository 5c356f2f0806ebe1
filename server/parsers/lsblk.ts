// Parser for `lsblk -J -b -O`: the disks of a host and what uses each one (mounts, swap, md and
// LVM membership, ZFS pools from zpool status / import). Pure, no I/O.
import { HostOutputError, parseHostJson } from "./host-json.js";
import { isPartitionTable, signatureUsage } from "./signatures.js";
import type { Zpool } from "./zpool.js";

/** Kinds of use the host makes of a drive right now: no unlock can allow writing to it. */
export const ACTIVE_USAGE_KINDS = ["mount", "swap", "md", "lvm", "crypt", "zfs"] as const;
/** Kinds of data at rest on a drive: an unlock grant for its serial can allow writing to it. */
export const AT_REST_USAGE_KINDS = [
  "filesystem",
  "luks",
  "encrypted",
  "md_member",
  "fwraid",
  "lvm_pv",
  "zfs_label",
  "bcache",
  "ceph",
  "swap_signature",
  "partitions",
  "zfs_importable",
  "unchecked",
] as const;
/** "unknown": a stored record Kiln cannot read (counted as active: the safe side). */
export const USAGE_KINDS = [...ACTIVE_USAGE_KINDS, ...AT_REST_USAGE_KINDS, "unknown"] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

/**
 * Something that uses a drive, as shown to the operator and checked by the unlock rule.
 * Active use must be released on the host first; data at rest can be unlocked.
 */
export interface DriveUsage {
  kind: UsageKind;
  name: string;
  detail: string | null;
  active: boolean;
}

export interface BlockDevice {
  name: string;
  kname: string;
  path: string;
  type: string;
  sizeBytes: number | null;
  model: string | null;
  serial: string | null;
  wwn: string | null;
  vendor: string | null;
  revision: string | null;
  rotational: boolean | null;
  transport: string | null;
  logicalSectorSize: number | null;
  physicalSectorSize: number | null;
  fstype: string | null;
  label: string | null;
  partuuid: string | null;
  uuid: string | null;
  mountpoints: string[];
  children: BlockDevice[];
}

export interface LsblkDisk extends BlockDevice {
  usage: DriveUsage[];
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);
const int = (v: unknown): number | null => {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v); // older lsblk prints numbers as strings
  return null;
};
const bool = (v: unknown): boolean | null => {
  if (typeof v === "boolean") return v;
  if (v === "1" || v === 1) return true;
  if (v === "0" || v === 0) return false;
  return null;
};

function toDevice(raw: Json): BlockDevice {
  const name = str(raw.name) ?? "";
  const mountpoints = Array.isArray(raw.mountpoints)
    ? raw.mountpoints.map(str).filter((m): m is string => m !== null)
    : str(raw.mountpoint)
      ? [str(raw.mountpoint) as string]
      : [];
  return {
    name,
    kname: str(raw.kname) ?? name,
    path: str(raw.path) ?? `/dev/${name}`,
    type: str(raw.type) ?? "unknown",
    sizeBytes: int(raw.size),
    model: str(raw.model),
    serial: str(raw.serial),
    wwn: str(raw.wwn),
    vendor: str(raw.vendor),
    revision: str(raw.rev),
    rotational: bool(raw.rota),
    transport: str(raw.tran),
    logicalSectorSize: int(raw["log-sec"]),
    physicalSectorSize: int(raw["phy-sec"]),
    fstype: str(raw.fstype),
    label: str(raw.label),
    partuuid: str(raw.partuuid),
    uuid: str(raw.uuid),
    mountpoints,
    children: Array.isArray(raw.children) ? raw.children.filter(isJson).map(toDevice) : [],
  };
}

function isJson(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every whole disk (type disk or loop) in lsblk's JSON, with what uses it. */
export function parseLsblk(text: string, pools: Zpool[] = []): LsblkDisk[] {
  const data = parseHostJson(text, "lsblk -J");
  if (!isJson(data) || !Array.isArray(data.blockdevices)) throw new HostOutputError('expected {"blockdevices": [...]} from lsblk -J');
  return data.blockdevices
    .filter(isJson)
    .map(toDevice)
    .filter((d) => d.type === "disk" || d.type === "loop")
    .map((disk) => ({ ...disk, usage: usageOf(disk, pools) }));
}

/** What uses a disk: anything on it or on its partitions, and the ZFS pools it belongs to. */
export function usageOf(disk: BlockDevice, pools: Zpool[]): DriveUsage[] {
  const usage: DriveUsage[] = [];
  const add = (u: DriveUsage) => usage.push(u);
  const partitions: BlockDevice[] = [];
  const visit = (dev: BlockDevice, holder: BlockDevice | null) => {
    for (const mount of dev.mountpoints) {
      if (mount === "[SWAP]") add({ kind: "swap", name: dev.path, detail: null, active: true });
      else add({ kind: "mount", name: mount, detail: [dev.path, dev.fstype].filter(Boolean).join(" ") || null, active: true });
    }
    // What udev read off the device (lsblk shows no FSTYPE without udev: the signature probe covers that).
    if (dev.fstype && !isPartitionTable(dev.fstype)) {
      add(signatureUsage(dev.path, { type: dev.fstype, label: dev.label, uuid: dev.uuid }));
    }
    if (/^raid\d+$|^md$/.test(dev.type)) add({ kind: "md", name: dev.name, detail: `${dev.type} array assembled`, active: true });
    if (dev.type === "lvm") add({ kind: "lvm", name: dev.name, detail: "logical volume active", active: true });
    if (dev.type === "crypt") add({ kind: "crypt", name: dev.name, detail: `open on ${holder?.path ?? "?"}`, active: true });
    if (dev.type === "part" && holder === disk) partitions.push(dev);
    for (const child of dev.children) visit(child, dev);
  };
  visit(disk, null);
  if (partitions.length > 0) {
    const list = partitions.map((p) => [p.path, p.fstype].filter(Boolean).join(" ")).join(", ");
    add({ kind: "partitions", name: disk.path, detail: `${partitions.length} partition(s): ${list}`, active: false });
  }
  for (const pool of pools) {
    const member = pool.devices.find((d) => deviceBelongsTo(d.path, disk));
    if (member) {
      add({
        kind: pool.importable ? "zfs_importable" : "zfs",
        name: pool.name,
        detail: `${pool.state}${member.vdev ? ` ${member.vdev}` : ""} ${member.path}`,
        active: !pool.importable,
      });
    }
  }
  return combineUsage(usage);
}

/** One entry per (kind, name), first wins; a ZFS label is left out where the pool itself is known. */
export function combineUsage(usage: DriveUsage[]): DriveUsage[] {
  const pooled = usage.some((u) => u.kind === "zfs" || u.kind === "zfs_importable");
  const out: DriveUsage[] = [];
  for (const u of usage) {
    if (pooled && u.kind === "zfs_label") continue;
    if (!out.some((x) => x.kind === u.kind && x.name === u.name)) out.push(u);
  }
  return out;
}

/** Does a path printed by zpool (by-id, by-partuuid, /dev/sdX2, bare name) name this disk or a partition of it? */
export function deviceBelongsTo(zpoolPath: string, disk: BlockDevice): boolean {
  const names = new Set<string>();
  const partuuids = new Set<string>();
  const collect = (dev: BlockDevice) => {
    names.add(dev.name);
    names.add(dev.kname);
    names.add(dev.path);
    if (dev.partuuid) partuuids.add(dev.partuuid.toLowerCase());
    for (const child of dev.children) collect(child);
  };
  collect(disk);
  const base = zpoolPath.replace(/^\/dev\//, "");
  if (names.has(zpoolPath) || names.has(base)) return true;
  const byPartuuid = /^\/dev\/disk\/by-partuuid\/(.+)$/.exec(zpoolPath);
  if (byPartuuid?.[1] && partuuids.has(byPartuuid[1].toLowerCase())) return true;
  const byId = /^\/dev\/disk\/by-id\/(.+?)(-part\d+)?$/.exec(zpoolPath);
  if (byId?.[1]) {
    const id = byId[1].toLowerCase();
    if (disk.serial && id.endsWith(disk.serial.toLowerCase().replace(/\s+/g, "_"))) return true;
    if (disk.wwn && id === `wwn-${disk.wwn.toLowerCase()}`) return true;
  }
  return false;
}
