// Which database a URL names, and the files that belong to each provider.
import { userInfo } from "node:os";
import path from "node:path";
import { PACKAGE_ROOT } from "../package-root.js";

export type Provider = "sqlite" | "postgresql";

export interface DatabaseTarget {
  url: string;
}

const root = PACKAGE_ROOT;

export const PROVIDER_FILES: Record<Provider, { schema: string; migrations: string }> = {
  sqlite: { schema: path.join(root, "schema.prisma"), migrations: path.join(root, "prisma", "migrations") },
  postgresql: {
    schema: path.join(root, "prisma", "postgres", "schema.prisma"),
    migrations: path.join(root, "prisma", "postgres", "migrations"),
  },
};

export function providerOf(target: DatabaseTarget): Provider {
  if (target.url.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(target.url)) {
    if (!URL.canParse(target.url)) {
      throw new Error(`DATABASE_URL: "${redactUrl(target.url)}" is not a valid URL (check the host and that the port is 0-65535)`);
    }
    return "postgresql";
  }
  throw new Error(`DATABASE_URL: unsupported database URL "${redactUrl(target.url)}" (use file:... or postgresql://...)`);
}

/** file:DIR/kiln.db for a data directory. */
export function sqliteUrlFor(dataDir: string): string {
  return `file:${path.join(path.resolve(dataDir), "kiln.db")}`;
}

/** The URL without its password, for messages and logs; also a URL too broken to parse. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    // user:password@ up to the last "@" before the path (a password may contain "@" or ":").
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@]*:)[^/]*@/i, "$1***@");
  }
}

/**
 * The connection string node-postgres should get. A URL without a user name falls back to
 * $PGUSER, then to the account Kiln runs as, like psql does; node-postgres alone would send no
 * user at all when $USER is unset (as under CI and service managers).
 */
export function pgConnectionString(url: string): string {
  const parsed = new URL(url);
  if (!parsed.username) parsed.username = encodeURIComponent(process.env.PGUSER || userInfo().username);
  return parsed.toString();
}

/** The file of a file: URL (relative paths are relative to the working directory). */
export function sqliteFilePath(url: string): string {
  return path.resolve(url.replace(/^file:/, "").replace(/\?.*$/, ""));
}
