// Fenced writes of a running job. A job is run by the instance that holds its lease: lockedBy
// names it, leaseVersion is raised by every claim and takeover. Every write a running job makes
// (progress, samples, stage and job ends, SMART snapshots) goes through `fencedWrite`, one
// transaction that first updates the job row on condition of holder and version. An instance
// that lost the job (it was paused or cut off past its lease, and another took over) matches no
// row, so its transaction writes nothing and it learns at once that it must stop following.
// The condition takes the job row's lock until commit: a takeover waits for a write in flight.
import type { Db } from "../db/client.js";

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

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];
type JobData = Parameters<Db["burnInJob"]["updateMany"]>[0]["data"];

/**
 * Runs `writes` in one transaction, after proving (and locking) the lease. `job` is written with
 * the proof; without it the row is rewritten unchanged (the lock is the point). Throws LeaseLost,
 * with nothing written, when the lease is not held any more.
 */
export async function fencedWrite<T>(
  db: Db,
  lease: Lease,
  writes: (tx: Tx) => Promise<T>,
  job: JobData = { lockedBy: lease.holder },
): Promise<T> {
  return db.$transaction(
    async (tx) => {
      const { count } = await tx.burnInJob.updateMany({
        where: { id: lease.jobId, lockedBy: lease.holder, leaseVersion: lease.version },
        data: job,
      });
      if (count !== 1) throw new LeaseLost(lease);
      return writes(tx);
    },
    { maxWait: 30_000, timeout: 60_000 },
  );
}
