// Fills a Kiln database with job history for the history bench: 10 hosts, 200 drives, and jobs
// (3 stages each) generated inside the database engine, so a million rows take seconds.
// Jobs are a minute apart; about 3% failed, 2% unknown, the rest passed.
import Database from "better-sqlite3";
import pg from "pg";
import { openDatabase } from "../server/db/client.js";
import { migrateDatabase } from "../server/db/migrations.js";
import { pgConnectionString, providerOf, sqliteFilePath } from "../server/db/url.js";

export const HOSTS = 10;
export const DRIVES = 200;
const EPOCH = 1_700_000_000;

/** Migrate, then add hosts and drives through Kiln's own client. */
export async function prepare(url: string): Promise<void> {
  await migrateDatabase({ url });
  const database = await openDatabase({ url });
  try {
    for (let h = 0; h < HOSTS; h++) {
      const host = await database.db.host.create({ data: { name: `rack-${h}`, transport: "local" } });
      await database.db.drive.createMany({
        data: Array.from({ length: DRIVES / HOSTS }, (_, i) => ({
          hostId: host.id,
          serial: `SN${String(h * 100 + i).padStart(6, "0")}`,
          model: i % 2 ? "ST4000NM0043" : "WDC WD40EFRX-68N32N0",
        })),
      });
    }
  } finally {
    await database.close();
  }
}

/** Jobs number `from` (inclusive) to `to` (exclusive), with their stages. */
export async function addJobs(url: string, from: number, to: number): Promise<void> {
  if (providerOf({ url }) === "sqlite") {
    const db = new Database(sqliteFilePath(url));
    db.pragma("journal_mode = WAL");
    db.exec("BEGIN");
    db.prepare(
      `WITH RECURSIVE seq(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?),
         d AS (SELECT id, serial, row_number() OVER (ORDER BY serial) - 1 AS k FROM Drive)
       INSERT INTO BurnInJob (id, driveId, serial, profile, options, status, progressPct, verdictOutcome, attempts, createdAt, startedAt, finishedAt, updatedAt)
       SELECT printf('job%09d', n), d.id, d.serial,
              CASE n % 3 WHEN 0 THEN 'full' WHEN 1 THEN 'quick' ELSE 'ssd' END, '{}',
              CASE WHEN n % 33 = 0 THEN 'failed' WHEN n % 50 = 1 THEN 'unknown' ELSE 'passed' END, 100,
              CASE WHEN n % 33 = 0 THEN 'failed' WHEN n % 50 = 1 THEN NULL ELSE 'passed' END, 1,
              strftime('%Y-%m-%dT%H:%M:%f+00:00', ${EPOCH} + n * 60, 'unixepoch'),
              strftime('%Y-%m-%dT%H:%M:%f+00:00', ${EPOCH} + n * 60 + 5, 'unixepoch'),
              strftime('%Y-%m-%dT%H:%M:%f+00:00', ${EPOCH} + n * 60 + 3600 + (n % 97) * 60, 'unixepoch'),
              strftime('%Y-%m-%dT%H:%M:%f+00:00', ${EPOCH} + n * 60 + 3600, 'unixepoch')
       FROM seq JOIN d ON d.k = n % ${DRIVES}`,
    ).run(from, to);
    db.prepare(
      `INSERT INTO Stage (id, jobId, name, position, weight, status, progressPct, log)
       SELECT j.id || '-' || s.position, j.id, s.name, s.position, s.weight, 'passed', 100, ''
       FROM BurnInJob j CROSS JOIN (SELECT 0 AS position, 'precheck' AS name, 1 AS weight
                                    UNION ALL SELECT 1, 'surface_validate', 85 UNION ALL SELECT 2, 'final_check', 1) s
       WHERE j.id >= printf('job%09d', ?) AND j.id < printf('job%09d', ?)`,
    ).run(from, to);
    db.exec("COMMIT");
    db.exec("ANALYZE");
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: pgConnectionString(url) });
  await client.connect();
  try {
    await client.query(
      `WITH d AS (SELECT id, serial, row_number() OVER (ORDER BY serial) - 1 AS k FROM "Drive")
       INSERT INTO "BurnInJob" (id, "driveId", serial, profile, options, status, "progressPct", "verdictOutcome", attempts, "createdAt", "startedAt", "finishedAt", "updatedAt")
       SELECT 'job' || lpad(n::text, 9, '0'), d.id, d.serial,
              CASE n % 3 WHEN 0 THEN 'full' WHEN 1 THEN 'quick' ELSE 'ssd' END, '{}',
              CASE WHEN n % 33 = 0 THEN 'failed' WHEN n % 50 = 1 THEN 'unknown' ELSE 'passed' END, 100,
              CASE WHEN n % 33 = 0 THEN 'failed' WHEN n % 50 = 1 THEN NULL ELSE 'passed' END, 1,
              to_timestamp(${EPOCH} + n * 60), to_timestamp(${EPOCH} + n * 60 + 5),
              to_timestamp(${EPOCH} + n * 60 + 3600 + (n % 97) * 60), to_timestamp(${EPOCH} + n * 60 + 3600)
       FROM generate_series($1::int, $2::int - 1) AS n JOIN d ON d.k = n % ${DRIVES}`,
      [from, to],
    );
    await client.query(
      `INSERT INTO "Stage" (id, "jobId", name, position, weight, status, "progressPct", log)
       SELECT j.id || '-' || s.position, j.id, s.name, s.position, s.weight, 'passed', 100, ''
       FROM "BurnInJob" j CROSS JOIN (VALUES (0, 'precheck', 1), (1, 'surface_validate', 85), (2, 'final_check', 1)) AS s(position, name, weight)
       WHERE j.id >= 'job' || lpad($1::text, 9, '0') AND j.id < 'job' || lpad($2::text, 9, '0')`,
      [from, to],
    );
    await client.query('ANALYZE "BurnInJob"; ANALYZE "Stage"; ANALYZE "Drive"');
  } finally {
    await client.end();
  }
}
