// GET /api/jobs.csv and /api/jobs.ndjson: the job history for spreadsheets and ticket systems,
// with the filters of the `jobs` query as URL parameters. Streamed in keyset pages of 500 rows
// with back-pressure, so a million jobs cost the memory of one page. Authorised like the API: a
// token (Authorization: Bearer) or a session cookie, with the read scope.
//
// A drive's model or serial comes from the host, which Kiln does not trust: a CSV cell that a
// spreadsheet would run as a formula (= + - @, tab, CR) is prefixed with an apostrophe.
import type { IncomingMessage, ServerResponse } from "node:http";
import { setImmediate as yieldToOthers } from "node:timers/promises";
import { actorShownTo, type Viewer } from "./auth/viewer.js";
import type { ApiConfig } from "./config.js";
import type { Db } from "./db/client.js";
import { ValidationError } from "./errors.js";
import { type HeavyWork, inHeavySlot } from "./heavy-work.js";
import { authorizeRead, sendJson } from "./http-auth.js";
import { JOB_STATUSES, VERDICT_OUTCOMES } from "./runner/job-status.js";
import { PROFILE_NAMES } from "./runner/profiles.js";
import {
  encodeCursor,
  type JobFilter,
  type JobOrder,
  type JobOrderField,
  MAX_PAGE,
  pageOfJobs,
  type SortDirection,
} from "./services/job-history.js";

const EXPORT_PAGE = MAX_PAGE;

export const EXPORT_COLUMNS = [
  "id",
  "serial",
  "model",
  "host",
  "profile",
  "status",
  "verdict",
  "progressPct",
  "createdAt",
  "startedAt",
  "finishedAt",
  "createdBy",
  "errorText",
] as const;

type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | number | null>;

function listParam(params: URLSearchParams, name: string, allowed: readonly string[]): string[] | null {
  const values = params
    .getAll(name)
    .flatMap((v) => v.split(","))
    .filter(Boolean);
  if (!values.length) return null;
  for (const v of values)
    if (!allowed.includes(v)) throw new ValidationError(name, `"${v.slice(0, 40)}" is not one of ${allowed.join(", ")}`);
  return values;
}

function dateParam(params: URLSearchParams, name: string): Date | null {
  const value = params.get(name);
  if (value === null) return null;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new ValidationError(name, "must be an ISO 8601 date or time");
  return date;
}

/** The `jobs` filter and order from URL parameters (?status=failed,unknown&hostId=...&orderBy=finishedAt&direction=asc). */
export function exportQuery(params: URLSearchParams): { filter: JobFilter; orderBy: JobOrder } {
  const known = new Set([
    "status",
    "verdict",
    "profile",
    "hostId",
    "driveId",
    "serial",
    "model",
    "createdAfter",
    "createdBefore",
    "finishedAfter",
    "finishedBefore",
    "orderBy",
    "direction",
  ]);
  for (const key of params.keys()) if (!known.has(key)) throw new ValidationError(key, `is not a filter (use ${[...known].join(", ")})`);
  const field = params.get("orderBy") ?? "createdAt";
  if (field !== "createdAt" && field !== "finishedAt") throw new ValidationError("orderBy", "must be createdAt or finishedAt");
  const direction = params.get("direction") ?? "desc";
  if (direction !== "asc" && direction !== "desc") throw new ValidationError("direction", "must be asc or desc");
  return {
    filter: {
      status: listParam(params, "status", JOB_STATUSES),
      verdict: listParam(params, "verdict", VERDICT_OUTCOMES),
      profile: listParam(params, "profile", PROFILE_NAMES),
      hostId: params.get("hostId"),
      driveId: params.get("driveId"),
      serial: params.get("serial"),
      model: params.get("model"),
      createdAfter: dateParam(params, "createdAfter"),
      createdBefore: dateParam(params, "createdBefore"),
      finishedAfter: dateParam(params, "finishedAfter"),
      finishedBefore: dateParam(params, "finishedBefore"),
    },
    orderBy: { field: field as JobOrderField, direction: direction as SortDirection },
  };
}

