// The database as `kiln serve` and `kiln migrate` open it: checked, migrated when needed, refused
// (MigrationError) when it is not what Kiln's migrations make. The schema engine loads only when
// the cheap check (schema-check.ts) finds something to do, or when asked (`kiln migrate`).
//
// On PostgreSQL several instances may start at once: check and migration run under a session
// advisory lock, so one migrates and the others wait, then find the schema up to date.
import { type Database, openDatabase } from "./client.js";
import { fullCheckReason, storeSchemaFingerprint } from "./schema-check.js";
import { type DatabaseTarget, PROVIDER_FILES, type Provider, pgConnectionString, providerOf, redactUrl } from "./url.js";

/** The advisory lock Kiln's start-up check and migrations take on PostgreSQL ("kilm"). */
export const MIGRATION_LOCK_KEY = 0x6b696c6d;

export interface OpenedDatabase {
  database: Database;
  /** Migrations applied by this start. */
  applied: string[];
  /** Why the schema engine ran (null when the cheap check passed). */
  fullCheck: string | null;
}

export async function openMigratedDatabase(target: DatabaseTarget, options: { full?: boolean } = {}): Promise<OpenedDatabase> {
  const provider = providerOf(target);
  return withStartupLock(target, provider, () => checkAndMigrate(target, provider, options));
}

async function withStartupLock<T>(target: DatabaseTarget, provider: Provider, fn: () => Promise<T>): Promise<T> {
  if (provider !== "postgresql") return fn();
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: pgConnectionString(target.url), application_name: "kiln-startup" });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`DATABASE_URL: cannot connect to ${redactUrl(target.url)}: ${(error as Error).message}`);
  }
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    return await fn();
  } finally {
    // Ending the session releases the lock too; the unlock makes it prompt.
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end().catch(() => {});
  }
}

async function checkAndMigrate(target: DatabaseTarget, provider: Provider, options: { full?: boolean }): Promise<OpenedDatabase> {
  const first = await openDatabase(target);
  let reason: string | null;
  try {
    reason = await fullCheckReason(first.db, provider, PROVIDER_FILES[provider].migrations);
  } catch (error) {
    await first.close();
    throw error;
  }
  if (!options.full && reason === null) return { database: first, applied: [], fullCheck: null };
  // The schema engine migrates on connections of its own: none of Kiln's may hold the file meanwhile.
  await first.close();
  // Refuses an edited, diverged, failed or drifted database; never resets anything.
  const { migrateDatabase } = await import("./migrations.js");
  const { applied } = await migrateDatabase(target);
  const database = await openDatabase(target);
  try {
    await storeSchemaFingerprint(database.db, provider);
  } catch (error) {
    await database.close();
    throw error;
  }
  return { database, applied, fullCheck: reason ?? "asked for" };
}
