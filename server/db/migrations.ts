// Kiln's migration tool: what `prisma migrate deploy | status | dev` do, offline, on the wasm
// schema engine. `kiln serve` and `kiln migrate` call migrateDatabase(); tools/migrate.ts exposes
// the rest to developers.
import { access, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { DiagnoseMigrationHistoryOutput, MigrationList, SchemaEngine } from "@prisma/schema-engine-wasm";
import { enginePanicMessage, openSchemaEngine } from "./schema-engine.js";
import { type DatabaseTarget, PROVIDER_FILES, type Provider, providerOf, redactUrl, sqliteFilePath } from "./url.js";

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/** A database Kiln must not start on: the message says what is wrong and what to do. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

export async function readMigrations(dir: string): Promise<MigrationList> {
  const baseDir = path.resolve(dir);
  const entries = await readdir(baseDir, { withFileTypes: true }).catch(() => []);
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrationDirectories = [];
  for (const name of names) {
    const file = path.join(baseDir, name, "migration.sql");
    const content = await readFile(file, "utf8").then(
      (value) => ({ tag: "ok" as const, value }),
      (error: Error) => ({ tag: "error" as const, value: error.message }),
    );
    migrationDirectories.push({ path: name, migrationFile: { path: "migration.sql", content } });
  }
  const lock = await readFile(path.join(baseDir, "migration_lock.toml"), "utf8").catch(() => null);
  return {
    baseDir,
    lockfile: { path: "migration_lock.toml", content: lock },
    migrationDirectories,
    shadowDbInitScript: "",
  };
}

export interface MigrateResult {
  provider: Provider;
  applied: string[];
}

export interface MigrateOptions {
  /** Compare the database with the migrations on a shadow database (detects hand-made changes). */
  checkDrift?: boolean;
  /** Where the migrations live (tests point at their own copies). */
  migrationsDir?: string;
  schemaPath?: string;
}

/**
 * Apply pending migrations. Refuses (MigrationError) a database whose applied migrations were
 * edited, that holds migrations this Kiln does not know, has a failed migration, or (with
 * checkDrift) has drifted from its migrations. Never resets anything.
 */
export async function migrateDatabase(target: DatabaseTarget, options: MigrateOptions = {}): Promise<MigrateResult> {
  const provider = providerOf(target);
  const files = PROVIDER_FILES[provider];
  const schemaPath = options.schemaPath ?? files.schema;
  const migrationsDir = options.migrationsDir ?? files.migrations;
  const where = `${provider} database ${redactUrl(target.url)}`;
  if (provider === "sqlite") await mkdir(path.dirname(sqliteFilePath(target.url)), { recursive: true });
  const { engine, close } = await openSchemaEngine(schemaPath, target);
  try {
    const migrationsList = await readMigrations(migrationsDir);
    const diagnosis = await diagnose(engine, migrationsList);
    if (diagnosis.editedMigrationNames.length > 0) {
      throw new MigrationError(
        `${where}: applied migration(s) ${diagnosis.editedMigrationNames.join(", ")} were edited after they ran ` +
          "(their checksum no longer matches). Restore the original migration.sql; Kiln does not reset databases.",
      );
    }
    if (diagnosis.failedMigrationNames.length > 0) {
      throw new MigrationError(
        `${where}: migration(s) ${diagnosis.failedMigrationNames.join(", ")} failed earlier and are marked failed in ` +
          "_prisma_migrations. Repair the database by hand, then mark them rolled back.",
      );
    }
    const history = diagnosis.history;
    if (history && history.diagnostic !== "databaseIsBehind") {
      throw new MigrationError(
        `${where}: the database has migrations this version of Kiln does not have ` +
          `(${history.unpersistedMigrationNames.join(", ")}). It was migrated by a newer or different Kiln; ` +
          "start that version, or restore a backup.",
      );
    }
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
    if (options.checkDrift ?? true) {
      const change = await driftScript(engine, schemaPath);
      if (change) {
        throw new MigrationError(
          `${where}: the database schema has drifted from its migrations (to match them it would need: ${summariseScript(change)}). ` +
            "Someone changed it by hand; Kiln will not reset it. Undo the change or restore a backup.",
        );
      }
    }
    return { provider, applied: appliedMigrationNames };
  } catch (error) {
    throw withPanic(error);
  } finally {
    await close();
  }
}

