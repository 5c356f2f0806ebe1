// The last check before `badblocks -w`. Precheck may have run minutes (a SMART short test) or
// hours (a resumed job, a restart) earlier: right before writing, the device at the exact path
// badblocks will get is read again. It must still be the job's drive (serial, WWN), the host must
// not be using it, and it must hold nothing unless this job used an unlock grant. Otherwise the
// stage stops before any write: `unknown`, since nothing was learned about the drive's health.
import { activeUsage, describeUsage } from "../services/drive-usage.js";
import { collectInventory } from "../services/inventory.js";
import { grantUsedBy } from "../services/unlock.js";
import { devicePathOf, onHost, type StageContext, type StageOutcome } from "./stage-context.js";

export async function checkBeforeWrite(ctx: StageContext): Promise<StageOutcome | null> {
  const { db, job, drive } = ctx;
  const device = devicePathOf(drive);
  const refuse = (why: string): StageOutcome => ({
    status: "unknown",
    error: `${device} changed since precheck: ${why}; aborted before any write`,
  });
  const { drives, skipped } = await onHost(ctx, "re-checking the drive before writing", () =>
    collectInventory(ctx.transport, { device, needsSmart: () => true }),
  );
  const seen = drives[0];
  if (!seen) return refuse(`no drive there any more${skipped.length ? ` (${skipped.join("; ")})` : ""}`);
  if (seen.serial !== job.serial) return refuse(`it now reports serial ${seen.serial}, the job is for ${job.serial}`);
  if (drive.wwn && seen.wwn && seen.wwn.toLowerCase() !== drive.wwn.toLowerCase()) {
    return refuse(`it now reports WWN ${seen.wwn}, the drive had ${drive.wwn}`);
  }
  const active = activeUsage(seen.usage);
  if (active.length > 0) return refuse(`the host is using it now (${describeUsage(active)}): unmount / export it first`);
  if (seen.usage.length > 0) {
    if (!(await grantUsedBy(db, job.id, job.serial)))
      return refuse(`it now holds data (${describeUsage(seen.usage)}) and no unlock grant was used for this job`);
  }
  ctx.progress.log(
    `re-checked ${device} before writing: serial ${seen.serial}${seen.usage.length ? ", data at rest unlocked for this job" : ", holds no data"}`,
  );
  return null;
}
