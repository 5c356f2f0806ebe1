// Kiln's PostgreSQL sessions end a transaction left idle (a Kiln frozen by SIGSTOP or a paused
// VM in the middle of one): the server drops the session after 10 s and its locks with it, so the
// instance that takes the frozen one's jobs over is not blocked for ever. Found by scale-out.test.ts:
// kiln-b stopped inside its lease renewal held the job's row lock, and kiln-c's takeover waited on
// it for 9 minutes.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IDLE_IN_TRANSACTION_MS, openDatabase } from "../../server/db/client.js";
import { pgConnectionString } from "../../server/db/url.js";
import { type TempPostgres, tempPostgres } from "../helpers/temp-db.js";

describe("Kiln's PostgreSQL sessions", () => {
  let database: TempPostgres;
  beforeAll(async () => {
    database = await tempPostgres();
  });
  afterAll(() => database?.drop());

  it("lose a transaction left idle past 10 s, and the locks it held go to the next instance", async () => {
    const kiln = await openDatabase({ url: database.url });
    const other = new pg.Client({ connectionString: pgConnectionString(database.url) });
    await other.connect();
    try {
      const shown = await kiln.db.$queryRawUnsafe<Array<{ idle_in_transaction_session_timeout: string }>>(
        "SHOW idle_in_transaction_session_timeout",
      );
      expect(shown).toEqual([{ idle_in_transaction_session_timeout: `${IDLE_IN_TRANSACTION_MS / 1000}s` }]);
      // Kiln takes a lock in a transaction and then does nothing, as a frozen process would.
      let locked: () => void = () => {};
      const holding = new Promise<void>((resolve) => {
        locked = resolve;
      });
      let wake: () => void = () => {};
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const frozen = kiln.db
        .$transaction(
          async (tx) => {
            await tx.$executeRawUnsafe("SELECT pg_advisory_xact_lock(4242)");
            locked();
            // Frozen until the other session has the lock (or for twice the timeout), then it tries to commit.
            await Promise.race([woken, new Promise((resolve) => setTimeout(resolve, 2 * IDLE_IN_TRANSACTION_MS))]);
          },
          { timeout: 4 * IDLE_IN_TRANSACTION_MS, maxWait: 10_000 },
        )
        .then(
          () => "committed",
          (error: Error) => error.message,
        );
      await holding;
      const asked = Date.now();
      await other.query("SELECT pg_advisory_lock(4242)");
      const waited = Date.now() - asked;
      wake();
      expect(waited).toBeGreaterThan(IDLE_IN_TRANSACTION_MS * 0.8);
      expect(waited).toBeLessThan(IDLE_IN_TRANSACTION_MS * 1.6);
      // The frozen transaction did not commit.
      expect(await frozen).not.toBe("committed");
    } finally {
      await other.end();
      await kiln.close();
    }
  }, 90_000);
});
