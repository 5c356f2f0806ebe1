import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../server/db/client.js";
import { MigrationError, migrateDatabase, migrationStatus, pendingSchemaChange } from "../../server/db/migrations.js";
import { PROVIDER_FILES, pgConnectionString, sqliteFilePath } from "../../server/db/url.js";
import {
  copyMigrations,
  removeTempDirs,
  type TempPostgres,
  tempDir,
  tempPostgres,
  tempSqliteUrl,
  withPgAdmin,
} from "../helpers/temp-db.js";

const migrationNames = (dir: string) =>
  readdirSync(dir)
    .filter((d) => !d.endsWith(".toml"))
    .sort();
const firstMigration = (dir: string) => migrationNames(dir)[0] as string;

describe("SQLite migrations", () => {
  it("creates the schema on a new file, records it in _prisma_migrations, and is a no-op the second time", async () => {
    const url = tempSqliteUrl();
    const first = await migrateDatabase({ url });
    expect(first.applied).toEqual(migrationNames(PROVIDER_FILES.sqlite.migrations));
    expect((await migrateDatabase({ url })).applied).toEqual([]);
    const sqlite = new Database(sqliteFilePath(url));
    const rows = sqlite.prepare("SELECT migration_name, checksum, finished_at FROM _prisma_migrations").all() as Array<
      Record<string, unknown>
    >;
    sqlite.close();
    expect(rows.map((r) => r.migration_name).sort()).toEqual(migrationNames(PROVIDER_FILES.sqlite.migrations));
    expect(rows.every((r) => r.finished_at)).toBe(true);
    expect((await migrationStatus({ url })).pending).toEqual([]);
  });

  it("opens connections in WAL mode with a busy timeout", async () => {
    const url = tempSqliteUrl();
    await migrateDatabase({ url });
    const { db, close } = await openDatabase({ url });
    try {
      const [mode] = await db.$queryRawUnsafe<Array<{ journal_mode: string }>>("PRAGMA journal_mode");
      const [timeout] = await db.$queryRawUnsafe<Array<{ timeout: bigint | number }>>("PRAGMA busy_timeout");
      expect(mode?.journal_mode).toBe("wal");
      expect(Number(timeout?.timeout)).toBeGreaterThanOrEqual(5000);
    } finally {
      await close();
    }
  });

  it("refuses to start on a database whose applied migration was edited, and changes nothing", async () => {
    const url = tempSqliteUrl();
    const dir = copyMigrations("sqlite");
    await migrateDatabase({ url }, { migrationsDir: dir });
    const name = firstMigration(dir);
    appendFileSync(path.join(dir, name, "migration.sql"), "\n-- edited later\n");
    await expect(migrateDatabase({ url }, { migrationsDir: dir })).rejects.toThrow(
      new RegExp(`${name} were edited after they ran.*does not reset`),
    );
    const sqlite = new Database(sqliteFilePath(url));
    expect(sqlite.prepare("SELECT count(*) AS n FROM Host").get()).toEqual({ n: 0 });
    sqlite.close();
  });

  it("refuses a database changed by hand (drift) instead of resetting it", async () => {
    const url = tempSqliteUrl();
    await migrateDatabase({ url });
    const sqlite = new Database(sqliteFilePath(url));
    sqlite.exec(
      `ALTER TABLE "Host" ADD COLUMN "notes" TEXT; INSERT INTO "Host" (id, name, transport, updatedAt) VALUES ('h1', 'keep-me', 'local', 0)`,
    );
    sqlite.close();
    const error = await migrateDatabase({ url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/drifted from its migrations/);
    const after = new Database(sqliteFilePath(url));
    expect(after.prepare("SELECT name FROM Host").all()).toEqual([{ name: "keep-me" }]);
    after.close();
  });

  it("refuses a database migrated by a Kiln with migrations this one does not have", async () => {
    const url = tempSqliteUrl();
    const dir = copyMigrations("sqlite");
    mkdirSync(path.join(dir, "29990101000000_from_the_future"));
    writeFileSync(path.join(dir, "29990101000000_from_the_future", "migration.sql"), 'CREATE TABLE "Future" ("id" TEXT PRIMARY KEY);\n');
    await migrateDatabase({ url }, { migrationsDir: dir, checkDrift: false });
    await expect(migrateDatabase({ url })).rejects.toThrow(/29990101000000_from_the_future.*newer or different Kiln/);
  });

  it("detects a schema change that has no migration yet (the CI staleness check)", async () => {
    const scratch = tempSqliteUrl();
    expect(await pendingSchemaChange({ url: scratch }, PROVIDER_FILES.sqlite.schema, PROVIDER_FILES.sqlite.migrations)).toBe("");
    const changed = path.join(tempDir(), "schema.prisma");
    writeFileSync(
      changed,
      readFileSync(PROVIDER_FILES.sqlite.schema, "utf8")
        .replace("model Setting {", "model Setting {\n  note String?")
        .replace(/generator pothos \{[^}]*\}/, ""),
    );
    expect(await pendingSchemaChange({ url: scratch }, changed, PROVIDER_FILES.sqlite.migrations)).toMatch(
      /ALTER TABLE "Setting" ADD COLUMN "note"/,
    );
  });
});

