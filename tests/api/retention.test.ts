// Retention on SQLite and PostgreSQL: a job that finished 100 days ago loses its raw data (logs,
// samples, temperatures, SMART JSON) and keeps its summary, verdict and report (with its speed
// curve and SMART table); a job of 10 days ago keeps everything; retentionDays 0 keeps all.
import { afterAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../server/db/client.js";
import { migrateDatabase } from "../../server/db/migrations.js";
import { buildReport } from "../../server/reports/build.js";
import { sweepRetention } from "../../server/services/retention.js";
import { setSetting } from "../../server/services/settings.js";
import { removeTempDirs, type TempPostgres, tempPostgres, tempSqliteUrl } from "../helpers/temp-db.js";

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date(Date.UTC(2026, 10, 28, 12));

async function seedJob(database: Database, driveId: string, serial: string, daysAgo: number): Promise<string> {
  const db = database.db;
  const finishedAt = new Date(NOW.getTime() - daysAgo * DAY);
  const startedAt = new Date(finishedAt.getTime() - 3600_000);
  const phaseStart = (p: number) => new Date(startedAt.getTime() + p * 60_000).toISOString();
  const job = await db.burnInJob.create({
    data: {
      driveId,
      serial,
      profile: "full",
      status: "passed",
      progressPct: 100,
      startedAt,
      finishedAt,
      verdict: JSON.stringify({ result: "passed", reasons: [], warnings: [] }),
      verdictOutcome: "passed",
      stages: {
        create: [
          {
            name: "surface_validate",
            position: 0,
            status: "passed",
            progressPct: 100,
            startedAt,
            finishedAt,
            log: "started badblocks\nphase 1\n",
            bbPhase: 8,
            bbPhasePct: 100,
            bbBadBlocks: 0,
            bbPhaseHistory: JSON.stringify(Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((p) => [String(p), phaseStart(p)]))),
          },
        ],
      },
    },
    include: { stages: true },
  });
  const stageId = job.stages[0]?.id as string;
  await db.stageSample.createMany({
    data: Array.from({ length: 40 }, (_, i) => ({
      stageId,
      at: new Date(startedAt.getTime() + i * 1000),
      phase: 1 + (i % 8),
      phasePct: (i % 5) * 20,
      mbps: 150 + i,
      temperatureC: 35,
    })),
  });
  await db.driveTemperature.createMany({
    data: [0, 1, 2].map((m) => ({ driveId, jobId: job.id, at: new Date(startedAt.getTime() + m * 60_000), celsius: 34 + m })),
  });
  const smart = (reallocated: number) =>
    JSON.stringify({ counters: { reallocatedSectors: reallocated }, temperatureC: 35, attributes: [], selfTests: [] });
  await db.smartSnapshot.createMany({
    data: [
      { driveId, jobId: job.id, kind: "baseline", report: smart(0), takenAt: startedAt },
      { driveId, jobId: job.id, kind: "final", report: smart(0), takenAt: finishedAt },
    ],
  });
  return job.id;
}

const engines: Array<{ name: string; url: () => Promise<string> }> = [
  { name: "SQLite", url: async () => tempSqliteUrl() },
  {
    name: "PostgreSQL",
    url: async () => {
      pg = await tempPostgres();
      return pg.url;
    },
  },
];
let pg: TempPostgres | null = null;

describe.each(engines)("retention on $name", ({ url }) => {
  let database: Database;
  afterAll(async () => {
    await database?.close();
    await pg?.drop();
    pg = null;
    removeTempDirs();
  });

  it("removes a 100-day-old job's raw data and keeps its report; a recent job keeps everything", async () => {
    const target = { url: await url() };
    await migrateDatabase(target);
    database = await openDatabase(target);
    const db = database.db;
    const host = await db.host.create({ data: { name: "rack", transport: "local" } });
    const drive = await db.drive.create({ data: { hostId: host.id, serial: "ZC1OLD", model: "ST4000NM0043", sizeBytes: 4_000_000_000n } });
    const old = await seedJob(database, drive.id, drive.serial, 100);
    const recent = await seedJob(database, drive.id, drive.serial, 10);
    const before = await buildReport(db, old);

    await setSetting(db, "retentionDays", 0, "test");
    expect(await sweepRetention(db, NOW)).toEqual({ jobs: 0, samples: 0, temperatures: 0, snapshots: 0 });
    await setSetting(db, "retentionDays", 90, "test");
    expect(await sweepRetention(db, NOW)).toEqual({ jobs: 1, samples: 40, temperatures: 3, snapshots: 2 });

    const counts = async (jobId: string) => ({
      samples: await db.stageSample.count({ where: { stage: { jobId } } }),
      temperatures: await db.driveTemperature.count({ where: { jobId } }),
      snapshots: await db.smartSnapshot.count({ where: { jobId } }),
      log: (await db.stage.findFirstOrThrow({ where: { jobId } })).log,
    });
    expect(await counts(old)).toEqual({ samples: 0, temperatures: 0, snapshots: 0, log: "(log removed after 90 days)\n" });
    expect(await counts(recent)).toEqual({ samples: 40, temperatures: 3, snapshots: 2, log: "started badblocks\nphase 1\n" });
    const kept = await db.burnInJob.findUniqueOrThrow({ where: { id: old } });
    expect(kept).toMatchObject({ status: "passed", verdictOutcome: "passed", purgedAt: NOW });

    // The report is the one made before the raw data went: the curve and the SMART table are in it.
    const after = await buildReport(db, old);
    expect(after).toEqual(before);
    expect(after.surfaceScan?.phases.some((p) => p.curve.length > 0)).toBe(true);
    expect(after.smart.changes.map((c) => c.name)).toContain("Reallocated sectors (5)");
    expect(after.temperature).toEqual({ minC: 34, maxC: 36, meanC: 35, readings: 3 });

    // Swept once: the next sweep has nothing to do.
    expect((await sweepRetention(db, NOW)).jobs).toBe(0);
  });
});
