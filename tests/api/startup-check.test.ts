// Start-up without Prisma's schema engine when the database is already right, and still refusing
// one that is not. The finding behind it: every `kiln serve` loaded the engine for a drift check
// that needed a shadow database, so a PostgreSQL role without CREATEDB could not start Kiln.
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { SCHEMA_FINGERPRINT_KEY } from "../../server/db/schema-check.js";
import { openMigratedDatabase } from "../../server/db/startup.js";
import { pgConnectionString, sqliteFilePath } from "../../server/db/url.js";
import { setSetting } from "../../server/services/settings.js";
import { serveKiln } from "../helpers/kiln-process.js";
import { PG_ADMIN_URL, removeTempDirs, tempDir, tempSqliteUrl, withPgAdmin } from "../helpers/temp-db.js";

afterAll(removeTempDirs);

describe("start-up database check (SQLite)", () => {
  it("runs the full check on a new file, then starts on the cheap check alone", async () => {
    const url = tempSqliteUrl();
    const first = await openMigratedDatabase({ url });
    await first.database.close();
    expect(first.fullCheck).toBe("no migration history yet");
    expect(first.applied.length).toBeGreaterThan(5);
    const second = await openMigratedDatabase({ url });
    await second.database.close();
    expect(second).toMatchObject({ applied: [], fullCheck: null });
  });

  it("still refuses a table changed by hand after the last check, and keeps its rows", async () => {
    const url = tempSqliteUrl();
    await (await openMigratedDatabase({ url })).database.close();
    const sqlite = new Database(sqliteFilePath(url));
    sqlite.exec(
      `ALTER TABLE "Host" ADD COLUMN "notes" TEXT; INSERT INTO "Host" (id, name, transport, updatedAt) VALUES ('h1', 'keep-me', 'local', 0)`,
    );
    sqlite.close();
    await expect(openMigratedDatabase({ url })).rejects.toThrow(/drifted from its migrations \(to match them it would need: .*new_Host/);
    const after = new Database(sqliteFilePath(url));
    expect(after.prepare("SELECT name FROM Host").all()).toEqual([{ name: "keep-me" }]);
    after.close();
  });

  it("sends an edited migration record and a forged fingerprint to the full check", async () => {
    const url = tempSqliteUrl();
    const opened = await openMigratedDatabase({ url });
    // Not a setting: the API cannot write the fingerprint (setSetting refuses unknown keys).
    await expect(setSetting(opened.database.db, SCHEMA_FINGERPRINT_KEY, "forged", "admin")).rejects.toThrow(/unknown setting/);
    await opened.database.close();
    const sqlite = new Database(sqliteFilePath(url));
    sqlite.prepare("UPDATE Setting SET value = 'forged' WHERE key = ?").run(SCHEMA_FINGERPRINT_KEY);
    sqlite.close();
    // A fingerprint that does not match is checked in full; the schema is right, so it starts.
    const again = await openMigratedDatabase({ url });
    await again.database.close();
    expect(again.fullCheck).toBe("the schema changed since the last check");
    const edited = new Database(sqliteFilePath(url));
    edited.prepare("UPDATE _prisma_migrations SET checksum = 'edited' WHERE rowid = 1").run();
    edited.close();
    await expect(openMigratedDatabase({ url })).rejects.toThrow(/were edited after they ran/);
  });
});

describe("kiln serve on PostgreSQL as a least-privilege role (owner of its database, no CREATEDB)", () => {
  const role = `kiln_owner_${process.pid}`;
  const database = `kiln_lp_${process.pid}`;
  afterAll(async () => {
    await withPgAdmin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS "${role}"`);
    });
  });

  it("migrates and starts, starts again without the full check, and refuses drift without a shadow database", async () => {
    await withPgAdmin(async (c) => {
      await c.query(`CREATE ROLE "${role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
      await c.query(`CREATE DATABASE "${database}" OWNER "${role}"`);
    });
    const url = new URL(PG_ADMIN_URL);
    url.username = role;
    url.pathname = `/${database}`;
    const env = { DATABASE_URL: url.toString() };

    const first = await serveKiln(["--port", "0", "--data", tempDir()], env);
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    expect(first.output()).toMatch(/postgresql database .*, applied \d{14}_init.*\(full check: no migration history yet\)/);
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);

    const second = await serveKiln(["--port", "0", "--data", tempDir()], env);
    expect((await fetch(`${second.url}/health`)).status).toBe(200);
    expect(second.output()).toMatch(/schema up to date\n/);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);

    const client = new pg.Client({ connectionString: pgConnectionString(url.toString()) });
    await client.connect();
    await client.query('ALTER TABLE "Host" ADD COLUMN "notes" TEXT');
    await client.end();
    const third = await serveKiln(["--port", "0", "--data", tempDir()], env).catch((error: Error) => error);
    expect(third).toBeInstanceOf(Error);
    expect((third as Error).message).toMatch(/drifted from its migrations .*"Host".*"notes"/s);
    expect((third as Error).message).not.toMatch(/shadow|permission denied/i);
    // Nothing was created beside the role's own database (Kiln connects as the role: anything it
    // made would be the role's; other tests make and drop databases of their own meanwhile).
    expect(await databasesOwnedBy(role)).toEqual([database]);
  });
});

async function databasesOwnedBy(role: string): Promise<string[]> {
  return withPgAdmin(async (c) =>
    (
      await c.query("SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY datname", [role])
    ).rows.map((r) => r.datname as string),
  );
}