describe("PostgreSQL migrations (local server)", () => {
  const created: TempPostgres[] = [];
  afterAll(async () => {
    for (const db of created) await db.drop();
  });
  const fresh = async () => {
    const db = await tempPostgres();
    created.push(db);
    return db.url;
  };

  it("applies the PostgreSQL history to a new database and the client reads and writes through it", async () => {
    const url = await fresh();
    const { provider, applied } = await migrateDatabase({ url });
    expect(provider).toBe("postgresql");
    expect(applied).toEqual(migrationNames(PROVIDER_FILES.postgresql.migrations));
    expect((await migrateDatabase({ url })).applied).toEqual([]);
    const { db, close } = await openDatabase({ url });
    try {
      const host = await db.host.create({ data: { name: "nas", transport: "ssh", address: "10.0.0.2" } });
      await db.drive.create({ data: { hostId: host.id, serial: "ZVT0CCCC", sizeBytes: 20000588955648n } });
      const drive = await db.drive.findFirstOrThrow({ include: { host: true } });
      expect(drive.sizeBytes).toBe(20000588955648n);
      expect(drive.host.name).toBe("nas");
    } finally {
      await close();
    }
  });

  it("refuses an edited migration and drift on PostgreSQL too", async () => {
    const url = await fresh();
    const dir = copyMigrations("postgresql");
    await migrateDatabase({ url }, { migrationsDir: dir });
    appendFileSync(path.join(dir, firstMigration(dir), "migration.sql"), "\n-- edited later\n");
    await expect(migrateDatabase({ url }, { migrationsDir: dir })).rejects.toThrow(/were edited after they ran/);

    const drifted = await fresh();
    await migrateDatabase({ url: drifted });
    const client = new pg.Client({ connectionString: pgConnectionString(drifted) });
    await client.connect();
    await client.query('ALTER TABLE "Host" ADD COLUMN "notes" TEXT');
    await client.end();
    await expect(migrateDatabase({ url: drifted })).rejects.toThrow(/drifted from its migrations/);
  });

  it("leaves no shadow databases behind", async () => {
    const rows = await withPgAdmin((c) => c.query("SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'"));
    expect(rows.rows).toEqual([]);
  });
});

afterAll(removeTempDirs);

describe("data-loss check of new migrations", () => {
  it("names the statements that can lose data, and passes plain additions", async () => {
    const { dataLossWarnings } = await import("../../server/db/migrations.js");
    expect(dataLossWarnings('ALTER TABLE "Stage" ADD COLUMN "remoteDir" TEXT;')).toEqual([]);
    expect(dataLossWarnings('ALTER TABLE "Host" DROP COLUMN "notes";\nDROP TABLE "Setting";')).toEqual([
      "drops table Setting and its rows",
      "drops column notes and its values",
    ]);
    expect(dataLossWarnings('ALTER TABLE "Drive" ADD COLUMN "bay" INTEGER NOT NULL;')).toEqual([
      "adds required column bay without a default: fails on a table with rows",
    ]);
    expect(dataLossWarnings('ALTER TABLE "Drive" ADD COLUMN "bay" INTEGER NOT NULL DEFAULT 0;')).toEqual([]);
  });

  it("writes nothing for either provider when a change may lose data and that was not accepted", async () => {
    const { writeMigrations } = await import("../../server/db/migrations.js");
    const plans = [
      { provider: "sqlite" as const, script: 'ALTER TABLE "Host" ADD COLUMN "x" TEXT;', warnings: [] },
      {
        provider: "postgresql" as const,
        script: 'ALTER TABLE "Host" DROP COLUMN "notes";',
        warnings: ["drops column notes and its values"],
      },
    ];
    await expect(writeMigrations(plans, "29990101000000_risky")).rejects.toThrow(/Nothing was written/);
    expect(readdirSync(PROVIDER_FILES.sqlite.migrations)).not.toContain("29990101000000_risky");
    expect(readdirSync(PROVIDER_FILES.postgresql.migrations)).not.toContain("29990101000000_risky");
  });
});
