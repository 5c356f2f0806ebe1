// Runs sh scripts on the machine Kiln runs on. With ssh.ts, the only files that spawn processes.
import { spawn } from "node:child_process";
import { type FileHandle, open, readFile } from "node:fs/promises";
import { BoundedOutput } from "./bounded-output.js";
import { PosixHost } from "./posix-host.js";
import {
  type CommandTimeouts,
  commandTimedOut,
  DEFAULT_COMMAND_TIMEOUTS,
  type DetachedProcess,
  type ExecOptions,
  type ExecResult,
  type LogChunk,
  type ProcessIdentity,
  type ProcessState,
  type ShellRunner,
  TransportError,
} from "./types.js";

export class LocalRunner implements ShellRunner {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  run(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      // Its own process group, so a timeout kills the script and everything it started.
      const child = spawn("sh", ["-c", script], { env: this.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      const output = new BoundedOutput(options);
      let abandoned: TransportError | null = null;
      const abandon = (error: TransportError) => {
        abandoned ??= error;
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      };
      const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUTS.controlMs;
      const timer = setTimeout(() => abandon(commandTimedOut(timeoutMs)), timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => {
        if (!output.stdout(chunk)) abandon(output.tooLarge());
      });
      child.stderr.on("data", (chunk: Buffer) => output.stderrChunk(chunk));
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(new TransportError("failed", `could not run sh: ${error.message}`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (abandoned) reject(abandoned);
        else resolve(output.result(code, signal));
      });
    });
  }

  async close(): Promise<void> {}
}

/**
 * The machine Kiln runs on. Same behaviour as any POSIX host, but the frequent reads (a scan's
 * log, its exit file, /proc) go straight to the filesystem instead of through a shell: following
 * hundreds of scans must not cost hundreds of processes a second.
 */
export class LocalHost extends PosixHost {
  private readonly direct: boolean;
  private readonly logs = new OpenLogs();

  constructor(options: { kind?: "local" | "demo"; sudo?: boolean; timeouts?: () => CommandTimeouts } = {}) {
    super(new LocalRunner(), { kind: options.kind ?? "local", sudo: options.sudo, timeouts: options.timeouts });
    // Through sudo the files may not be readable by Kiln itself: then go through the shell.
    this.direct = !options.sudo;
  }

  override async readLog(logPath: string, offset: number, maxBytes = 1 << 20): Promise<LogChunk> {
    if (!this.direct) return super.readLog(logPath, offset, maxBytes);
    const handle = await this.logs.open(logPath);
    // Most polls find a few hundred new bytes: one read into a small (pooled) buffer, more only
    // while the reads come back full.
    const parts: Buffer[] = [];
    let total = 0;
    for (let size = Math.min(maxBytes, 4096); total < maxBytes; size = Math.min(maxBytes - total, 1 << 16)) {
      const buffer = Buffer.allocUnsafe(size);
      const { bytesRead } = await handle.read(buffer, 0, size, offset + total);
      parts.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (bytesRead < size) break;
    }
    const data = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    return { data, nextOffset: offset + data.length };
  }

  override async removeRun(process: DetachedProcess): Promise<void> {
    await this.logs.close(process.logPath);
    await super.removeRun(process);
  }

  override async close(): Promise<void> {
    await this.logs.closeAll();
    await super.close();
  }

  override async readExitCode(exitPath: string): Promise<number | null> {
    if (!this.direct) return super.readExitCode(exitPath);
    const text = await readFile(exitPath, "utf8").catch(() => "");
    return /^\d+\s*$/.test(text) ? Number(text.trim()) : null;
  }

  override async processState(identity: ProcessIdentity): Promise<ProcessState> {
    if (!this.direct) return super.processState(identity);
    const stat = await readFile(`/proc/${Math.floor(identity.pid)}/stat`, "utf8").catch(() => null);
    if (!stat || (await localBootId()) !== identity.bootId) return "gone";
    // Fields after "(comm) ": state is the 1st, start time the 20th (field 22 of the whole line).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[19] !== identity.startTime) return "gone";
    return "alive";
  }
}

/**
 * Open log files, kept between polls: a poll is then one read, not open + stat + read + close.
 * A log is append-only while its scan runs; its handle is closed when the run is removed, when
 * the transport closes, or after it was not read for IDLE_LOG_MS (a scan that ended elsewhere).
 */
class OpenLogs {
  private readonly handles = new Map<string, { handle: Promise<FileHandle>; lastRead: number }>();
  private sweeper: NodeJS.Timeout | null = null;

  async open(logPath: string): Promise<FileHandle> {
    let entry = this.handles.get(logPath);
    if (!entry) {
      const handle = open(logPath, "r").catch(() => {
        this.handles.delete(logPath);
        throw new TransportError("not_found", `log ${logPath} does not exist on the host`);
      });
      entry = { handle, lastRead: 0 };
      this.handles.set(logPath, entry);
      this.sweeper ??= setInterval(() => void this.sweep(), IDLE_LOG_MS).unref();
    }
    entry.lastRead = Date.now();
    return entry.handle;
  }

  async close(logPath: string): Promise<void> {
    const entry = this.handles.get(logPath);
    this.handles.delete(logPath);
    await entry?.handle.then((h) => h.close()).catch(() => {});
  }

  async closeAll(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    await Promise.all([...this.handles.keys()].map((logPath) => this.close(logPath)));
  }

  private async sweep(): Promise<void> {
    const idleSince = Date.now() - IDLE_LOG_MS;
    for (const [logPath, entry] of this.handles) if (entry.lastRead < idleSince) await this.close(logPath);
  }
}

const IDLE_LOG_MS = 5 * 60_000;

// This machine's boot id cannot change while Kiln runs on it: read it once.
let bootId: Promise<string> | null = null;
function localBootId(): Promise<string> {
  bootId ??= readFile("/proc/sys/kernel/random/boot_id", "utf8").then((id) => id.trim());
  return bootId;
}
