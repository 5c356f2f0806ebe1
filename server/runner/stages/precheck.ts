// precheck: the device still is the drive the job was started for, the host is not using it,
// it holds no data (or an unlock grant for its serial is consumed now), a SMART baseline is
// taken, whether a write of the device reaches the whole drive is checked (capacity.ts: the
// erasure claim rests on it) and the badblocks geometry is chosen. Nothing is written to the drive
// here. A refusal is `unknown`, never `failed`: nothing is known about the drive's health.

import { parseHdparmMaxSectors } from "../../parsers/hdparm.js";
import { SANITIZE_METHOD_WORDS } from "../../parsers/sanitize.js";
import type { SmartReport } from "../../parsers/smartctl.js";
import { activeUsage, describeUsage } from "../../services/drive-usage.js";
import { collectInventory, readSmartReport } from "../../services/inventory.js";
import { consumeGrant, findUsableGrant, grantUsedBy, whyNoGrant } from "../../services/unlock.js";
import { TransportError } from "../../transport/types.js";
import { checkCapacity } from "../capacity.js";
import { chooseGeometry } from "../geometry.js";
import { probeSanitize, sanitizeRefusal } from "../sanitize-support.js";
import { devicePathOf, onHost, type StageContext, type StageOutcome } from "../stage-context.js";

