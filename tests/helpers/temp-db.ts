// Real databases for tests: a fresh SQLite file per call, a fresh PostgreSQL database per call
// (on the server from $KILN_TEST_PG_URL, default postgresql://127.0.0.1:5432/test).
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { inject } from "vitest";
import { pgConnectionString } from "../../server/db/url.js";

export const PG_ADMIN_URL = process.env.KILN_TEST_PG_URL ?? "postgresql://127.0.0.1:5432/test";
const REPO = path.resolve(import.meta.dirname, "..", "..");

const made: string[] = [];

export function tempDir(prefix = "kiln-test-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * A new data directory holding a copy of the suite's migrated SQLite database
 * (tests/migrated-db-setup.ts): a Kiln started on it has nothing to migrate.
 */
export function migratedDataDir(prefix = "kiln-test-"): string {
  const dir = tempDir(prefix);
  const template = inject("migratedDb");
  if (!template || !existsSync(template))
    throw new Error("no migrated database: the project needs tests/migrated-db-setup.ts as a globalSetup");
  copyFileSync(template, path.join(dir, "kiln.db"));
  return dir;
}

/** Remove the temporary directories this test file made (call from afterAll). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function tempSqliteUrl(): string {
  return `file:${path.join(tempDir(), "kiln.db")}`;
}

/** A copy of one provider's migrations folder that a test may edit. */
export function copyMigrations(provider: "sqlite" | "postgresql"): string {
  const from = provider === "sqlite" ? path.join(REPO, "prisma", "migrations") : path.join(REPO, "prisma", "postgres", "migrations");
  const to = path.join(tempDir("kiln-migrations-"), "migrations");
  cpSync(from, to, { recursive: true });
  return to;
}

export async function withPgAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgConnectionString(PG_ADMIN_URL) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TempPostgres {
  url: string;
  drop(): Promise<void>;
}

export async function tempPostgres(): Promise<TempPostgres> {
  const name = `kiln_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await withPgAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withPgAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
