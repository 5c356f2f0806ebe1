// The cheap start-up check: is the database exactly what Kiln's migrations make, without loading
// Prisma's schema engine (about 0.4 s of start-up, measured)? Two reads through the
// application's own client:
// - the migration history: every migration folder applied once, finished, with the checksum of
//   its migration.sql (sha256, as Prisma records it), and nothing else;
// - a fingerprint of the schema as the database reports it (SQLite's sqlite_master, PostgreSQL's
//   catalog), compared with the one stored after the last full check found no drift.
// Anything else (a new or older database, an edited migration, a change by hand, a first start
// of this Kiln) sends start-up down the full path: the schema engine applies, diagnoses and
// compares, and on success the fingerprint is stored again.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Db } from "./client.js";
import type { Provider } from "./url.js";

/** The Setting row that holds the fingerprint; not a setting (settings ignore unknown keys). */
export const SCHEMA_FINGERPRINT_KEY = "kiln.schemaFingerprint";

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

/** Why the full check must run, in a few words for the start-up log; null when the database is right. */
export async function fullCheckReason(db: Db, provider: Provider, migrationsDir: string): Promise<string | null> {
  let rows: HistoryRow[];
  try {
    rows = await db.$queryRawUnsafe<HistoryRow[]>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
  } catch {
    return "no migration history yet";
  }
  const problem = await historyProblem(rows, migrationsDir);
  if (problem) return problem;
  const [fingerprint, stored] = await Promise.all([
    schemaFingerprint(db, provider),
    db.setting.findUnique({ where: { key: SCHEMA_FINGERPRINT_KEY } }),
  ]);
  if (!stored) return "first check by this Kiln";
  return stored.value === fingerprint ? null : "the schema changed since the last check";
}

async function historyProblem(rows: HistoryRow[], migrationsDir: string): Promise<string | null> {
  const live = rows.filter((r) => r.rolled_back_at == null);
  if (live.some((r) => r.finished_at == null)) return "a migration failed or is unfinished";
  const applied = new Map<string, string>();
  for (const row of live) {
    if (applied.has(row.migration_name)) return `${row.migration_name} is recorded twice`;
    applied.set(row.migration_name, row.checksum);
  }
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  if (folders.length !== applied.size) return folders.length > applied.size ? "migrations pending" : "migrations unknown to this Kiln";
  for (const name of folders) {
    const checksum = applied.get(name);
    if (checksum === undefined) return `${name} not applied`;
    const sql = await readFile(path.join(migrationsDir, name, "migration.sql"));
    if (createHash("sha256").update(sql).digest("hex") !== checksum) return `${name} differs from what was applied`;
  }
  return null;
}

// Only the schema, never the rows. PostgreSQL: columns with their types, nullability and
// defaults; indexes; constraints; in the current schema.
const FINGERPRINT_SQL: Record<Provider, string> = {
  sqlite:
    "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || coalesce(sql, '') AS item FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
  postgresql: `
    SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS item
      FROM information_schema.columns WHERE table_schema = current_schema()
    UNION ALL
    SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()
    UNION ALL
    SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE connamespace = current_schema()::regnamespace`,
};

export async function schemaFingerprint(db: Db, provider: Provider): Promise<string> {
  const rows = await db.$queryRawUnsafe<Array<{ item: string }>>(FINGERPRINT_SQL[provider]);
  const items = rows.map((r) => r.item).sort();
  return createHash("sha256").update(items.join("\n")).digest("hex");
}

export async function storeSchemaFingerprint(db: Db, provider: Provider): Promise<void> {
  const value = await schemaFingerprint(db, provider);
  await db.setting.upsert({ where: { key: SCHEMA_FINGERPRINT_KEY }, create: { key: SCHEMA_FINGERPRINT_KEY, value }, update: { value } });
}
