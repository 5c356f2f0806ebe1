// Drive inventory of a host: which disks it has, what each is, and what uses it.
// Drives are matched by serial (then WWN), never by /dev name: a drive that moved from sdb to sdc
// is the same drive; one that vanished is marked missing, not deleted.
import type { Db } from "../db/client.js";
import type { Host } from "../db/generated/sqlite/client.js";
import { HostKeyMismatchError, HostKeyUntrustedError, HostUnreachableError, NotFoundError } from "../errors.js";
import type { KilnPubSub } from "../events/pubsub.js";
import { HostOutputError } from "../parsers/host-json.js";
import { combineUsage, type DriveUsage, type LsblkDisk, parseLsblk } from "../parsers/lsblk.js";
import { type ProbedDevice, parseSignatureProbe, SIGNATURE_PROBE_SCRIPT, usageOfProbe } from "../parsers/signatures.js";
import { parseSmartctlJson, type SmartReport } from "../parsers/smartctl.js";
import { parseZpoolStatus, type Zpool } from "../parsers/zpool.js";
import { checkDevicePath, checkPartitionPath } from "../transport/shell.js";
import { type ExecResult, type Transport, TransportError, UnsafeArgumentError } from "../transport/types.js";
import type { HostRegistry } from "./host-registry.js";
import { getSettings } from "./settings.js";

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

/** Where an inventory is: a step of `total` (listing, pools, links, data at rest, then each disk's SMART). */
export interface InventoryStep {
  step: string;
  done: number;
  total: number;
}

export interface CollectedInventory {
  drives: FoundDrive[];
  /** Disks seen but not inventoried, with the reason (no serial, a path Kiln will not touch). */
  skipped: string[];
}

/** Output limits per command: generous for real hosts with hundreds of disks, bounded for hostile ones. */
const LIMITS = {
  lsblk: 16 << 20,
  zpool: 4 << 20,
  byId: 1 << 20,
  smartctl: 4 << 20,
  probe: 4 << 20,
} as const;

/**
 * Ask a host for its disks. Read-only: lsblk, zpool, a listing of /dev/disk/by-id, wipefs -n and
 * partx -g (data at rest on each disk and partition), smartctl -x. `needsSmart` limits the
 * smartctl calls (one per disk, the slow part) to the disks a caller cares about; the others are
 * listed from lsblk alone. `device` reads that one device only (the re-check before a write).
 */
