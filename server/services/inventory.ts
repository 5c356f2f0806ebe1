// Drive inventory of a host: which disks it has, what each is, and what uses it.
// Drives are matched by serial (then WWN), never by /dev name: a drive that moved from sdb to sdc
// is the same drive; one that vanished is marked missing, not deleted.
import type { Db } from "../db/client.js";
import type { Host } from "../db/generated/sqlite/client.js";
import { HostKeyMismatchError, HostKeyUntrustedError, HostUnreachableError, NotFoundError } from "../errors.js";
import { type LsblkDisk, parseLsblk } from "../parsers/lsblk.js";
import { parseSmartctlJson, type SmartReport } from "../parsers/smartctl.js";
import { parseZpoolStatus, type Zpool } from "../parsers/zpool.js";
import { checkDevicePath } from "../transport/shell.js";
import { type Transport, TransportError, UnsafeArgumentError } from "../transport/types.js";
import type { HostRegistry } from "./host-registry.js";

export interface FoundDrive {
  serial: string;
  wwn: string | null;
  model: string | null;
  vendor: string | null;
  firmware: string | null;
  devicePath: string;
  byIdPath: string | null;
  sizeBytes: number | null;
  logicalSectorSize: number | null;
  physicalSectorSize: number | null;
  rotationRate: number | null;
  busType: string | null;
  temperatureC: number | null;
  powerOnHours: number | null;
  smartHealth: "passed" | "failed" | "unknown";
  usage: LsblkDisk["usage"];
  smart: SmartReport | null;
}

export interface CollectedInventory {
  drives: FoundDrive[];
  /** Disks seen but not inventoried, with the reason (no serial, a path Kiln will not touch). */
  skipped: string[];
}

/**
 * Ask a host for its disks. Read-only: lsblk, zpool, smartctl -x, a listing of /dev/disk/by-id.
 * `needsSmart` limits the smartctl calls (one per disk, the slow part) to the disks a caller
 * cares about; the others are listed from lsblk alone.
 */
export async function collectInventory(
  transport: Transport,
  options: { needsSmart?: (disk: LsblkDisk) => boolean } = {},
): Promise<CollectedInventory> {
  const lsblk = await transport.exec(["lsblk", "-J", "-b", "-O"], { timeoutMs: 30_000 });
  if (lsblk.code !== 0) throw new TransportError("failed", `lsblk failed (exit ${lsblk.code}): ${lsblk.stderr.trim()}`);
  const pools = [...(await zpools(transport, ["zpool", "status", "-P"], false)), ...(await zpools(transport, ["zpool", "import"], true))];
  const byId = await byIdLinks(transport);
  const disks = parseLsblk(lsblk.stdout.toString(), pools);
  const drives: FoundDrive[] = [];
  const skipped: string[] = [];
  for (const disk of disks) {
    if (!disk.sizeBytes) continue; // empty loop devices, card readers without media
    const byIdPath = pickById(byId, disk);
    let devicePath: string;
    try {
      devicePath = checkDevicePath(disk.path, { demoDir: transport.demoDriveDir });
    } catch (error) {
      if (!(error instanceof UnsafeArgumentError)) throw error;
      skipped.push(`${disk.path}: not a device path Kiln will test`);
      continue;
    }
    const smart = (options.needsSmart?.(disk) ?? true) ? await smartReport(transport, devicePath) : null;
    const serial = smart?.serial ?? disk.serial;
    if (!serial) {
      skipped.push(`${disk.path}: no serial number (lsblk and smartctl report none)`);
      continue;
    }
    drives.push({
      serial,
      wwn: smart?.wwn ?? disk.wwn,
      model: smart?.model ?? disk.model,
      vendor: disk.vendor,
      firmware: smart?.firmware ?? disk.revision,
      devicePath,
      byIdPath,
      // What the kernel sees is what a scan will cover; SMART's capacity is the fallback.
      sizeBytes: disk.sizeBytes ?? smart?.capacityBytes ?? null,
      logicalSectorSize: smart?.logicalBlockSize ?? disk.logicalSectorSize,
      physicalSectorSize: smart?.physicalBlockSize ?? disk.physicalSectorSize,
      rotationRate: smart?.rotationRate ?? (disk.rotational === false ? 0 : null),
      busType: busTypeOf(disk, smart),
      temperatureC: smart?.temperatureC ?? null,
      powerOnHours: smart?.powerOnHours ?? null,
      smartHealth: smart?.health ?? "unknown",
      usage: disk.usage,
      smart,
    });
  }
  return { drives, skipped };
}

