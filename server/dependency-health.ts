// Kiln's dependencies, the database and (in shared mode) Redis, go away and come back: a server
// restart, a failover, a network blip. Every background loop carries on through that, and says
// so once: one line when a dependency is lost ("... background work waits for it") and one when
// it answers again ("... after 31 s"), not a stack per tick. A loop reports what it caught with
// `failed` and a success with `reached`; an error that is not an outage is logged as one line.
import { setTimeout as sleep } from "node:timers/promises";

export type Dependency = "database" | "Redis";

/** What a caller is told while the database is away: every route says it the same way. */
export const DATABASE_UNAVAILABLE_MESSAGE = "the database is not reachable: try again shortly";

/** Prisma's connection-level error codes: cannot reach, timed out, closed, no free connection. */
const UNREACHABLE_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
/** The driver adapters' error kinds for the same (adapter-pg's socket and server errors). */
const UNREACHABLE_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "TlsConnectionError",
]);
const UNREACHABLE_TEXT =
  /Can't reach database server|Connection terminated|terminating connection|server closed the connection|ECONNREFUSED|ECONNRESET|ETIMEDOUT|the database system is (shutting down|starting up|in recovery mode)|Connection pool timeout/i;

/** Is `error` the database being away (an outage to wait out), rather than a failing query? */
export function isDatabaseUnreachable(error: unknown): boolean {
  const e = error as {
    code?: unknown;
    message?: unknown;
    meta?: { driverAdapterError?: { cause?: { kind?: string; code?: string } } };
    cause?: unknown;
  } | null;
  if (!e || typeof e !== "object") return false;
  if (typeof e.code === "string" && UNREACHABLE_CODES.has(e.code)) return true;
  const cause = e.meta?.driverAdapterError?.cause;
  if (cause?.kind && UNREACHABLE_KINDS.has(cause.kind)) return true;
  // PostgreSQL's own: 57P01-03 (shutting down, starting up), class 08 (connection exceptions).
  if (cause?.kind === "postgres" && /^(57P0[1-3]|08)/.test(cause.code ?? "")) return true;
  if (typeof e.message === "string" && UNREACHABLE_TEXT.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== error && isDatabaseUnreachable(e.cause);
}

/** The first line of an error's message: Prisma's are many lines long, with a code excerpt. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^Invalid `.*` invocation/.test(l) && !/^(→|\d+ )/.test(l));
  return (lines.at(-1) ?? text).slice(0, 300);
}

export class DependencyHealth {
  private readonly down = new Map<Dependency, { since: number; reason: string }>();
  private readonly listeners = new Set<(dependency: Dependency, up: boolean) => void>();

  constructor(
    private readonly log: (line: string) => void = console.log,
    private readonly now: () => number = Date.now,
  ) {}

  isDown(dependency: Dependency): boolean {
    return this.down.has(dependency);
  }

  /** Why it is away and since when, for /health; null while it answers. */
  outage(dependency: Dependency): { since: Date; reason: string } | null {
    const d = this.down.get(dependency);
    return d ? { since: new Date(d.since), reason: d.reason } : null;
  }

  /** Called with every change: lost (up false) and back (up true). */
  onChange(listener: (dependency: Dependency, up: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The dependency is away (first time: one line logged). */
  lost(dependency: Dependency, reason: string): void {
    if (this.down.has(dependency)) return;
    this.down.set(dependency, { since: this.now(), reason });
    this.log(`kiln: ${dependency} is not reachable (${reason}): background work waits for it and carries on when it is back`);
    for (const listener of this.listeners) listener(dependency, false);
  }

  /** A call to the dependency worked: if it was away, one line says it is back. */
  reached(dependency: Dependency): void {
    const d = this.down.get(dependency);
    if (!d) return;
    this.down.delete(dependency);
    this.log(`kiln: ${dependency} is reachable again (after ${Math.round((this.now() - d.since) / 1000)} s)`);
    for (const listener of this.listeners) listener(dependency, true);
  }

  /**
   * What a background loop caught: a database outage marks it lost (logged once); anything else
   * is logged as one line naming `where`. True when it was an outage.
   */
  failed(where: string, error: unknown): boolean {
    if (isDatabaseUnreachable(error)) {
      this.lost("database", firstLine(error));
      return true;
    }
    this.log(`kiln: ${where}: ${firstLine(error)}`);
    return false;
  }
}

/** Waits between tries while the database is away: 0.25 s, doubling to at most 5 s. */
export function outageBackoffMs(attempt: number): number {
  return Math.min(5_000, 250 * 2 ** Math.min(attempt, 5));
}

/**
 * Runs `work` until the database answers: an outage is waited out (reported to `health`), any
 * other error is thrown. `stop` ends the wait early by throwing the last outage error.
 */
export async function throughOutages<T>(health: DependencyHealth, work: () => Promise<T>, stop?: () => boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await work();
      health.reached("database");
      return result;
    } catch (error) {
      if (!isDatabaseUnreachable(error) || stop?.()) throw error;
      health.lost("database", firstLine(error));
      await sleep(outageBackoffMs(attempt));
    }
  }
}
