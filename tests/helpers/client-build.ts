// `vite build` of client/ into a fresh directory, as the browser tests serve it.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const REPO = path.resolve(import.meta.dirname, "..", "..");

/** Builds the web client from the current source; returns the directory (the caller removes it). */
export async function buildClient(): Promise<string> {
  const outDir = mkdtempSync(path.join(os.tmpdir(), "kiln-client-"));
  await promisify(execFile)(
    path.join(REPO, "node_modules", ".bin", "vite"),
    ["build", "client", "--outDir", outDir, "--emptyOutDir", "--logLevel", "error"],
    { cwd: REPO, timeout: 180_000 },
  );
  return outDir;
}