export interface MigrationStatus {
  provider: Provider;
  applied: number;
  pending: string[];
  edited: string[];
  failed: string[];
  unknownToKiln: string[];
  ok: boolean;
}

export async function migrationStatus(target: DatabaseTarget): Promise<MigrationStatus> {
  const provider = providerOf(target);
  const files = PROVIDER_FILES[provider];
  const { engine, close } = await openSchemaEngine(files.schema, target);
  try {
    const migrationsList = await readMigrations(files.migrations);
    const d = await diagnose(engine, migrationsList);
    const h = d.history;
    const pending = h && h.diagnostic !== "migrationsDirectoryIsBehind" ? h.unappliedMigrationNames : [];
    const unknownToKiln = h && h.diagnostic !== "databaseIsBehind" ? h.unpersistedMigrationNames : [];
    const total = migrationsList.migrationDirectories.length;
    return {
      provider,
      applied: d.hasMigrationsTable ? total - pending.length : 0,
      pending: d.hasMigrationsTable ? pending : migrationsList.migrationDirectories.map((m) => m.path),
      edited: d.editedMigrationNames,
      failed: d.failedMigrationNames,
      unknownToKiln,
      ok: d.editedMigrationNames.length === 0 && d.failedMigrationNames.length === 0 && unknownToKiln.length === 0,
    };
  } catch (error) {
    throw withPanic(error);
  } finally {
    await close();
  }
}

/**
 * The SQL that would bring the migrations folder up to the schema; empty when in sync.
 * Needs a database for the shadow replay (in-memory for SQLite).
 */
export async function pendingSchemaChange(target: DatabaseTarget, schemaPath: string, migrationsDir: string): Promise<string> {
  const { engine, close } = await openSchemaEngine(schemaPath, target);
  try {
    return await diffMigrationsToSchema(engine, schemaPath, migrationsDir);
  } catch (error) {
    throw withPanic(error);
  } finally {
    await close();
  }
}

/**
 * The SQL that would turn the live database into Kiln's schema; empty when they match. Compares
 * the database with schema.prisma (which CI keeps equal to the migrations), so it needs no shadow
 * database: a role without CREATEDB, as managed PostgreSQL services give, can run it.
 */
async function driftScript(engine: SchemaEngine, schemaPath: string): Promise<string> {
  const files = [{ path: schemaPath, content: await readFile(schemaPath, "utf8") }];
  const result = await engine.diff({
    from: { tag: "schemaDatasource", files, configDir: path.dirname(schemaPath) },
    to: { tag: "schemaDatamodel", files },
    script: true,
    exitCode: null,
    filters: NO_FILTERS,
  });
  const script = result.stdout ?? "";
  return isEmptyScript(script) ? "" : script;
}

/** The first statements of a script, on one line. */
function summariseScript(script: string): string {
  const statements = script
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^(CREATE|ALTER|DROP|INSERT)\b/.test(line));
  const shown = statements.slice(0, 3).map((s) => (s.length > 120 ? `${s.slice(0, 117)}...` : s));
  return shown.join(" ") + (statements.length > 3 ? ` and ${statements.length - 3} more` : "");
}

async function diffMigrationsToSchema(engine: SchemaEngine, schemaPath: string, migrationsDir: string): Promise<string> {
  const result = await engine.diff({
    from: { tag: "migrations", ...(await readMigrations(migrationsDir)) },
    to: { tag: "schemaDatamodel", files: [{ path: schemaPath, content: await readFile(schemaPath, "utf8") }] },
    script: true,
    exitCode: null,
    filters: NO_FILTERS,
  });
  const script = result.stdout ?? "";
  return isEmptyScript(script) ? "" : script;
}

export interface PlannedMigration {
  provider: Provider;
  /** The SQL from the provider's migrations to the schema; empty when already in sync. */
  script: string;
  /** Statements that can lose data or fail on existing rows. */
  warnings: string[];
}

/** What `migrate dev` would write for one provider, without writing anything. */
export async function planMigration(target: DatabaseTarget): Promise<PlannedMigration> {
  const provider = providerOf(target);
  const files = PROVIDER_FILES[provider];
  // The engine reads the provider of a migrations folder from its lock file, even an empty one.
  await mkdir(files.migrations, { recursive: true });
  const lockPath = path.join(files.migrations, "migration_lock.toml");
  const hadLock = await access(lockPath).then(
    () => true,
    () => false,
  );
  if (!hadLock) await writeFile(lockPath, lockFileFor(provider));
  try {
    const script = await pendingSchemaChange(target, files.schema, files.migrations);
    // The wasm engine's evaluateDataLoss needs a shadow database it cannot be given here ("shadow
    // DB must be provided through an external factory", on SQLite and PostgreSQL alike): read the
    // risky statements from the script instead.
    return { provider, script, warnings: dataLossWarnings(script) };
  } finally {
    if (!hadLock) await rm(lockPath);
  }
}

