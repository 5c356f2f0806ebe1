// Job leases on PostgreSQL (several Kiln processes share one database): a job whose lock is
// older than the lease belongs to a dead Kiln and is taken over; a fresh lock is left alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../server/db/client.js";
import { migrateDatabase } from "../../server/db/migrations.js";
import { createKilnPubSub } from "../../server/events/pubsub.js";
import { DEFAULT_LEASE_MS as LEASE_MS } from "../../server/runner/lease.js";
import { JobRunner } from "../../server/runner/runner.js";
import { HostRegistry } from "../../server/services/host-registry.js";
import { removeTempDirs, type TempPostgres, tempDir, tempPostgres } from "../helpers/temp-db.js";

describe("job leases on PostgreSQL", () => {
  let pg: TempPostgres;
  let database: Database;
  let runner: JobRunner;
  beforeAll(async () => {
    pg = await tempPostgres();
    await migrateDatabase({ url: pg.url });
    database = await openDatabase({ url: pg.url });
  });
  afterAll(async () => {
    await runner?.stop();
    await database?.close();
    await pg?.drop();
    removeTempDirs();
  });

  it("takes over a job whose holder stopped renewing its lease, and leaves a live holder's job alone", async () => {
    const { db } = database;
    const host = await db.host.create({ data: { name: "rack", transport: "local", trusted: true, status: "ok" } });
    const job = async (serial: string, lockedBy: string, lockedAt: Date) => {
      const drive = await db.drive.create({ data: { hostId: host.id, serial, devicePath: "/dev/sdz" } });
      return db.burnInJob.create({
        data: {
          driveId: drive.id,
          serial,
          profile: "simulate",
          options: JSON.stringify({ simulateSeconds: 2, simulateHz: 5 }),
          status: "running",
          lockedBy,
          lockedAt,
          startedAt: new Date(),
          stages: { create: [{ name: "simulate", position: 0, weight: 1, status: "running", progressPct: 40, startedAt: new Date() }] },
        },
      });
    };
    const orphan = await job("ORPHAN1", "kiln-dead", new Date(Date.now() - LEASE_MS - 5_000));
    const owned = await job("OWNED01", "kiln-alive", new Date());
    const pubsub = createKilnPubSub();
    const ended = new Promise<void>((resolve) => {
      void (async () => {
        for await (const e of pubsub.subscribe("job", orphan.id)) if (e.status === "passed") return resolve();
      })();
    });
    runner = new JobRunner({
      db,
      registry: new HostRegistry({ dataDir: tempDir() }),
      pubsub,
      instanceId: "kiln-new",
      singleInstance: false,
      log: () => {},
    });
    await runner.start();
    await ended;
    const [taken, left] = await Promise.all([
      db.burnInJob.findUniqueOrThrow({ where: { id: orphan.id } }),
      db.burnInJob.findUniqueOrThrow({ where: { id: owned.id } }),
    ]);
    expect(taken).toMatchObject({ status: "passed", lockedBy: null });
    expect(left).toMatchObject({ status: "running", lockedBy: "kiln-alive" });
    expect(runner.isRunning(owned.id)).toBe(false);
  });
});
