// One SQLite database migrated by `kiln migrate`, once per project, that the api, host
// and browser tests copy into each new data directory (helpers/temp-db.ts migratedDataDir): a
// Kiln on a copy starts on the cheap check alone (about 20 ms) instead of applying every
// migration to a new file (1.5 s here). First starts on a new file keep their own tests
// (migrations, startup-check, kiln-cli).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { KILN_BIN } from "./helpers/kiln-process.js";

declare module "vitest" {
  export interface ProvidedContext {
    migratedDb: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kiln-migrated-"));
  const file = path.join(dir, "kiln.db");
  // In a process of its own: Prisma's schema engine (WebAssembly) fails when loaded by vitest itself.
  await promisify(execFile)(process.execPath, [KILN_BIN, "migrate", "--data", dir], {
    timeout: 120_000,
    env: { ...process.env, DATABASE_URL: "" },
  });
  project.provide("migratedDb", file);
  return () => rmSync(dir, { recursive: true, force: true });
}