/** A CSV cell: quoted when needed, and never a formula a spreadsheet would run. */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Every job the filter matches, a page at a time. */
export async function* exportRows(db: Db, filter: JobFilter, orderBy: JobOrder, pageSize = EXPORT_PAGE): AsyncGenerator<ExportRow[]> {
  let after: string | null = null;
  for (;;) {
    const page = await pageOfJobs<{
      id: string;
      serial: string;
      profile: string;
      status: string;
      verdictOutcome: string | null;
      progressPct: number;
      createdAt: Date;
      startedAt: Date | null;
      finishedAt: Date | null;
      createdBy: string | null;
      errorText: string | null;
      drive: { model: string | null; host: { name: string } };
    }>(
      db,
      { first: pageSize, after, filter, orderBy },
      {
        select: {
          id: true,
          serial: true,
          profile: true,
          status: true,
          verdictOutcome: true,
          progressPct: true,
          createdAt: true,
          startedAt: true,
          finishedAt: true,
          createdBy: true,
          errorText: true,
          drive: { select: { model: true, host: { select: { name: true } } } },
        },
      },
    );
    yield page.rows.map((j) => ({
      id: j.id,
      serial: j.serial,
      model: j.drive.model,
      host: j.drive.host.name,
      profile: j.profile,
      status: j.status,
      verdict: j.verdictOutcome,
      progressPct: j.progressPct,
      createdAt: j.createdAt.toISOString(),
      startedAt: j.startedAt?.toISOString() ?? null,
      finishedAt: j.finishedAt?.toISOString() ?? null,
      createdBy: j.createdBy,
      errorText: j.errorText,
    }));
    if (!page.hasNextPage) return;
    const last = page.rows.at(-1);
    if (!last) return;
    after = encodeCursor(page.order, last);
  }
}

/**
 * Writes a chunk and waits for the socket to drain when its buffer is full; rejects if the client
 * left, also when it left before this call: a response whose "close" has already fired never
 * drains, and a caller waiting for it would hold its heavy-work slot for good.
 */
export function write(res: ServerResponse, chunk: string | Uint8Array): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error("client went away"));
  if (res.write(chunk)) return Promise.resolve();
  if (res.destroyed) return Promise.reject(new Error("client went away"));
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      res.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      res.off("drain", onDrain);
      reject(new Error("client went away"));
    };
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

/** Handles /api/jobs.csv and /api/jobs.ndjson; false for any other path. */
export async function handleExport(req: IncomingMessage, res: ServerResponse, db: Db, api: ApiConfig, heavy: HeavyWork): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://kiln.invalid");
  const format = url.pathname === "/api/jobs.csv" ? "csv" : url.pathname === "/api/jobs.ndjson" ? "ndjson" : null;
  if (!format) return false;
  if (req.method !== "GET") {
    sendJson(res, 405, { error: "use GET" });
    return true;
  }
  const viewer = await authorizeRead(req, res, db, api, "exports");
  if (!viewer) return true;
  let query: ReturnType<typeof exportQuery>;
  try {
    query = exportQuery(url.searchParams);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    sendJson(res, 400, { error: error.message, field: error.field });
    return true;
  }
  await inHeavySlot(heavy, viewer, req, res, () => streamExport(res, db, format, query, viewer));
  return true;
}

async function streamExport(
  res: ServerResponse,
  db: Db,
  format: "csv" | "ndjson",
  query: ReturnType<typeof exportQuery>,
  viewer: Viewer,
): Promise<void> {
  res.writeHead(200, {
    "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
    "content-disposition": `attachment; filename="kiln-jobs.${format}"`,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  try {
    if (format === "csv") await write(res, `${EXPORT_COLUMNS.join(",")}\r\n`);
    for await (const rows of exportRows(db, query.filter, query.orderBy)) {
      for (const row of rows) row.createdBy = actorShownTo(viewer, row.createdBy as string | null);
      const text =
        format === "csv"
          ? rows.map((r) => `${EXPORT_COLUMNS.map((c) => csvCell(r[c])).join(",")}\r\n`).join("")
          : rows.map((r) => `${JSON.stringify(r)}\n`).join("");
      if (text) await write(res, text);
      // Other requests get their turn between pages.
      await yieldToOthers();
    }
    res.end();
  } catch (error) {
    // The client left, or the database failed mid-stream: the response cannot change status now.
    if ((error as Error).message !== "client went away") console.error("kiln: export failed", error);
    res.destroy();
  }
}
