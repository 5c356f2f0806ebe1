// Unlock grants: permission to write to a drive that is in use, bound to its serial, for a
// limited time, consumed by one job start. Every grant, revocation and use is audited.
import type { Db } from "../db/client.js";
import type { UnlockGrant } from "../db/generated/sqlite/client.js";
import { DriveInActiveUseError, NotFoundError, ValidationError } from "../errors.js";
import { audit } from "./audit.js";
import { activeUsage, parseUsage } from "./drive-usage.js";

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/** The longest reason an unlock grant keeps. */
export const MAX_REASON = 500;
export const MAX_UNLOCK_MINUTES = 24 * 60;

export async function grantUnlock(
  db: Db,
  input: { driveId: string; confirmSerial: string; reason: string; minutes: number },
  actor: string,
  now = new Date(),
): Promise<UnlockGrant> {
  const drive = await db.drive.findUnique({ where: { id: input.driveId } });
  if (!drive) throw new NotFoundError("drive", input.driveId);
  // The operator types the serial they read off the drive: a grant for the wrong drive fails here.
  if (input.confirmSerial.trim() !== drive.serial) {
    // Never say which serial it should have been: the point is that the operator read it off the drive.
    throw new ValidationError(
      "confirmSerial",
      "does not match the drive's serial: type the serial printed on the drive you mean to unlock",
    );
  }
  // An unlock is for data at rest. A drive the host is using must be released there first.
  const active = activeUsage(parseUsage(drive.usage));
  if (active.length > 0) throw new DriveInActiveUseError(drive.id, drive.serial, active);
  const reason = input.reason.trim();
  if (reason.length < 3) throw new ValidationError("reason", "say why the drive may be written although it is in use");
  // Kept in the grant, the audit log and every log line that uses it: a sentence, not a file.
  if (reason.length > MAX_REASON) throw new ValidationError("reason", `must be at most ${MAX_REASON} characters (it was ${reason.length})`);
  if (!Number.isInteger(input.minutes) || input.minutes < 1 || input.minutes > MAX_UNLOCK_MINUTES) {
    throw new ValidationError("minutes", `must be a whole number from 1 to ${MAX_UNLOCK_MINUTES}`);
  }
  return db.$transaction(async (tx) => {
    const grant = await tx.unlockGrant.create({
      data: {
        driveId: drive.id,
        serial: drive.serial,
        reason,
        grantedBy: actor,
        expiresAt: new Date(now.getTime() + input.minutes * 60_000),
      },
    });
    await audit(tx, {
      actor,
      action: "unlock.grant",
      subjectType: "drive",
      subjectId: drive.id,
      details: { grantId: grant.id, serial: drive.serial, reason, minutes: input.minutes, usage: JSON.parse(drive.usage) },
    });
    return grant;
  });
}

export async function revokeUnlock(db: Db, grantId: string, actor: string, now = new Date()): Promise<UnlockGrant> {
  const grant = await db.unlockGrant.findUnique({ where: { id: grantId } });
  if (!grant) throw new NotFoundError("unlock grant", grantId);
  if (grant.revokedAt || grant.consumedAt) return grant;
  return db.$transaction(async (tx) => {
    const revoked = await tx.unlockGrant.update({ where: { id: grantId }, data: { revokedAt: now } });
    await audit(tx, { actor, action: "unlock.revoke", subjectType: "drive", subjectId: grant.driveId, details: { grantId } });
    return revoked;
  });
}

/** The grant a job may use on this drive now: same serial, not expired, revoked or used. */
export function findUsableGrant(db: Db | Tx, driveId: string, serial: string, now = new Date()): Promise<UnlockGrant | null> {
  return db.unlockGrant.findFirst({
    where: { driveId, serial, revokedAt: null, consumedAt: null, expiresAt: { gt: now } },
    orderBy: { expiresAt: "desc" },
  });
}

/** The grant a job already used (precheck consumed it), if any. */
export function grantUsedBy(db: Db, jobId: string, serial: string): Promise<UnlockGrant | null> {
  return db.unlockGrant.findFirst({ where: { consumedByJobId: jobId, serial } });
}

/** Why no grant is usable, for the operator: none, expired, used, revoked, or for another serial. */
export async function whyNoGrant(db: Db, driveId: string, serial: string, now = new Date()): Promise<string | null> {
  const latest = await db.unlockGrant.findFirst({ where: { driveId }, orderBy: { createdAt: "desc" } });
  if (!latest) return null;
  if (latest.serial !== serial) return `the latest unlock grant is for serial ${latest.serial}, the drive now reports ${serial}`;
  if (latest.revokedAt) return "the latest unlock grant was revoked";
  if (latest.consumedAt) return `the latest unlock grant was used by job ${latest.consumedByJobId}`;
  if (latest.expiresAt <= now) return `the latest unlock grant expired at ${latest.expiresAt.toISOString()}`;
  return null;
}

/** Use a grant for a job (once); audited with the job. Returns false if it was used meanwhile. */
export async function consumeGrant(db: Db, grant: UnlockGrant, jobId: string, usage: unknown, now = new Date()): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.unlockGrant.updateMany({
      where: { id: grant.id, consumedAt: null, revokedAt: null, expiresAt: { gt: now } },
      data: { consumedAt: now, consumedByJobId: jobId },
    });
    if (count === 1) {
      await audit(tx, {
        actor: "kiln",
        action: "unlock.use",
        subjectType: "drive",
        subjectId: grant.driveId,
        details: { grantId: grant.id, jobId, serial: grant.serial, usage },
      });
    }
    return count === 1;
  });
}
