// What stages and inventory may ask of a host. Three implementations: local (this machine),
// ssh (ssh2) and demo (sparse files, Kiln-generated SMART); only local.ts and ssh.ts spawn
// processes or touch ssh2.
import type { RunLocation } from "./work-dir.js";

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: string;
}

export interface ExecOptions {
  /**
   * Fail with TransportError("command_timeout") after this long; the command is abandoned.
   * Default: the host's control timeout (CommandTimeouts.controlMs).
   */
  timeoutMs?: number;
  /** Called with each chunk of standard output as it arrives. */
  onStdout?: (chunk: Buffer) => void;
  /**
   * Abandon the command with TransportError("output_too_large") once its standard output passes
   * this many bytes: a host must not be able to fill Kiln's memory. Default DEFAULT_MAX_STDOUT.
   */
  maxStdoutBytes?: number;
}

/**
 * How long Kiln waits for a host's commands, by kind (settings hostListSeconds, hostSmartSeconds,
 * hostControlSeconds): a busy NAS answers slowly, and a timeout says the host is slow, not gone.
 */
export interface CommandTimeouts {
  /** Listing disks and pools: lsblk, zpool, /dev/disk/by-id. */
  listMs: number;
  /** Per-disk reads: smartctl -x, the data-at-rest probe (wipefs, partx), self-test commands. */
  smartMs: number;
  /** Starting, polling, signalling and removing detached runs; anything else. */
  controlMs: number;
}

export const DEFAULT_COMMAND_TIMEOUTS: CommandTimeouts = { listMs: 60_000, smartMs: 120_000, controlMs: 60_000 };

/** What a command may print unless its caller allows more (inventory, logs). */
export const DEFAULT_MAX_STDOUT = 1 << 20;
/** Standard error is kept for messages only. */
export const MAX_STDERR_CHARS = 16_000;

/** Runs one POSIX sh script on a host. The only thing local and SSH hosts differ in. */
export interface ShellRunner {
  run(script: string, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

/** Who a detached process is: a pid alone can be reused, pid + start time + boot id cannot. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks since boot). */
  startTime: string;
  bootId: string;
}

export interface DetachedProcess extends ProcessIdentity {
  /** Directory on the host holding log, pid, identity and exit files. */
  dir: string;
  logPath: string;
  exitPath: string;
  /** Process group (the wrapper's pid): kill -- -pgid ends wrapper and command together. */
  pgid: number;
  /** startDetached found this stage's earlier start still running and returned it instead. */
  adopted?: boolean;
}

export type ProcessState = "alive" | "gone";

export interface LogChunk {
  data: Buffer;
  /** Offset to read from next time. */
  nextOffset: number;
}

export interface Transport {
  readonly kind: "local" | "ssh" | "demo";
  /** Demo host only: the directory whose files are its drives (allowed as device paths). */
  readonly demoDriveDir?: string;
  /** The timeouts its commands get, as the settings say now. */
  commandTimeouts(): CommandTimeouts;
  /** Run a program with arguments (each quoted; never pasted into a shell unchecked). */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * The same, for a command many scans run on the same beat (a temperature reading): run with the
   * host's other polls in one script (poll-batch.ts). Standard error is not kept.
   */
  execPolled(argv: readonly string[], maxStdoutBytes: number): Promise<ExecResult>;
  /**
   * Start a program in its own session, in a fresh private run directory <workDir>/<job>/<stage>
   * (see work-dir.ts), with output to its log file and its exit code to its exit file.
   */
  startDetached(argv: readonly string[], location: RunLocation): Promise<DetachedProcess>;
  /** Remove a finished run's directory (and its job's, once empty). */
  removeRun(process: DetachedProcess): Promise<void>;
  readLog(logPath: string, offset: number, maxBytes?: number): Promise<LogChunk>;
  /** The exit code written when the detached program ended, or null while it has not. */
  readExitCode(exitPath: string): Promise<number | null>;
  processState(identity: ProcessIdentity): Promise<ProcessState>;
  /** Signal the whole process group and wait (polling) until the process is gone. */
  killGroup(process: DetachedProcess, options?: { signal?: "TERM" | "KILL"; timeoutMs?: number }): Promise<boolean>;
  /** Stop (SIGSTOP) or continue (SIGCONT) the whole process group; false when the process is gone. */
  signalGroup(process: DetachedProcess, signal: "STOP" | "CONT"): Promise<boolean>;
  close(): Promise<void>;
}

export type TransportErrorReason =
  | "refused"
  | "timeout"
  /** The host answered the connection, but a command did not finish in time (a slow host). */
  | "command_timeout"
  | "auth_failed"
  | "host_key_untrusted"
  | "host_key_changed"
  | "command_missing"
  | "unreachable"
  | "output_too_large"
  | "unsafe_work_dir"
  /** A file asked for (a run's log or status file) is not there (yet). */
  | "not_found"
  | "failed";

/** A host could not do what was asked; `reason` is what the operator is shown. */
export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    readonly reason: TransportErrorReason,
    message: string,
    readonly details: { fingerprint?: string; expectedFingerprint?: string } = {},
  ) {
    super(message);
  }
}

/** A command that ran past its timeout: the host is slow (it answered the connection), not gone. */
export function commandTimedOut(timeoutMs: number): TransportError {
  return new TransportError("command_timeout", `a command did not finish within ${Math.round(timeoutMs / 1000)} s`);
}

/** An argument Kiln refused before running anything. */
export class UnsafeArgumentError extends Error {
  override name = "UnsafeArgumentError";
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