/**
 * Write planned migrations (one per provider) under one directory name so the histories line
 * up. Refuses, writing nothing, when any of them may lose data and that was not accepted.
 */
export async function writeMigrations(
  plans: PlannedMigration[],
  dirName: string,
  options: { acceptDataLoss?: boolean } = {},
): Promise<string[]> {
  const risky = plans.filter((p) => p.warnings.length > 0);
  if (risky.length > 0 && !options.acceptDataLoss) {
    throw new MigrationError(
      `the change may lose data:\n${risky.map((p) => `- ${p.provider}: ${p.warnings.join("; ")}`).join("\n")}\n` +
        "Nothing was written. Re-run with --accept-data-loss once you are sure.",
    );
  }
  const written: string[] = [];
  for (const plan of plans.filter((p) => p.script)) {
    const files = PROVIDER_FILES[plan.provider];
    const dir = path.join(files.migrations, dirName);
    await mkdir(dir, { recursive: true });
    const lockPath = path.join(files.migrations, "migration_lock.toml");
    if (
      !(await access(lockPath).then(
        () => true,
        () => false,
      ))
    )
      await writeFile(lockPath, lockFileFor(plan.provider));
    await writeFile(path.join(dir, "migration.sql"), plan.script);
    written.push(path.join(dir, "migration.sql"));
  }
  return written;
}

function lockFileFor(provider: Provider): string {
  return `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`;
}

export function migrationDirName(name: string, at = new Date()): string {
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 100);
  if (!slug) throw new MigrationError("--name: give the migration a name made of letters or digits");
  return `${at.toISOString().replace(/[-:T]/g, "").slice(0, 14)}_${slug}`;
}

/** diagnoseMigrationHistory, with a database that has no _prisma_migrations table yet read as new. */
async function diagnose(engine: SchemaEngine, migrationsList: MigrationList): Promise<DiagnoseMigrationHistoryOutput> {
  try {
    return await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_FILTERS });
  } catch (error) {
    // P1014 "The underlying table for model `_prisma_migrations` does not exist" (SQLite engine).
    if ((error as { code?: string }).code !== "P1014") throw error;
    const unapplied = migrationsList.migrationDirectories.map((m) => m.path);
    return {
      editedMigrationNames: [],
      failedMigrationNames: [],
      hasMigrationsTable: false,
      history: unapplied.length ? { diagnostic: "databaseIsBehind", unappliedMigrationNames: unapplied } : null,
    };
  }
}

/** Statements in a migration script that can lose data or fail on existing rows. */
export function dataLossWarnings(sql: string): string[] {
  const warnings: string[] = [];
  for (const m of sql.matchAll(/DROP TABLE "([^"]+)"/g)) {
    // SQLite rebuilds a table as new_X, copies the rows and drops the old one: that drop is safe.
    if (!/RedefineTables/.test(sql) || !sql.includes(`"new_${m[1]}"`)) warnings.push(`drops table ${m[1]} and its rows`);
  }
  for (const m of sql.matchAll(/DROP COLUMN "([^"]+)"/g)) warnings.push(`drops column ${m[1]} and its values`);
  for (const m of sql.matchAll(/ALTER COLUMN "([^"]+)" SET DATA TYPE/g)) warnings.push(`changes the type of column ${m[1]}`);
  for (const m of sql.matchAll(/ADD COLUMN\s+"([^"]+)"[^;,]*NOT NULL(?![^;,]*DEFAULT)/g)) {
    warnings.push(`adds required column ${m[1]} without a default: fails on a table with rows`);
  }
  if (/RedefineTables/.test(sql)) warnings.push("rebuilds SQLite table(s) by copying rows: check that every column is copied");
  return warnings;
}

function isEmptyScript(script: string): boolean {
  const trimmed = script.trim();
  return trimmed === "" || trimmed === "-- This is an empty migration.";
}

function withPanic(error: unknown): unknown {
  const panic = enginePanicMessage();
  if (panic && error instanceof Error && !error.message.includes(panic)) error.message += `\n${panic}`;
  return error;
}
