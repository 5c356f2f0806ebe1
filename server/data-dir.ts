// Kiln's own data at rest is private, whatever the umask it was started with: the data directory
// is 0700, the SQLite database (with its WAL and shared-memory files) 0600. The database holds
// host addresses, key paths and the audit log; the directory will hold keys.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { providerOf, sqliteFilePath } from "./db/url.js";

export function secureDataDir(dataDir: string, databaseUrl: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  // SSH private keys for hosts (services/ssh-keys.ts).
  const keys = path.join(dataDir, "keys");
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  chmodSync(keys, 0o700);
  if (providerOf({ url: databaseUrl }) !== "sqlite") return;
  const file = sqliteFilePath(databaseUrl);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Created here, before SQLite creates it with the umask's mode; SQLite gives its -wal and -shm
  // files the database file's mode.
  if (!existsSync(file)) closeSync(openSync(file, "a", 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}
