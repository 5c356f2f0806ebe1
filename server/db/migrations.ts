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
      const dev = await engine.devDiagnostic({ migrationsList, filters: NO_FILTERS });
      if (dev.action.tag === "reset") {
        throw new MigrationError(
          `${where}: the database schema has drifted from its migrations (${dev.action.reason.trim()}). ` +
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

export interface CreatedMigration {
  provider: Provider;
  /** The migration's directory, or null when the schema needed no change. */
  dir: string | null;
  warnings: string[];
}

/**
 * Write a new migration for one provider (`migrate dev --create-only`): the SQL from the current
 * migrations to the schema. `dirName` is shared by both providers so their histories line up.
 */
export async function createMigration(
  target: DatabaseTarget,
  dirName: string,
  options: { acceptDataLoss?: boolean } = {},
): Promise<CreatedMigration> {
  const provider = providerOf(target);
  const files = PROVIDER_FILES[provider];
  // The engine reads the provider of a migrations folder from its lock file, even an empty one.
  const lockPath = path.join(files.migrations, "migration_lock.toml");
  const hadLock = await access(lockPath).then(
    () => true,
    () => false,
  );
  if (!hadLock) {
    await mkdir(files.migrations, { recursive: true });
    await writeFile(
      lockPath,
      `# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "${provider}"\n`,
    );
  }
  const { engine, close } = await openSchemaEngine(files.schema, target);
  let script: string;
  let warnings: string[] = [];
  try {
    script = await diffMigrationsToSchema(engine, files.schema, files.migrations);
    const migrationsList = await readMigrations(files.migrations);
    // Nothing can be lost before the first migration (and the engine's SQLite data-loss check
    // fails on an empty history: "shadow DB must be provided through an external factory").
    if (script && migrationsList.migrationDirectories.length > 0) {
      const loss = await engine.evaluateDataLoss({
        migrationsList,
        schema: { files: [{ path: files.schema, content: await readFile(files.schema, "utf8") }] },
        filters: NO_FILTERS,
      });
      warnings = [...loss.warnings, ...loss.unexecutableSteps].map((w) => w.message);
    }
  } catch (error) {
    throw withPanic(error);
  } finally {
    await close();
  }
  if (!script) {
    if (!hadLock) await rm(lockPath);
    return { provider, dir: null, warnings: [] };
  }
  if (warnings.length > 0 && !options.acceptDataLoss) {
    throw new MigrationError(
      `${provider}: the change may lose data:\n- ${warnings.join("\n- ")}\nRe-run with --accept-data-loss once you are sure.`,
    );
  }
  await mkdir(path.join(files.migrations, dirName), { recursive: true });
  const dir = path.join(files.migrations, dirName);
  try {
    await writeFile(path.join(dir, "migration.sql"), script);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { provider, dir, warnings };
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

function isEmptyScript(script: string): boolean {
  const trimmed = script.trim();
  return trimmed === "" || trimmed === "-- This is an empty migration.";
}

function withPanic(error: unknown): unknown {
  const panic = enginePanicMessage();
  if (panic && error instanceof Error && !error.message.includes(panic)) error.message += `\n${panic}`;
  return error;
}
