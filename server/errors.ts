// Expected failures, returned to GraphQL clients as typed union members (STYLE: errors are data).

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
