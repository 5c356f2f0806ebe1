// The Prisma client for a database URL: SQLite (better-sqlite3 adapter) or PostgreSQL (pg).
// Both generated clients have the same models (prisma/postgres/schema.prisma is derived from
// schema.prisma), so the rest of Kiln sees one type, `Db`.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PrismaClient as SqliteClient } from "./generated/sqlite/client.js";
import { type DatabaseTarget, type Provider, pgConnectionString, providerOf, sqliteFilePath } from "./url.js";

export type Db = InstanceType<typeof SqliteClient>;

export interface Database {
  db: Db;
  provider: Provider;
  close(): Promise<void>;
}

/** How long a SQLite connection waits for a lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/** PostgreSQL: the longest a Kiln session may sit idle inside a transaction (its own never do). */
export const IDLE_IN_TRANSACTION_MS = 10_000;

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  const provider = providerOf(target);
  if (provider === "sqlite") {
    mkdirSync(path.dirname(sqliteFilePath(target.url)), { recursive: true });
    const { PrismaBetterSqlite3 } = await import("@prisma/adapter-better-sqlite3");
    // better-sqlite3's `timeout` is the busy timeout of the connection.
    const adapter = new PrismaBetterSqlite3({ url: target.url, timeout: SQLITE_BUSY_TIMEOUT_MS });
    const db = new SqliteClient({ adapter });
    // WAL lets readers (API queries) run while the runner writes progress; it is a property of
    // the file, so setting it on every open is cheap and keeps an older file right.
    await db.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await db.$queryRawUnsafe(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    await db.$queryRawUnsafe("PRAGMA foreign_keys = ON");
    return { db, provider, close: () => db.$disconnect() };
  }
  const { PrismaPg } = await import("@prisma/adapter-pg");
  const { PrismaClient: PostgresClient } = await import("./generated/postgres/client.js");
  const adapter = new PrismaPg({
    connectionString: pgConnectionString(target.url),
    // A Kiln frozen in the middle of a transaction (SIGSTOP, a paused VM) would hold its row
    // locks for as long as it is frozen, and the instance taking its jobs over would wait on them
    // for ever: the server ends such a session, and its locks, after this long.
    options: `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}`,
  });
  // Same models, same generated API: only the provider's SQL differs.
  const db = new PostgresClient({ adapter }) as unknown as Db;
  return { db, provider, close: () => db.$disconnect() };
}

/** True when the database answers a trivial query (GET /health). */
export async function databaseReachable(db: Db): Promise<boolean> {
  try {
    await db.$queryRawUnsafe("SELECT 1");
    return true;
  } catch {
    return false;
  }
}
