// Derives prisma/postgres/schema.prisma from the hand-edited schema.prisma (SQLite).
// A generated client and its migration SQL are specific to one provider, so PostgreSQL needs its
// own schema file; deriving it keeps the two models identical.
//   tsx tools/derive-postgres-schema.ts           write it
//   tsx tools/derive-postgres-schema.ts --check   exit 1 when the committed file is stale
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
export const SQLITE_SCHEMA = path.join(root, "schema.prisma");
export const POSTGRES_SCHEMA = path.join(root, "prisma", "postgres", "schema.prisma");

const HEADER = "// GENERATED from ../../schema.prisma by `npm run db:derive`. Do not edit: edit schema.prisma.\n";

function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  if (!pattern.test(text)) throw new Error(`schema.prisma: cannot find ${what}`);
  return text.replace(pattern, replacement);
}

export function derivePostgresSchema(sqliteSchema: string): string {
  let text = replaceOnce(
    sqliteSchema,
    /(datasource\s+db\s*\{[^}]*provider\s*=\s*)"sqlite"/,
    '$1"postgresql"',
    'the datasource with provider = "sqlite"',
  );
  text = replaceOnce(
    text,
    /(generator\s+client\s*\{[^}]*output\s*=\s*)"server\/db\/generated\/sqlite"/,
    '$1"../../server/db/generated/postgres"',
    'generator client with output = "server/db/generated/sqlite"',
  );
  // Pothos' types are generated once, from the SQLite schema: both clients have the same models.
  text = replaceOnce(text, /generator\s+pothos\s*\{[^}]*\}\n*/, "", "generator pothos");
  // Leading comments of the SQLite file describe that file; keep the model's own doc comments.
  text = text.replace(/^(\/\/[^\n]*\n)+\n?/, "");
  return HEADER + text;
}

async function main(): Promise<void> {
  const derived = derivePostgresSchema(await readFile(SQLITE_SCHEMA, "utf8"));
  if (process.argv.includes("--check")) {
    const current = await readFile(POSTGRES_SCHEMA, "utf8").catch(() => "");
    if (current !== derived) {
      console.error("prisma/postgres/schema.prisma is stale: run `npm run db:derive` and commit it.");
      process.exit(1);
    }
    console.log("prisma/postgres/schema.prisma is up to date.");
    return;
  }
  await writeFile(POSTGRES_SCHEMA, derived);
  console.log(`wrote ${path.relative(process.cwd(), POSTGRES_SCHEMA)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
