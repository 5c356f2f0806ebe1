// Runs the real `kiln` command (bin/kiln.js) as a child process.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const REPO = path.resolve(import.meta.dirname, "..", "..");
export const KILN_BIN = path.join(REPO, "bin", "kiln.js");
/** Runs dist/kiln.js whatever its age (tests that must see the bundle call ensureCompiled first). */
export const COMPILED_KILN = path.join(REPO, "tests", "helpers", "compiled-kiln.mjs");

/** Builds dist/ (npm run build:server) unless it is at least as new as every file under server/. */
export function ensureCompiled(): void {
  const compiled = path.join(REPO, "dist", "kiln.js");
  const sources = path.join(REPO, "server");
  const newest = Math.max(
    ...readdirSync(sources, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => statSync(path.join(e.parentPath, e.name)).mtimeMs),
  );
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= newest) return;
  execFileSync(process.execPath, [path.join(REPO, "tools", "build-server.mjs")], { stdio: "inherit" });
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runKiln(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KILN_BIN, ...args], { env: { ...process.env, ...options.env }, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

export interface ServingKiln {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `kiln serve` (under `umask`, when given) and wait for its "listening on" line. */
export function serveKiln(
  args: string[],
  env: Record<string, string> = {},
  options: { umask?: string /** Another copy of bin/kiln.js (an image's file set). */; bin?: string } = {},
): Promise<ServingKiln> {
  return new Promise((resolve, reject) => {
    const argv = [options.bin ?? KILN_BIN, "serve", ...args];
    const child = options.umask
      ? // sh execs node, so the child's pid is Kiln's.
        spawn("sh", ["-c", `umask ${options.umask} && exec "$0" "$@"`, process.execPath, ...argv], {
          env: { ...process.env, ...env },
          stdio: "pipe",
        })
      : spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: "pipe" });
    let output = "";
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on("close", (code, signal) => done({ code, signal })),
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve({ child, url: match[1], output: () => output, exited });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    exited.then(({ code }) => reject(new Error(`kiln serve exited (${code}) before listening:\n${output}`)));
  });
}