export async function collectInventory(
  transport: Transport,
  options: { needsSmart?: (disk: LsblkDisk) => boolean; device?: string; onStep?: (step: InventoryStep) => void } = {},
): Promise<CollectedInventory> {
  const demoDir = transport.demoDriveDir;
  const only = options.device === undefined ? [] : [checkDevicePath(options.device, { demoDir })];
  let total = 4;
  const step = (name: string, done: number) => options.onStep?.({ step: name, done, total });
  step("listing disks (lsblk)", 0);
  const lsblk = await transport.exec(["lsblk", "-J", "-b", "-O", ...only], {
    timeoutMs: transport.commandTimeouts().listMs,
    maxStdoutBytes: LIMITS.lsblk,
  });
  if (lsblk.code !== 0) throw new TransportError("failed", `lsblk failed (exit ${lsblk.code}): ${lsblk.stderr.trim().slice(0, 500)}`);
  step("listing pools (zpool)", 1);
  const pools = [...(await zpools(transport, ["zpool", "status", "-P"], false)), ...(await zpools(transport, ["zpool", "import"], true))];
  step("listing /dev/disk/by-id", 2);
  const byId = await byIdLinks(transport);
  const drives: FoundDrive[] = [];
  const skipped: string[] = [];
  const disks: Array<{ disk: LsblkDisk; devicePath: string }> = [];
  for (const disk of parseLsblk(lsblk.stdout.toString(), pools)) {
    if (!disk.sizeBytes) continue; // empty loop devices, card readers without media
    try {
      disks.push({ disk, devicePath: checkDevicePath(disk.path, { demoDir }) });
    } catch (error) {
      if (!(error instanceof UnsafeArgumentError)) throw error;
      skipped.push(`${disk.path}: not a device path Kiln will test`);
    }
  }
  total = 4 + disks.length;
  step("data at rest (wipefs, partx)", 3);
  const atRest = await probeSignatures(transport, disks);
  const ambiguous = new Set<string>();
  for (const [i, { disk, devicePath }] of disks.entries()) {
    let smart: SmartReport | null = null;
    step(`SMART of ${devicePath} (${i + 1} of ${disks.length})`, 4 + i);
    if (options.needsSmart?.(disk) ?? true) {
      try {
        smart = await smartReport(transport, devicePath);
      } catch (error) {
        if (!(error instanceof HostOutputError)) throw error;
        skipped.push(`${devicePath}: SMART unreadable (${error.message})`);
      }
    }
    const serial = smart?.serial ?? disk.serial;
    if (!serial) {
      skipped.push(`${disk.path}: no serial number (lsblk and smartctl report none)`);
      continue;
    }
    // Some USB bridges report their own serial for every disk behind them: Kiln identifies drives
    // by serial, so it cannot tell such disks apart and lists (and tests) none of them.
    const twin = drives.findIndex((d) => d.serial === serial);
    if (twin >= 0 || ambiguous.has(serial)) {
      const first = twin >= 0 ? drives[twin]?.devicePath : undefined;
      if (first) {
        skipped.push(`${first}: reports serial ${serial} like ${disk.path}; Kiln cannot tell them apart`);
        drives.splice(twin, 1);
      }
      skipped.push(`${disk.path}: reports serial ${serial} like ${first ?? "another disk"}; Kiln cannot tell them apart`);
      ambiguous.add(serial);
      continue;
    }
    drives.push({
      serial,
      wwn: smart?.wwn ?? disk.wwn,
      model: smart?.model ?? disk.model,
      vendor: disk.vendor,
      firmware: smart?.firmware ?? disk.revision,
      devicePath,
      byIdPath: pickById(byId, disk),
      // What the kernel sees is what a scan will cover; SMART's capacity is the fallback.
      sizeBytes: disk.sizeBytes ?? smart?.capacityBytes ?? null,
      logicalSectorSize: smart?.logicalBlockSize ?? disk.logicalSectorSize,
      physicalSectorSize: smart?.physicalBlockSize ?? disk.physicalSectorSize,
      rotationRate: smart?.rotationRate ?? (disk.rotational === false ? 0 : null),
      busType: busTypeOf(disk, smart),
      temperatureC: smart?.temperatureC ?? null,
      powerOnHours: smart?.powerOnHours ?? null,
      smartHealth: smart?.health ?? "unknown",
      usage: combineUsage([...disk.usage, ...(atRest.get(devicePath) ?? [])]),
      smart,
    });
  }
  return { drives, skipped };
}

/**
 * Data at rest on each disk and its partitions, read off the devices themselves (wipefs -n,
 * partx -g) in one command. A disk that could not be probed gets an "unchecked" entry: its
 * emptiness is unknown, so it is not free.
 */
async function probeSignatures(
  transport: Transport,
  disks: Array<{ disk: LsblkDisk; devicePath: string }>,
): Promise<Map<string, DriveUsage[]>> {
  const owner = new Map<string, string>(); // probed path -> disk path
  for (const { disk, devicePath } of disks) {
    owner.set(devicePath, devicePath);
    for (const child of disk.children) {
      if (child.type !== "part") continue;
      try {
        owner.set(checkPartitionPath(child.path), devicePath);
      } catch {
        // a partition under a name Kiln does not probe: the disk counts as partitioned anyway
      }
    }
  }
  const usage = new Map<string, DriveUsage[]>();
  if (owner.size === 0) return usage;
  let probed: ProbedDevice[] = [];
  let failure: string | null = null;
  try {
    const result = await transport.exec(["sh", "-c", SIGNATURE_PROBE_SCRIPT, "kiln-probe", ...owner.keys()], {
      timeoutMs: transport.commandTimeouts().smartMs,
      maxStdoutBytes: LIMITS.probe,
    });
    probed = parseSignatureProbe(result.stdout.toString());
  } catch (error) {
    if (!(error instanceof TransportError) || error.reason !== "command_missing") throw error;
    failure = error.message;
  }
  for (const [path, disk] of owner) {
    const probe = probed.find((p) => p.device === path) ?? {
      device: path,
      signatures: [],
      partitions: null,
      error: failure ?? "the probe printed nothing for it",
    };
    usage.set(disk, [...(usage.get(disk) ?? []), ...usageOfProbe(probe)]);
  }
  return usage;
}

