// Job history for integrations: filters that match the indexes, and keyset pages. A cursor holds
// the sort key and id of the last row seen, so page 1,000 costs what page 1 costs (no OFFSET,
// no sub-select to find where the last page ended). The CSV/NDJSON exports walk the same pages.
import type { Db } from "../db/client.js";
import type { Prisma } from "../db/generated/sqlite/client.js";
import { ValidationError } from "../errors.js";

export interface JobFilter {
  status?: readonly string[] | null;
  verdict?: readonly string[] | null;
  profile?: readonly string[] | null;
  hostId?: string | null;
  driveId?: string | null;
  serial?: string | null;
  /** Part of the drive's model, any case; `%` and `_` are characters like any other. */
  model?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  finishedAfter?: Date | null;
  finishedBefore?: Date | null;
}

export type JobOrderField = "createdAt" | "finishedAt";
export type SortDirection = "asc" | "desc";
export interface JobOrder {
  field: JobOrderField;
  direction: SortDirection;
}

export const DEFAULT_ORDER: JobOrder = { field: "createdAt", direction: "desc" };
export const MAX_PAGE = 500;
const MAX_TEXT = 200;

function checkRange(after: Date | null | undefined, before: Date | null | undefined, name: string): void {
  if (after && before && after > before) throw new ValidationError(`${name}After`, `is later than ${name}Before`);
}

/** Drives a model filter may name by id (the job index on driveId); past it, by their models. */
const MAX_MODEL_DRIVE_IDS = 500;

/**
 * The jobs of drives whose model contains `part` (any case). Matched against the distinct models
 * first (a few hundred at most, however long the history): a part no model has costs one small
 * query instead of a walk over every job, and no LIKE pattern is built from what the caller sent.
 */
async function modelCondition(db: Db, part: string): Promise<Prisma.BurnInJobWhereInput> {
  const wanted = part.toLowerCase();
  const models = (await db.drive.findMany({ distinct: ["model"], select: { model: true }, where: { model: { not: null } } }))
    .map((d) => d.model as string)
    .filter((m) => m.toLowerCase().includes(wanted));
  if (!models.length) return { id: { in: [] } };
  const drives = await db.drive.findMany({ where: { model: { in: models } }, select: { id: true }, take: MAX_MODEL_DRIVE_IDS + 1 });
  return drives.length <= MAX_MODEL_DRIVE_IDS ? { driveId: { in: drives.map((d) => d.id) } } : { drive: { model: { in: models } } };
}

/** The Prisma condition for a filter; bad combinations are refused naming the field. */
export async function jobWhere(
  db: Db,
  filter: JobFilter | null | undefined,
  order: JobOrder = DEFAULT_ORDER,
): Promise<Prisma.BurnInJobWhereInput> {
  const f = filter ?? {};
  for (const key of ["serial", "model"] as const) {
    const value = f[key];
    if (value != null && (value.length === 0 || value.length > MAX_TEXT))
      throw new ValidationError(key, `must be 1-${MAX_TEXT} characters`);
  }
  checkRange(f.createdAfter, f.createdBefore, "created");
  checkRange(f.finishedAfter, f.finishedBefore, "finished");
  const and: Prisma.BurnInJobWhereInput[] = [];
  if (f.status?.length) and.push({ status: { in: [...f.status] } });
  if (f.verdict?.length) and.push({ verdictOutcome: { in: [...f.verdict] } });
  if (f.profile?.length) and.push({ profile: { in: [...f.profile] } });
  if (f.driveId) and.push({ driveId: f.driveId });
  if (f.hostId) and.push({ drive: { hostId: f.hostId } });
  if (f.serial) and.push({ serial: f.serial });
  if (f.model) and.push(await modelCondition(db, f.model));
  if (f.createdAfter) and.push({ createdAt: { gte: f.createdAfter } });
  if (f.createdBefore) and.push({ createdAt: { lt: f.createdBefore } });
  if (f.finishedAfter) and.push({ finishedAt: { gte: f.finishedAfter } });
  if (f.finishedBefore) and.push({ finishedAt: { lt: f.finishedBefore } });
  // Ordered by when jobs finished: only jobs that have.
  if (order.field === "finishedAt") and.push({ finishedAt: { not: null } });
  return and.length ? { AND: and } : {};
}

/** An opaque cursor: the sort value (ms) and id of a row. */
export function encodeCursor(order: JobOrder, row: { id: string; createdAt: Date; finishedAt: Date | null }): string {
  const at = order.field === "createdAt" ? row.createdAt : row.finishedAt;
  return Buffer.from(JSON.stringify([order.field[0], at?.getTime() ?? 0, row.id])).toString("base64url");
}

export function decodeCursor(order: JobOrder, cursor: string): { at: Date; id: string } {
  try {
    const [field, at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [unknown, unknown, unknown];
    if (field === order.field[0] && typeof at === "number" && Number.isFinite(at) && typeof id === "string" && id.length <= 64) {
      return { at: new Date(at), id };
    }
  } catch {
    // fall through
  }
  throw new ValidationError("after", "is not a cursor of this list in this order: pass an endCursor from an earlier page");
}

/** Rows after the cursor, as a range on the index: `key <= at AND NOT (key = at AND id >= last)` (descending). */
function afterCursor(order: JobOrder, cursor: { at: Date; id: string }): Prisma.BurnInJobWhereInput {
  const { field, direction } = order;
  const desc = direction === "desc";
  return {
    AND: [
      { [field]: desc ? { lte: cursor.at } : { gte: cursor.at } },
      { NOT: { [field]: cursor.at, id: desc ? { gte: cursor.id } : { lte: cursor.id } } },
    ],
  };
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  filter?: JobFilter | null;
  orderBy?: JobOrder | null;
}

/**
 * One page of jobs: `query` is what the caller wants loaded with each job (Pothos' include or
 * select). Returns one row more than asked when there is a next page.
 */
export async function pageOfJobs<T extends { id: string; createdAt: Date; finishedAt: Date | null }>(
  db: Db,
  args: PageArgs,
  query: Record<string, unknown> = {},
): Promise<{ rows: T[]; hasNextPage: boolean; order: JobOrder }> {
  const order = args.orderBy ?? DEFAULT_ORDER;
  const first = args.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw new ValidationError("first", `must be 1-${MAX_PAGE}`);
  const where = await jobWhere(db, args.filter, order);
  const conditions = [where, ...(args.after ? [afterCursor(order, decodeCursor(order, args.after))] : [])];
  // A select that Pothos built must still carry what the cursor needs.
  const select = (query as { select?: Record<string, unknown> }).select;
  const rows = (await db.burnInJob.findMany({
    ...query,
    ...(select ? { select: { ...select, id: true, createdAt: true, finishedAt: true } } : {}),
    where: { AND: conditions },
    orderBy: [{ [order.field]: order.direction }, { id: order.direction }],
    take: first + 1,
  })) as unknown as T[];
  const hasNextPage = rows.length > first;
  return { rows: hasNextPage ? rows.slice(0, first) : rows, hasNextPage, order };
}
