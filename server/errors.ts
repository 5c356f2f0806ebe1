// Expected failures, returned to GraphQL clients as typed union members (STYLE: errors are data).
import { type DriveUsage, describeUsage } from "./services/drive-usage.js";

/** Bad input: names the field and the reason. */
export class ValidationError extends Error {
  override name = "ValidationError";
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Settings given together and refused together: each problem names its setting and says why. */
export class SettingsRejectedError extends Error {
  override name = "SettingsRejectedError";
  constructor(readonly problems: Array<{ field: string; message: string }>) {
    super(
      `${problems.length === 1 ? "1 setting" : `${problems.length} settings`} refused, nothing saved: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`,
    );
  }
}

export class NotFoundError extends Error {
  override name = "NotFoundError";
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} ${id} does not exist`);
  }
}

/** The host could not be reached or could not run what was asked. */
export class HostUnreachableError extends Error {
  override name = "HostUnreachableError";
  constructor(
    readonly hostId: string,
    /** refused | timeout | auth_failed | command_missing | unreachable | failed */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The host's key is not trusted yet (first contact): the operator must check and trust it. */
export class HostKeyUntrustedError extends Error {
  override name = "HostKeyUntrustedError";
  constructor(
    readonly hostId: string,
    readonly fingerprint: string | null,
  ) {
    super(
      fingerprint
        ? `host key ${fingerprint} is not trusted yet: compare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and trust it`
        : "the host's key has not been seen yet: refresh the host to fetch it",
    );
  }
}

/** The host offered a different key than the pinned one: refused before authenticating. */
export class HostKeyMismatchError extends Error {
  override name = "HostKeyMismatchError";
  constructor(
    readonly hostId: string,
    readonly expectedFingerprint: string,
    readonly offeredFingerprint: string,
  ) {
    super(
      `host key changed: pinned ${expectedFingerprint}, offered ${offeredFingerprint}. Kiln refused it before sending credentials. ` +
        "If the host was reinstalled, trust the new key; otherwise someone may be in the middle.",
    );
  }
}

/** The host has burn-ins running or queued: it cannot be removed now. */
export class HostBusyError extends Error {
  override name = "HostBusyError";
  constructor(
    readonly hostId: string,
    readonly activeJobs: number,
  ) {
    super(`the host has ${activeJobs} queued or running burn-in job(s); cancel them or wait before removing it`);
  }
}

/** The drive holds data (at rest), and no unlock grant was ever given for it. */
export class DriveInUseError extends Error {
  override name = "DriveInUseError";
  constructor(
    readonly driveId: string,
    readonly serial: string,
    readonly usage: DriveUsage[],
  ) {
    super(
      `drive ${serial} is in use (${describeUsage(usage)}): ` +
        "Kiln will not write to it. Wipe it on the host, or grant a time-limited unlock for its serial.",
    );
  }
}

/**
 * The host is using the drive right now (mounted, active swap, assembled array, active LVM
 * volume, open LUKS mapping, imported pool). No unlock can allow writing to it: badblocks would
 * refuse anyway, and the host's own data is at stake. It must be released on the host first.
 */
export class DriveInActiveUseError extends Error {
  override name = "DriveInActiveUseError";
  constructor(
    readonly driveId: string,
    readonly serial: string,
    readonly usage: DriveUsage[],
  ) {
    super(`drive ${serial} is in active use (${describeUsage(usage)}): unmount / export it first; an unlock cannot allow writing to it`);
  }
}

/** The drive is in use and its unlock grants cannot be used (expired, used, revoked, other serial). */
export class UnlockRequiredError extends Error {
  override name = "UnlockRequiredError";
  constructor(
    readonly driveId: string,
    readonly reason: string,
  ) {
    super(`drive is in use and needs a valid unlock grant: ${reason}`);
  }
}

/** A job is already queued or running on the drive. */
export class DriveBusyError extends Error {
  override name = "DriveBusyError";
  constructor(
    readonly driveId: string,
    readonly jobId: string,
  ) {
    super(`drive already has an active burn-in (job ${jobId}): cancel it or wait for it`);
  }
}

/** The drive was not seen at its host's last inventory. */
export class DriveMissingError extends Error {
  override name = "DriveMissingError";
  constructor(
    readonly driveId: string,
    readonly serial: string,
  ) {
    super(`drive ${serial} was not seen at the last inventory of its host: refresh the host, or check the drive is connected`);
  }
}

/** The job is not in a state that allows what was asked (it ended, it runs elsewhere, it was resumed). */
export class JobStateError extends Error {
  override name = "JobStateError";
  constructor(
    readonly jobId: string,
    /** The job's status now. */
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}