async function zpools(transport: Transport, argv: string[], importable: boolean): Promise<Zpool[]> {
  try {
    const result = await transport.exec(argv, { timeoutMs: 30_000 });
    // "no pools available" exits 0 or 1 depending on the command; either way there are none.
    return parseZpoolStatus(result.stdout.toString(), { importable });
  } catch (error) {
    if (error instanceof TransportError && error.reason === "command_missing") return []; // no ZFS here
    throw error;
  }
}

async function byIdLinks(transport: Transport): Promise<Map<string, string>> {
  const result = await transport.exec(["find", "/dev/disk/by-id", "-maxdepth", "1", "-type", "l", "-printf", "%f %l\\n"]).catch(() => null);
  const links = new Map<string, string>();
  for (const line of result?.stdout.toString().split("\n") ?? []) {
    const [name, target] = line.trim().split(" ");
    if (name && target && !/-part\d+$/.test(name)) links.set(name, target.replace(/^.*\//, ""));
  }
  return links;
}

/** The most stable /dev/disk/by-id name of a disk: wwn- first, then the model_serial one. */
function pickById(links: Map<string, string>, disk: LsblkDisk): string | null {
  const names = [...links.entries()].filter(([, target]) => target === disk.kname).map(([name]) => name);
  const preferred =
    names.find((n) => n.startsWith("wwn-")) ?? names.find((n) => /^(ata|nvme|scsi|usb)-/.test(n) && !/^nvme-eui/.test(n)) ?? names[0];
  return preferred ? `/dev/disk/by-id/${preferred}` : null;
}

/** `smartctl -x -j` of one device; the path is checked before anything runs. */
export async function readSmartReport(transport: Transport, devicePath: string): Promise<SmartReport | null> {
  return smartReport(transport, checkDevicePath(devicePath, { demoDir: transport.demoDriveDir }));
}

async function smartReport(transport: Transport, devicePath: string): Promise<SmartReport | null> {
  try {
    const result = await transport.exec(["smartctl", "-x", "-j", devicePath], { timeoutMs: 60_000 });
    // smartctl's exit code is a bit mask (failing drive, logged errors...): read the JSON anyway.
    return parseSmartctlJson(result.stdout.toString());
  } catch (error) {
    if (error instanceof TransportError && error.reason !== "command_missing") throw error;
    return null; // no smartctl, or a device it cannot read: inventory from lsblk alone
  }
}

function busTypeOf(disk: LsblkDisk, smart: SmartReport | null): string | null {
  if (disk.type === "loop") return "loop";
  const tran = disk.transport?.toLowerCase() ?? null;
  if (tran === "sata" || tran === "ata") return "sata";
  if (tran === "sas" || tran === "nvme" || tran === "usb" || tran === "file") return tran;
  if (smart?.protocol === "nvme") return "nvme";
  if (smart?.device?.type?.startsWith("usb")) return "usb";
  if (smart?.protocol === "scsi") return "sas";
  if (smart?.protocol === "ata") return "sata";
  return tran;
}

export interface InventoryOutcome {
  hostId: string;
  found: number;
  missing: number;
  skipped: string[];
}

/**
 * Refresh one host's inventory and store it. On failure the host shows why (unreachable, key
 * untrusted or changed) and its drives keep their last known state.
 */
export async function refreshInventory(
  deps: { db: Db; registry: HostRegistry; now?: () => Date },
  hostId: string,
  options: { operator?: boolean } = {},
): Promise<InventoryOutcome> {
  const { db, registry } = deps;
  const now = deps.now?.() ?? new Date();
  const host = await db.host.findUnique({ where: { id: hostId } });
  if (!host) throw new NotFoundError("host", hostId);
  if (options.operator) registry.retryNow(host.id);
  let collected: CollectedInventory;
  try {
    collected = await collectInventory(registry.transportFor(host));
  } catch (error) {
    throw await recordFailure(db, host, error);
  }
  const found = await storeInventory(db, host.id, collected.drives, now);
  await db.host.update({
    where: { id: host.id },
    data: { status: "ok", statusReason: collected.skipped.length ? `skipped: ${collected.skipped.join("; ")}` : null, lastSeenAt: now },
  });
  return { hostId: host.id, found: collected.drives.length, missing: found.missing, skipped: collected.skipped };
}

/** Write what a host's failure means for it, and turn it into the error the API returns. */
async function recordFailure(db: Db, host: Host, error: unknown): Promise<Error> {
  if (!(error instanceof TransportError)) throw error;
  if (error.reason === "host_key_untrusted") {
    const fingerprint = error.details.fingerprint ?? null;
    await db.host.update({
      where: { id: host.id },
      data: { status: "untrusted", statusReason: error.message, ...(host.trusted ? {} : { fingerprint }) },
    });
    return new HostKeyUntrustedError(host.id, fingerprint);
  }
  if (error.reason === "host_key_changed") {
    const offered = error.details.fingerprint ?? "unknown";
    await db.host.update({
      where: { id: host.id },
      data: { status: "key_mismatch", statusReason: error.message, offeredFingerprint: offered },
    });
    return new HostKeyMismatchError(host.id, host.fingerprint ?? "none", offered);
  }
  await db.host.update({ where: { id: host.id }, data: { status: "unreachable", statusReason: `${error.reason}: ${error.message}` } });
  return new HostUnreachableError(host.id, error.reason, error.message);
}

async function storeInventory(db: Db, hostId: string, drives: FoundDrive[], now: Date): Promise<{ missing: number }> {
  return db.$transaction(async (tx) => {
    const known = await tx.drive.findMany({ where: { hostId } });
    const seen = new Set<string>();
    for (const d of drives) {
      const match = known.find((k) => k.serial === d.serial) ?? (d.wwn ? known.find((k) => k.wwn === d.wwn) : undefined);
      const data = {
        serial: d.serial,
        wwn: d.wwn,
        model: d.model,
        vendor: d.vendor,
        firmware: d.firmware,
        devicePath: d.devicePath,
        byIdPath: d.byIdPath,
        sizeBytes: d.sizeBytes === null ? null : BigInt(d.sizeBytes),
        logicalSectorSize: d.logicalSectorSize,
        physicalSectorSize: d.physicalSectorSize,
        rotationRate: d.rotationRate,
        busType: d.busType,
        temperatureC: d.temperatureC,
        powerOnHours: d.powerOnHours,
        smartHealth: d.smartHealth,
        usage: JSON.stringify(d.usage),
        inUse: d.usage.length > 0,
        missing: false,
        lastSeenAt: now,
      };
      if (match) {
        seen.add(match.id);
        await tx.drive.update({ where: { id: match.id }, data });
      } else {
        const created = await tx.drive.create({ data: { ...data, hostId } });
        seen.add(created.id);
      }
    }
    const gone = known.filter((k) => !seen.has(k.id) && !k.missing).map((k) => k.id);
    if (gone.length) await tx.drive.updateMany({ where: { id: { in: gone } }, data: { missing: true } });
    return { missing: gone.length };
  });
}
