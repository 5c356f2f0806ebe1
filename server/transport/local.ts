// Runs sh scripts on the machine Kiln runs on. With ssh.ts, the only files that spawn processes.
import { spawn } from "node:child_process";
import { type ExecOptions, type ExecResult, type ShellRunner, TransportError } from "./types.js";

export class LocalRunner implements ShellRunner {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  run(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      // Its own process group, so a timeout kills the script and everything it started.
      const child = spawn("sh", ["-c", script], { env: this.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      const stdout: Buffer[] = [];
      let stderr = "";
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, options.timeoutMs ?? 60_000);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout.push(chunk);
        options.onStdout?.(chunk);
      });
      child.stderr.on("data", (chunk: Buffer) => {
        if (stderr.length < 64_000) stderr += chunk.toString();
      });
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(new TransportError("failed", `could not run sh: ${error.message}`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(new TransportError("timeout", `command timed out after ${options.timeoutMs ?? 60_000} ms`));
          return;
        }
        resolve({ code, signal, stdout: Buffer.concat(stdout), stderr });
      });
    });
  }

  async close(): Promise<void> {}
}
