// Fenced writes of a running job. A job is run by the instance that holds its lease: lockedBy
// names it, leaseVersion is raised by every claim and takeover. Every write a running job makes
// (progress, samples, stage and job ends, SMART snapshots) goes through `fencedWrite`, one
// transaction whose first statement updates the job row on condition of holder and version. An instance
// that lost the job (it was paused or cut off past its lease, and another took over) matches no
// row, so its transaction writes nothing and it learns at once that it must stop following.
// The condition takes the job row's lock until commit: a takeover waits for a write in flight.
import type { Db } from "../db/client.js";
import type { Prisma } from "../db/generated/sqlite/client.js";

/** The configured lease: a lock not renewed for this long belongs to a dead or cut-off Kiln. */
export const DEFAULT_LEASE_MS = 60_000;

export interface Lease {
  jobId: string;
  holder: string;
  version: number;
}

/** This instance no longer holds the job: nothing was written, and nothing more may be. */
export class LeaseLost extends Error {
  override name = "LeaseLost";
  constructor(readonly lease: Lease) {
    super(`job ${lease.jobId}: lease ${lease.version} of ${lease.holder} was taken over`);
  }
}

/** Fields of the job row a fenced write sets with its proof. */
export type JobData = Parameters<Db["burnInJob"]["update"]>[0]["data"];
/** A write that is not run yet (prisma.model.updateMany(...) and the like), for one transaction. */
export type PendingWrite = Prisma.PrismaPromise<unknown>;

/**
 * Runs `writes` in one transaction whose first statement proves the lease: an UPDATE of the job
 * row on condition of holder and version (which also takes the row's lock until commit). `job`
 * is what that statement writes; without it the holder is written unchanged (a real UPDATE: the
 * lock is the point). When no row matches, the whole transaction is rolled back and LeaseLost
 * thrown: nothing was written. Returns the results of `writes`.
 */
export async function fencedWrite(
  db: Db,
  lease: Lease,
  writes: PendingWrite[],
  job: JobData = { lockedBy: lease.holder },
): Promise<unknown[]> {
  try {
    const [, ...results] = await db.$transaction([
      db.burnInJob.update({
        where: { id: lease.jobId, lockedBy: lease.holder, leaseVersion: lease.version },
        data: job,
        select: { id: true },
      }),
      ...writes,
    ]);
    return results;
  } catch (error) {
    // P2025 of the job row: the fence matched nothing (the writes never update a job row).
    const e = error as { code?: string; meta?: { modelName?: string } };
    if (e.code === "P2025" && e.meta?.modelName === "BurnInJob") throw new LeaseLost(lease);
    throw error;
  }
}