async function zpools(transport: Transport, argv: string[], importable: boolean): Promise<Zpool[]> {
  try {
    const result = await transport.exec(argv, { timeoutMs: transport.commandTimeouts().listMs, maxStdoutBytes: LIMITS.zpool });
    // "no pools available" exits 0 or 1 depending on the command; either way there are none.
    return parseZpoolStatus(result.stdout.toString(), { importable });
  } catch (error) {
    if (error instanceof TransportError && error.reason === "command_missing") return []; // no ZFS here
    throw error;
  }
}

async function byIdLinks(transport: Transport): Promise<Map<string, string>> {
  const result = await transport
    .exec(["find", "/dev/disk/by-id", "-maxdepth", "1", "-type", "l", "-printf", "%f %l\\n"], {
      timeoutMs: transport.commandTimeouts().listMs,
      maxStdoutBytes: LIMITS.byId,
    })
    .catch(() => null);
  const links = new Map<string, string>();
  for (const line of result?.stdout.toString().split("\n") ?? []) {
    const [name, target] = line.trim().split(" ");
    if (name && target && !/-part\d+$/.test(name)) links.set(name, target.replace(/^.*\//, ""));
  }
  return links;
}

/**
 * The most stable /dev/disk/by-id name of a disk: wwn- first, then the model_serial one. A name
 * from the host is a path Kiln will later hand to badblocks: it passes the same check as any.
 */
function pickById(links: Map<string, string>, disk: LsblkDisk): string | null {
  const names = [...links.entries()]
    .filter(([name, target]) => target === disk.kname && isSafeDevicePath(`/dev/disk/by-id/${name}`))
    .map(([name]) => name);
  const preferred =
    names.find((n) => n.startsWith("wwn-")) ?? names.find((n) => /^(ata|nvme|scsi|usb)-/.test(n) && !/^nvme-eui/.test(n)) ?? names[0];
  return preferred ? `/dev/disk/by-id/${preferred}` : null;
}

function isSafeDevicePath(device: string): boolean {
  try {
    checkDevicePath(device);
    return true;
  } catch {
    return false;
  }
}

/**
 * `smartctl -x -j` of one device; the path is checked before anything runs. `polled`: a reading
 * many scans take on the same beat (their temperatures), run with the host's other polls in one
 * script instead of a command of its own.
 */
export async function readSmartReport(
  transport: Transport,
  devicePath: string,
  options: { polled?: boolean } = {},
): Promise<SmartReport | null> {
  return smartReport(transport, checkDevicePath(devicePath, { demoDir: transport.demoDriveDir }), options.polled ?? false);
}

async function smartReport(transport: Transport, devicePath: string, polled = false): Promise<SmartReport | null> {
  let result: ExecResult;
  const argv = ["smartctl", "-x", "-j", devicePath];
  try {
    result = polled
      ? await transport.execPolled(argv, LIMITS.smartctl)
      : await transport.exec(argv, { timeoutMs: transport.commandTimeouts().smartMs, maxStdoutBytes: LIMITS.smartctl });
  } catch (error) {
    if (error instanceof TransportError && error.reason !== "command_missing") throw error;
    return null; // no smartctl: inventory from lsblk alone
  }
  // smartctl's exit code is a bit mask (failing drive, logged errors...): read the JSON anyway.
  try {
    return parseSmartctlJson(result.stdout.toString());
  } catch (error) {
    // A device smartctl cannot read says so in valid JSON without device data: no SMART for it.
    if (error instanceof HostOutputError && /no device data/.test(error.message)) return null;
    throw error;
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
export interface InventoryDeps {
  db: Db;
  registry: HostRegistry;
  /** Each refresh publishes its host and the drives it wrote (hostUpdated, driveUpdated). */
  pubsub: KilnPubSub;
  now?: () => Date;
}

export async function refreshInventory(
  deps: InventoryDeps,
  hostId: string,
  options: { operator?: boolean; onStep?: (step: InventoryStep) => void } = {},
): Promise<InventoryOutcome> {
  const { db, registry } = deps;
  const now = deps.now?.() ?? new Date();
  const host = await db.host.findUnique({ where: { id: hostId } });
  if (!host) throw new NotFoundError("host", hostId);
  if (options.operator) registry.retryNow(host.id);
  // Another instance may have changed the command timeouts: this one takes them up now.
  registry.applySettings(await getSettings(db));
  let collected: CollectedInventory;
  try {
    collected = await collectInventory(registry.transportFor(host), { onStep: options.onStep });
  } catch (error) {
    const failure = await recordFailure(db, host, error);
    deps.pubsub.publish("hosts", { hostId: host.id, removed: false });
    throw failure;
  }
  const found = await storeInventory(db, host.id, collected.drives, now);
  await db.host.update({
    where: { id: host.id },
    // A host that answered is ok, with no warning text; what it did not list has its own field.
    data: { status: "ok", statusReason: null, skippedDevices: JSON.stringify(collected.skipped), lastSeenAt: now },
  });
  for (const driveId of found.touched) deps.pubsub.publish("drives", { driveId, hostId: host.id });
  deps.pubsub.publish("hosts", { hostId: host.id, removed: false });
  return { hostId: host.id, found: collected.drives.length, missing: found.missing, skipped: collected.skipped };
}

/** Losing the connection or being refused at login: the host is unreachable. Anything else it did wrong is an error. */
const UNREACHABLE = new Set(["refused", "timeout", "unreachable", "auth_failed"]);
/** Which setting bounds each command of an inventory, to say which one to raise for a slow host. */
const TIMEOUT_SETTING: Record<string, string> = {
  lsblk: "hostListSeconds",
  zpool: "hostListSeconds",
  find: "hostListSeconds",
  smartctl: "hostSmartSeconds",
  sh: "hostSmartSeconds",
};

/** Write what a host's failure means for it, and turn it into the error the API returns. */
async function recordFailure(db: Db, host: Host, error: unknown): Promise<Error> {
  if (error instanceof HostOutputError) {
    // The host answered with something Kiln cannot use (invalid or too deep JSON): say so on the host.
    await db.host.update({ where: { id: host.id }, data: { status: "error", statusReason: `bad_output: ${error.message}` } });
    return new HostUnreachableError(host.id, "bad_output", error.message);
  }
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
  if (error.reason === "command_timeout") {
    // It answered the connection and is working on it: slow (busy, a scrub), not unreachable.
    const command = /^(\S+):/.exec(error.message)?.[1] ?? "";
    const setting = TIMEOUT_SETTING[command] ?? "hostControlSeconds";
    const message = `${error.message} (the limit is the ${setting} setting)`;
    await db.host.update({ where: { id: host.id }, data: { status: "slow", statusReason: `command_timeout: ${message}` } });
    return new HostUnreachableError(host.id, error.reason, message);
  }
  const status = UNREACHABLE.has(error.reason) ? "unreachable" : "error";
  await db.host.update({ where: { id: host.id }, data: { status, statusReason: `${error.reason}: ${error.message}` } });
  return new HostUnreachableError(host.id, error.reason, error.message);
}

/** Stores what a host listed; says how many drives went missing and which drives it wrote. */
async function storeInventory(db: Db, hostId: string, drives: FoundDrive[], now: Date): Promise<{ missing: number; touched: string[] }> {
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
    return { missing: gone.length, touched: [...seen, ...gone] };
  });
}
