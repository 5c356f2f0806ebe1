// The database as `kiln serve` and `kiln migrate` open it: checked, migrated when needed, refused
// (MigrationError) when it is not what Kiln's migrations make. The schema engine loads only when
// the cheap check (schema-check.ts) finds something to do, or when asked (`kiln migrate`).
import { type Database, openDatabase } from "./client.js";
import { fullCheckReason, storeSchemaFingerprint } from "./schema-check.js";
import { type DatabaseTarget, PROVIDER_FILES, providerOf } from "./url.js";

export interface OpenedDatabase {
  database: Database;
  /** Migrations applied by this start. */
  applied: string[];
  /** Why the schema engine ran (null when the cheap check passed). */
  fullCheck: string | null;
}

export async function openMigratedDatabase(target: DatabaseTarget, options: { full?: boolean } = {}): Promise<OpenedDatabase> {
  const provider = providerOf(target);
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