export async function precheckStage(ctx: StageContext): Promise<StageOutcome> {
  const { db, job, drive } = ctx;
  ctx.progress.log(`checking ${devicePathOf(drive)} on ${ctx.host.name}`);
  // SMART only of disks that may be this one: lsblk's serial settles the others.
  const inventory = await onHost(ctx, "reading the inventory", () =>
    collectInventory(ctx.transport, { needsSmart: (disk) => !disk.serial || disk.serial === job.serial || disk.path === drive.devicePath }),
  );
  const now = new Date(ctx.now());
  // The drive is found by its serial, wherever it is now; never by its old /dev name.
  const seen = inventory.drives.find((d) => d.serial === job.serial);
  if (!seen) {
    const atOldPath = inventory.drives.find((d) => d.devicePath === drive.devicePath);
    // Never write to a device that is not the drive the operator chose.
    return {
      status: "unknown",
      error: atOldPath
        ? `serial changed: ${drive.devicePath} now reports ${atOldPath.serial}, the job is for ${job.serial}; aborted before any write`
        : `no drive with serial ${job.serial} on ${ctx.host.name} any more; aborted before any write`,
    };
  }
  if (seen.devicePath !== drive.devicePath || seen.byIdPath !== drive.byIdPath) {
    ctx.progress.log(`drive ${job.serial} moved: ${drive.devicePath} -> ${seen.devicePath}`);
    const [moved] = await ctx.write([
      db.drive.update({ where: { id: drive.id }, data: { devicePath: seen.devicePath, byIdPath: seen.byIdPath } }),
    ]);
    Object.assign(drive, moved);
  }
  ctx.progress.update({ progressPct: 30 });
  const usage = seen.usage;
  const active = activeUsage(usage);
  // A sanitize erases the drive as surely as a scan writes it: the same checks and unlock.
  const writes = ctx.stages.some((s) => s.name === "surface_validate" || s.name === "sanitize");
  if (!writes && usage.length > 0) {
    // Self-tests and SMART reads only: nothing to unlock, nothing at risk.
    ctx.progress.log(`drive is used or holds data (${describeUsage(usage)}): this profile never writes to it`);
  } else if (active.length > 0) {
    return {
      status: "unknown",
      error: `drive is in active use (${describeUsage(active)}): unmount / export it first; aborted before any write`,
    };
  }
  if (writes && usage.length > 0) {
    const what = describeUsage(usage);
    // A precheck re-run after a restart finds the grant it already used.
    const alreadyUsed = await grantUsedBy(db, job.id, job.serial);
    const grant = alreadyUsed ?? (await findUsableGrant(db, drive.id, job.serial, now));
    if (!grant) {
      const why = (await whyNoGrant(db, drive.id, job.serial, now)) ?? "no unlock grant";
      return { status: "unknown", error: `drive holds data (${what}) and ${why}; aborted before any write` };
    }
    if (!alreadyUsed && !(await consumeGrant(db, grant, job.id, usage, now))) {
      return {
        status: "unknown",
        error: `drive holds data (${what}) and its unlock grant was used or revoked meanwhile; aborted before any write`,
      };
    }
    ctx.progress.log(`drive holds data (${what}): unlock grant ${grant.id} by ${grant.grantedBy} used ("${grant.reason}")`);
  }
  const smart = seen.smart ?? (await onHost(ctx, "reading SMART", () => readSmartReport(ctx.transport, devicePathOf(drive))));
  if (smart) {
    await ctx.write([
      db.smartSnapshot.create({
        data: { driveId: drive.id, jobId: job.id, kind: "baseline", report: JSON.stringify(smart), takenAt: now },
      }),
      db.drive.update({
        where: { id: drive.id },
        data: { temperatureC: smart.temperatureC ?? null, powerOnHours: smart.powerOnHours ?? null },
      }),
    ]);
    ctx.progress.log(
      `SMART baseline: health ${smart.health ?? "not reported"}, ${smart.temperatureC ?? "?"} °C, ${smart.powerOnHours ?? "?"} h`,
    );
  } else {
    ctx.progress.log("no SMART data for this device: the verdict will rest on the surface scan");
  }
  if (writes) await checkWholeDrive(ctx, Number(seen.sizeBytes ?? drive.sizeBytes ?? 0), smart ?? null);
  // A sanitize the drive cannot run is said now, not after a days-long scan.
  const sanitize = ctx.options.sanitize;
  if (sanitize && ctx.stages.some((s) => s.name === "sanitize" && s.status === "pending")) {
    const device = devicePathOf(drive);
    const support = await onHost(ctx, "asking the drive what sanitize it supports", () =>
      probeSanitize(ctx.transport, device, drive.busType),
    );
    const refusal = sanitizeRefusal(support, sanitize);
    if (refusal) {
      return {
        status: "unknown",
        error: `sanitize (${SANITIZE_METHOD_WORDS[sanitize]}) not possible: ${device} ${refusal}; aborted before any write`,
      };
    }
    ctx.progress.log(`the drive supports ${SANITIZE_METHOD_WORDS[sanitize]} (the sanitize at the end of this job)`);
  }
  ctx.progress.update({ progressPct: 70 });
  const surface = ctx.stages.find((s) => s.name === "surface_validate");
  if (surface && surface.bbBlockSize === null) {
    const geometry = chooseGeometry(Number(seen.sizeBytes ?? drive.sizeBytes ?? 0), {
      physicalSectorSize: seen.physicalSectorSize ?? drive.physicalSectorSize,
      logicalSectorSize: seen.logicalSectorSize ?? drive.logicalSectorSize,
      blockSize: ctx.options.blockSize,
      blocksAtOnce: ctx.options.blocksAtOnce,
    });
    await ctx.write([
      db.stage.update({ where: { id: surface.id }, data: { bbBlockSize: geometry.blockSize, bbBlocksAtOnce: geometry.blocksAtOnce } }),
    ]);
    surface.bbBlockSize = geometry.blockSize;
    surface.bbBlocksAtOnce = geometry.blocksAtOnce;
    ctx.progress.log(`badblocks geometry: -b ${geometry.blockSize} -c ${geometry.blocksAtOnce} (${geometry.blocks} blocks)`);
  }
  return { status: "passed" };
}

/**
 * Whether the device is the whole drive, kept on the job for its report. `hdparm -N DEVICE` only
 * reads the max sectors (no value follows -N). Not knowing is no refusal: the scan still tests
 * the drive, its report only claims no erasure.
 */
async function checkWholeDrive(ctx: StageContext, deviceBytes: number, smart: SmartReport | null): Promise<void> {
  let hdparm: ReturnType<typeof parseHdparmMaxSectors> | string | null = null;
  if (smart?.protocol === "ata") {
    try {
      const result = await ctx.transport.exec(["hdparm", "-N", devicePathOf(ctx.drive)], { maxStdoutBytes: 64 * 1024 });
      const text = result.stdout.toString("utf8");
      hdparm =
        parseHdparmMaxSectors(text) ??
        (result.stderr.trim().split("\n").at(-1) || text.trim().split("\n").at(-1) || `exit ${result.code ?? result.signal}`).slice(0, 200);
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      hdparm = error.message.slice(0, 200);
    }
  }
  const check = checkCapacity(deviceBytes, smart, hdparm);
  await ctx.write([], { capacityCheck: JSON.stringify(check) });
  ctx.progress.log(`capacity: ${check.detail}`);
}
