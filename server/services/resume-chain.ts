// The jobs a resumed job goes on from (BurnInJob.resumedFromId, followed back): the parts of one
// burn-in, for its verdict (the first baseline) and its report (the parts named).
import type { Db } from "../db/client.js";

/** Jobs followed back at most (a guard against a cycle in hand-edited rows). */
const MAX_RESUMES = 1000;

/** The ids of the jobs `resumedFromId` leads back to, oldest first (empty for a job that resumes none). */
export async function resumedJobs(db: Db, resumedFromId: string | null): Promise<string[]> {
  const ids: string[] = [];
  for (let id = resumedFromId; id && ids.length < MAX_RESUMES; ) {
    ids.unshift(id);
    id = (await db.burnInJob.findUnique({ where: { id }, select: { resumedFromId: true } }))?.resumedFromId ?? null;
  }
  return ids;
}
