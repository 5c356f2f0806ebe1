// Finished full burn-ins made straight in a SQLite database: jobs with their stages, each surface
// scan with its 3,200 samples (8 phases of 400) and phase history, as a real scan leaves them.
// Their reports are made from this data (as for any job younger than retentionDays): hundreds in
// a second, for the routes that render and zip reports, and for the bench.
import Database from "better-sqlite3";
import type { Db } from "../../server/db/client.js";

export const SAMPLES_PER_PHASE = 400;
const T0 = 1_700_000_000;

/** `count` passed full jobs of one new drive on `hostId`, with their scans; their ids, oldest first. */
export async function seedFinishedScans(db: Db, sqliteFile: string, hostId: string, count: number): Promise<string[]> {
  const drive = await db.drive.create({
    data: { hostId, serial: `SCAN-${count}-${Date.now()}`, model: "ST4000NM0043", sizeBytes: 4_000_787_030_016n },
  });
  const sql = new Database(sqliteFile);
  try {
    sql.exec("BEGIN");
    const history = JSON.stringify(
      Object.fromEntries(Array.from({ length: 8 }, (_, i) => [i + 1, new Date((T0 + i * 3600) * 1000).toISOString()])),
    );
    const prefix = drive.id;
    sql
      .prepare(
        `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?)
         INSERT INTO BurnInJob (id, driveId, serial, profile, options, status, progressPct, verdictOutcome, verdict, attempts, createdAt, startedAt, finishedAt, updatedAt)
         SELECT ? || printf('-%06d', n), ?, ?, 'full', '{}', 'passed', 100, 'passed', '{"result":"passed","reasons":[],"warnings":[]}', 1,
                strftime('%Y-%m-%dT%H:%M:%f+00:00', ? + n * 60, 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%f+00:00', ? + n * 60, 'unixepoch'),
                strftime('%Y-%m-%dT%H:%M:%f+00:00', ? + n * 60 + 28800, 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%f+00:00', ? + n * 60 + 28800, 'unixepoch')
         FROM seq`,
      )
      .run(count, prefix, drive.id, drive.serial, T0, T0, T0, T0);
    sql
      .prepare(
        `INSERT INTO Stage (id, jobId, name, position, weight, status, progressPct, log, startedAt, finishedAt,
                            bbPhase, bbPhasePct, bbPhaseHistory, bbBadBlocks, bbBlockSize, bbBlocksAtOnce)
         SELECT j.id || '-' || s.position, j.id, s.name, s.position, s.weight, 'passed', 100, '', j.startedAt, j.finishedAt,
                s.phase, s.phasePct, s.history, s.bad, s.bs, s.c
         FROM BurnInJob j CROSS JOIN (
           SELECT 0 AS position, 'precheck' AS name, 1 AS weight, NULL AS phase, NULL AS phasePct, NULL AS history, NULL AS bad, NULL AS bs, NULL AS c
           UNION ALL SELECT 1, 'surface_validate', 85, 8, 100, ?, 0, 4096, 64
           UNION ALL SELECT 2, 'final_check', 1, NULL, NULL, NULL, NULL, NULL, NULL) s
         WHERE j.driveId = ?`,
      )
      .run(history, drive.id);
    sql
      .prepare(
        `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?)
         INSERT INTO StageSample (id, stageId, at, phase, phasePct, mbps, temperatureC)
         SELECT s.id || '-' || n, s.id, strftime('%Y-%m-%dT%H:%M:%f+00:00', ? + n * 9, 'unixepoch'),
                n / ? + 1, (n % ?) * 100.0 / ?, 250 - (n % ?) * 0.3, 35
         FROM Stage s JOIN BurnInJob j ON j.id = s.jobId CROSS JOIN seq WHERE s.name = 'surface_validate' AND j.driveId = ?`,
      )
      .run(8 * SAMPLES_PER_PHASE, T0, SAMPLES_PER_PHASE, SAMPLES_PER_PHASE, SAMPLES_PER_PHASE, SAMPLES_PER_PHASE, drive.id);
    sql.exec("COMMIT");
  } finally {
    sql.close();
  }
  return (await db.burnInJob.findMany({ where: { driveId: drive.id }, orderBy: { createdAt: "asc" }, select: { id: true } })).map(
    (j) => j.id,
  );
}
