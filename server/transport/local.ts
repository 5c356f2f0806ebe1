// Runs sh scripts on the machine Kiln runs on. With ssh.ts, the only files that spawn processes.
import { spawn } from "node:child_process";
import { type FileHandle, open, readFile } from "node:fs/promises";
import { BoundedOutput } from "./bounded-output.js";
import { PosixHost } from "./posix-host.js";
import {
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
      const timeoutMs = options.timeoutMs ?? 60_000;
      const timer = setTimeout(() => abandon(new TransportError("timeout", `command timed out after ${timeoutMs} ms`)), timeoutMs);
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

  constructor(options: { kind?: "local" | "demo"; sudo?: boolean } = {}) {
    super(new LocalRunner(), { kind: options.kind ?? "local", sudo: options.sudo });
    // Through sudo the files may not be readable by Kiln itself: then go through the shell.
    this.direct = !options.sudo;
  }

  override async readLog(logPath: string, offset: number, maxBytes = 1 << 20): Promise<LogChunk> {
    if (!this.direct) return super.readLog(logPath, offset, maxBytes);
    let handle: FileHandle;
    try {
      handle = await open(logPath, "r");
    } catch {
      throw new TransportError("failed", `log ${logPath} does not exist on the host`);
    }
    try {
      // Sized to what is there: most polls find a few hundred new bytes, not a megabyte.
      const available = Math.min(maxBytes, Math.max(0, (await handle.stat()).size - offset));
      if (available === 0) return { data: Buffer.alloc(0), nextOffset: offset };
      const buffer = Buffer.allocUnsafe(available);
      const { bytesRead } = await handle.read(buffer, 0, available, offset);
      return { data: buffer.subarray(0, bytesRead), nextOffset: offset + bytesRead };
    } finally {
      await handle.close();
    }
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

// This machine's boot id cannot change while Kiln runs on it: read it once.
let bootId: Promise<string> | null = null;
function localBootId(): Promise<string> {
  bootId ??= readFile("/proc/sys/kernel/random/boot_id", "utf8").then((id) => id.trim());
  return bootId;
}
