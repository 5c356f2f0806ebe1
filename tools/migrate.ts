// Developer front end of Kiln's migration tool (server/db/migrations.ts), in place of
// `prisma migrate`, whose native engine cannot be downloaded here.
//   dev --name <what changed> [--accept-data-loss]
//        derive the PostgreSQL schema, write a migration for SQLite and one for PostgreSQL
//        (same directory name), then apply them to $DATABASE_URL (default data/kiln.db)
//   deploy   apply pending migrations to $DATABASE_URL
//   status   print the migration state of $DATABASE_URL (exit 1 unless fully applied and clean)
//   check    CI: the derived schema and both migration histories match schema.prisma
// PostgreSQL work (dev, check) uses $KILN_PG_URL, default postgresql://127.0.0.1:5432/test.
import { mkdtempSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../server/config.js";
import {
  MigrationError,
  migrateDatabase,
  migrationDirName,
  migrationStatus,
  pendingSchemaChange,
  planMigration,
  writeMigrations,
} from "../server/db/migrations.js";
import { PROVIDER_FILES } from "../server/db/url.js";
import { derivePostgresSchema, POSTGRES_SCHEMA, SQLITE_SCHEMA } from "./derive-postgres-schema.js";

const PG_URL = process.env.KILN_PG_URL ?? "postgresql://127.0.0.1:5432/test";
// A throwaway database for the engine to connect to; SQLite shadow replays run in memory.
const SQLITE_SCRATCH = { url: `file:${path.join(mkdtempSync(path.join(tmpdir(), "kiln-migrate-")), "scratch.db")}` };

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { name: { type: "string" }, "accept-data-loss": { type: "boolean" } },
  });
  const command = positionals[0];
  const target = { url: loadConfig([], process.env).databaseUrl };
  switch (command) {
    case "dev": {
      if (!values.name) throw new MigrationError("dev: --name <what changed> is required");
      await writeFile(POSTGRES_SCHEMA, derivePostgresSchema(await readFile(SQLITE_SCHEMA, "utf8")));
      const dirName = migrationDirName(values.name);
      // Both plans first, then both files: a refusal or a failure leaves nothing half written.
      const plans = [await planMigration(SQLITE_SCRATCH), await planMigration({ url: PG_URL })];
      for (const plan of plans) for (const w of plan.warnings) console.warn(`warning (${plan.provider}): ${w}`);
      const written = await writeMigrations(plans, dirName, { acceptDataLoss: values["accept-data-loss"] ?? false });
      console.log(written.length ? written.map((f) => `wrote ${f}`).join("\n") : "schema.prisma and the migrations are already in sync");
      const { applied } = await migrateDatabase(target);
      console.log(applied.length ? `applied: ${applied.join(", ")}` : "nothing to apply");
      return 0;
    }
    case "deploy": {
      const { provider, applied } = await migrateDatabase(target);
      console.log(applied.length ? `${provider}: applied ${applied.join(", ")}` : `${provider}: no pending migrations`);
      return 0;
    }
    case "status": {
      const status = await migrationStatus(target);
      console.log(JSON.stringify(status, null, 2));
      return status.ok && status.pending.length === 0 ? 0 : 1;
    }
    case "check": {
      let stale = false;
      const derived = derivePostgresSchema(await readFile(SQLITE_SCHEMA, "utf8"));
      if ((await readFile(POSTGRES_SCHEMA, "utf8").catch(() => "")) !== derived) {
        console.error("prisma/postgres/schema.prisma is stale: run `npm run db:derive`.");
        stale = true;
      }
      for (const [provider, scratch] of [
        ["sqlite", SQLITE_SCRATCH],
        ["postgresql", { url: PG_URL }],
      ] as const) {
        const files = PROVIDER_FILES[provider];
        const change = await pendingSchemaChange(scratch, files.schema, files.migrations);
        if (change) {
          console.error(
            `${provider} migrations are behind schema.prisma; run \`npm run db:migrate:dev -- --name <change>\`. Missing:\n${change}`,
          );
          stale = true;
        } else {
          console.log(`${provider} migrations match schema.prisma.`);
        }
      }
      return stale ? 1 : 0;
    }
    default:
      console.error("usage: tsx tools/migrate.ts dev --name <change> | deploy | status | check");
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof MigrationError ? error.message : error);
    process.exit(1);
  },
);
