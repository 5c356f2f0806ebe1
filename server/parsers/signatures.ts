// What the bytes on a device say it holds: signatures found by libblkid (through `wipefs -n -J`)
// on a disk and its partitions, and the partitions in its partition table (`partx -g`). Pure.
//
// Data at rest counts as use even when nothing has it mounted: a filesystem, a LUKS container, a
// bcache or Ceph BlueStore device, an md superblock, a ZFS label, an LVM physical volume, a
// firmware-RAID member, a swap signature, a partition table with partitions. A blank disk, or
// one with only an empty partition table, is free.
import { type HostOutputError, parseHostJson } from "./host-json.js";
import type { DriveUsage, UsageKind } from "./lsblk.js";

export interface Signature {
  type: string;
  offset: string | null;
  uuid: string | null;
  label: string | null;
}

export interface ProbedDevice {
  device: string;
  signatures: Signature[];
  /** Partitions listed in the device's partition table; null when there is no table. */
  partitions: number | null;
  /** Why the device could not be probed (wipefs failed): its emptiness is unknown. */
  error: string | null;
}

/** Partition table types libblkid reports. */
const PARTITION_TABLES = new Set([
  "gpt",
  "pmbr",
  "dos",
  "atari",
  "bsd",
  "mac",
  "minix",
  "sgi",
  "solaris",
  "sun",
  "ultrix",
  "unixware",
  "aix",
]);

export function isPartitionTable(type: string): boolean {
  return PARTITION_TABLES.has(type.toLowerCase());
}

/** The usage kind for a signature type (libblkid's TYPE), e.g. crypto_LUKS -> luks. */
export function kindOfSignature(type: string): UsageKind {
  if (type === "crypto_LUKS") return "luks";
  if (type === "BitLocker" || type === "VeraCrypt" || type === "TrueCrypt") return "encrypted";
  if (type === "linux_raid_member") return "md_member";
  if (/_raid_member$/.test(type)) return "fwraid";
  if (type === "LVM2_member" || type === "LVM1_member") return "lvm_pv";
  if (type === "zfs_member") return "zfs_label";
  if (type === "bcache") return "bcache";
  if (type === "ceph_bluestore") return "ceph";
  if (type === "swap" || type === "swsuspend") return "swap_signature";
  return "filesystem";
}

/** One usage entry (data at rest) for a signature found on `device`. */
export function signatureUsage(device: string, signature: Pick<Signature, "type" | "label" | "uuid">): DriveUsage {
  const detail = [signature.type, signature.label ? `label "${signature.label}"` : null, signature.uuid ? `uuid ${signature.uuid}` : null]
    .filter(Boolean)
    .join(", ");
  return { kind: kindOfSignature(signature.type), name: device, detail, active: false };
}

/** What a probed device holds, as usage entries (all data at rest). */
export function usageOfProbe(probe: ProbedDevice): DriveUsage[] {
  if (probe.error) {
    return [{ kind: "unchecked", name: probe.device, detail: `could not look for data on it: ${probe.error}`, active: false }];
  }
  const usage: DriveUsage[] = [];
  for (const signature of probe.signatures) {
    if (isPartitionTable(signature.type)) continue;
    // LUKS2, ZFS and GPT keep copies of their header: one entry each.
    const entry = signatureUsage(probe.device, signature);
    if (!usage.some((u) => u.kind === entry.kind && u.detail === entry.detail)) usage.push(entry);
  }
  const table =
    probe.signatures.find((s) => isPartitionTable(s.type) && s.type.toLowerCase() !== "pmbr") ??
    probe.signatures.find((s) => isPartitionTable(s.type));
  if (table && probe.partitions !== null && probe.partitions > 0) {
    usage.push({
      kind: "partitions",
      name: probe.device,
      detail: `${table.type} partition table with ${probe.partitions} partition${probe.partitions === 1 ? "" : "s"}`,
      active: false,
    });
  }
  return usage;
}

// The probe script prints, per device: "#kiln-probe <device>", wipefs's JSON (or its error),
// then "#kiln-status <wipefs exit> <partitions listed by partx>".
const PROBE_LINE = /^#kiln-probe (.+)$/;
const STATUS_LINE = /^#kiln-status (\d+) (\d+)$/;

/** The sh script that probes each of "$@" (paths checked by the caller). */
export const SIGNATURE_PROBE_SCRIPT = [
  'for d in "$@"; do',
  "  printf '#kiln-probe %s\\n' \"$d\"",
  '  wipefs -n -J -- "$d" 2>&1; rc=$?',
  '  n=$(partx -g -o NR -- "$d" 2>/dev/null | wc -l); n=$((n))',
  '  printf \'\\n#kiln-status %s %s\\n\' "$rc" "$n"',
  "done",
].join("\n");

export function parseSignatureProbe(text: string): ProbedDevice[] {
  const devices: ProbedDevice[] = [];
  let current: { device: string; body: string[] } | null = null;
  for (const line of text.split("\n")) {
    const probe = PROBE_LINE.exec(line);
    if (probe) {
      current = { device: probe[1] as string, body: [] };
      continue;
    }
    const status = STATUS_LINE.exec(line);
    if (status && current) {
      devices.push(probedDevice(current.device, current.body.join("\n").trim(), Number(status[1]), Number(status[2])));
      current = null;
      continue;
    }
    current?.body.push(line);
  }
  return devices;
}

function probedDevice(device: string, body: string, wipefsExit: number, partitions: number): ProbedDevice {
  const none = { device, signatures: [], partitions: null };
  if (wipefsExit !== 0) return { ...none, error: `wipefs exit ${wipefsExit}: ${body.slice(0, 200) || "no message"}` };
  // wipefs prints nothing at all for a blank device in some versions.
  if (body === "") return { ...none, error: null };
  let data: unknown;
  try {
    data = parseHostJson(body, "wipefs -J");
  } catch (error) {
    return { ...none, error: (error as HostOutputError).message };
  }
  const list = (data as { signatures?: unknown }).signatures;
  if (!Array.isArray(list)) return { ...none, error: "wipefs -J printed no signature list" };
  const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
  const signatures = list
    .filter((s): s is Record<string, unknown> => typeof s === "object" && s !== null && typeof s.type === "string")
    .map((s) => ({ type: s.type as string, offset: text(s.offset), uuid: text(s.uuid), label: text(s.label) }));
  return { device, signatures, partitions: signatures.some((s) => isPartitionTable(s.type)) ? partitions : null, error: null };
}
