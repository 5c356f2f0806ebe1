// Burn-in reports over HTTP, for a signed-in browser or a token with the read scope:
//   /reports/<jobId>        the printable HTML page
//   /reports/<jobId>.json   the signed report (what `kiln verify` and a buyer check)
//   /reports/<jobId>.pdf    the same as a PDF
//   /reports.zip?ids=a,b    a shipment: the JSON and PDF of each job, the public key and a README;
//                           or the history filters of /api/jobs.csv instead of ids (at most 500 jobs)
// and, for anyone, /.well-known/kiln-report-key: the public key that checks this Kiln's reports
// (public by nature; it holds nothing else).
import type { IncomingMessage, ServerResponse } from "node:http";
import { setImmediate as yieldToOthers } from "node:timers/promises";
import type { ApiConfig } from "../config.js";
import type { Db } from "../db/client.js";
import { JobStateError, NotFoundError, ValidationError } from "../errors.js";
import { exportQuery, write } from "../exports.js";
import { type HeavyWork, inHeavySlot } from "../heavy-work.js";
import { authorizeRead, sendJson } from "../http-auth.js";
import { MAX_PAGE, pageOfJobs } from "../services/job-history.js";
import { getSettings } from "../services/settings.js";
import { type BurnInReport, buildReport } from "./build.js";
import { renderReportHtml } from "./html.js";
import { type ReportKey, type SignedReport, signReport } from "./signing.js";

export const REPORT_KEY_PATH = "/.well-known/kiln-report-key";
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
// No script at all; the page's own inline styles and nothing from elsewhere.
const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export async function signedReport(db: Db, key: ReportKey, jobId: string): Promise<SignedReport<BurnInReport>> {
  return signReport(await buildReport(db, jobId), key);
}

/** A name safe in a Content-Disposition header and a zip: the serial's own characters, others as "_". */
export function reportFileName(signed: SignedReport<BurnInReport>, ext: string): string {
  const serial = signed.report.drive.serial.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64) || "drive";
  return `kiln-report-${serial}-${signed.report.job.id}.${ext}`;
}

function readmeText(key: ReportKey, names: string[], skipped: string[]): string {
  return [
    "Kiln burn-in reports",
    "",
    "Each drive has its report twice: the signed JSON (the original) and a PDF to read or print.",
    `They are signed with the Ed25519 key ${key.keyId}, whose public half is kiln-report-key.pem.`,
    "To check a report: kiln verify <report>.json --key kiln-report-key.pem",
    "(valid: unchanged since Kiln signed it; altered: changed; unknown key: another key signed it).",
    "",
    ...names.map((n) => `  ${n}`),
    ...(skipped.length ? ["", "Left out (not finished when this file was made):", ...skipped.map((s) => `  ${s}`)] : []),
    "",
  ].join("\n");
}

async function sendZip(req: IncomingMessage, res: ServerResponse, db: Db, key: ReportKey, url: URL): Promise<void> {
  const params = new URLSearchParams(url.searchParams);
  const ids = params
    .getAll("ids")
    .flatMap((v) => v.split(","))
    .filter(Boolean);
  params.delete("ids");
  let jobIds: string[];
  try {
    if (ids.length) {
      if (params.size) throw new ValidationError("ids", "give either ids or history filters, not both");
      if (ids.length > MAX_PAGE) throw new ValidationError("ids", `at most ${MAX_PAGE} jobs in one file`);
      const bad = ids.find((id) => !JOB_ID.test(id));
      if (bad !== undefined) throw new ValidationError("ids", `"${bad.slice(0, 40)}" is not a job id`);
      jobIds = [...new Set(ids)];
    } else {
      if (!params.size) throw new ValidationError("ids", "name the jobs (ids=...) or filter them (status, serial, createdAfter...)");
      const query = exportQuery(params);
      const page = await pageOfJobs<{ id: string; createdAt: Date; finishedAt: Date | null }>(
        db,
        { first: MAX_PAGE, filter: query.filter, orderBy: query.orderBy },
        { select: { id: true, createdAt: true, finishedAt: true } },
      );
      if (page.hasNextPage)
        throw new ValidationError("filter", `matches more than ${MAX_PAGE} jobs: narrow it (createdAfter, serial, status...)`);
      jobIds = page.rows.map((r) => r.id);
    }
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    sendJson(res, 400, { error: error.message, field: error.field });
    return;
  }
  // Unknown ids are refused before anything is sent; unfinished jobs are listed in the README.
  const found = new Set((await db.burnInJob.findMany({ where: { id: { in: jobIds } }, select: { id: true } })).map((j) => j.id));
  const missing = jobIds.filter((id) => !found.has(id));
  if (missing.length) {
    sendJson(res, 404, { error: `no such job: ${missing.slice(0, 5).join(", ")}`, field: "ids" });
    return;
  }
  res.writeHead(200, {
    "content-type": "application/zip",
    "content-disposition": `attachment; filename="kiln-reports.zip"`,
    "cache-control": "no-store",
  });
  let pending: Promise<void> = Promise.resolve();
  let failed: Error | null = null;
  const { Zip, ZipDeflate } = await import("fflate");
  const zip = new Zip((error, chunk, final) => {
    if (error) failed = error;
    else
      pending = pending.then(async () => {
        await write(res, chunk);
        if (final) res.end();
      });
  });
  const add = (name: string, data: Uint8Array) => {
    const file = new ZipDeflate(name, { level: 6 });
    zip.add(file);
    file.push(data, true);
  };
  const names: string[] = [];
  const skipped: string[] = [];
  try {
    for (const id of jobIds) {
      if (req.destroyed || res.destroyed) return;
      let signed: SignedReport<BurnInReport>;
      try {
        signed = await signedReport(db, key, id);
      } catch (error) {
        if (error instanceof JobStateError) {
          skipped.push(`${id} (${error.status})`);
          continue;
        }
        throw error;
      }
      // Each step (reading the report, drawing its PDF, compressing) about 10 ms of this thread;
      // other requests get their turn between them, so /health stays quick while a zip is made.
      await yieldToOthers();
      const json = reportFileName(signed, "json");
      const pdf = reportFileName(signed, "pdf");
      add(json, Buffer.from(`${JSON.stringify(signed, null, 2)}\n`));
      const drawn = await renderPdf(signed, await verifyBaseOf(db, req));
      await yieldToOthers();
      add(pdf, drawn);
      names.push(json, pdf);
      await pending;
      if (failed) throw failed;
      await yieldToOthers();
    }
    add("kiln-report-key.pem", Buffer.from(key.publicKeyPem));
    add("README.txt", Buffer.from(readmeText(key, names, skipped)));
    zip.end();
    await pending;
    if (failed) throw failed;
  } catch (error) {
    if ((error as Error).message !== "client went away") console.error("kiln: report zip failed", error);
    res.destroy();
  }
}

function refuse(res: ServerResponse, status: number, body: unknown): true {
  sendJson(res, status, body);
  return true;
}

/** Handles the report routes; false for any other path. */
export async function handleReportRoute(
  req: IncomingMessage,
  res: ServerResponse,
  db: Db,
  api: ApiConfig,
  key: ReportKey,
  heavy: HeavyWork,
): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://kiln.invalid");
  if (url.pathname === REPORT_KEY_PATH) {
    if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, 405, { error: "use GET" });
    res.writeHead(200, { "content-type": "application/x-pem-file", "x-kiln-key-id": key.keyId, "cache-control": "public, max-age=3600" });
    res.end(req.method === "HEAD" ? undefined : key.publicKeyPem);
    return true;
  }
  const zip = url.pathname === "/reports.zip";
  const match = /^\/reports\/([^/]+?)(\.json|\.pdf)?$/.exec(url.pathname);
  if (!zip && !match) return false;
  if (req.method !== "GET") return refuse(res, 405, { error: "use GET" });
  const viewer = await authorizeRead(req, res, db, api, "reports");
  if (!viewer) return true;
  if (zip) {
    await inHeavySlot(heavy, viewer, req, res, () => sendZip(req, res, db, key, url));
    return true;
  }
  const [, id = "", ext] = match as RegExpExecArray;
  if (!JOB_ID.test(id)) return refuse(res, 400, { error: "not a job id", field: "jobId" });
  let signed: SignedReport<BurnInReport>;
  try {
    signed = await signedReport(db, key, id);
  } catch (error) {
    if (error instanceof NotFoundError) return refuse(res, 404, { error: error.message });
    if (error instanceof JobStateError) return refuse(res, 409, { error: error.message, status: error.status });
    throw error;
  }
  if (ext === ".json") {
    res.writeHead(200, {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${reportFileName(signed, "json")}"`,
      "cache-control": "no-store",
    });
    res.end(`${JSON.stringify(signed, null, 2)}\n`);
  } else if (ext === ".pdf") {
    await inHeavySlot(heavy, viewer, req, res, async () => {
      const pdf = await renderPdf(signed, await verifyBaseOf(db, req));
      res.writeHead(200, {
        "content-type": "application/pdf",
        "content-disposition": `inline; filename="${reportFileName(signed, "pdf")}"`,
        "cache-control": "no-store",
      });
      res.end(pdf);
    });
  } else {
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": REPORT_CSP,
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    });
    res.end(renderReportHtml(signed));
  }
  return true;
}

/** pdfkit and its fonts load on the first PDF asked for, not with the server. */
async function renderPdf(signed: SignedReport<BurnInReport>, verifyBase: string): Promise<Buffer> {
  const { renderReportPdf } = await import("./pdf.js");
  return renderReportPdf(signed, { verifyBase });
}

/**
 * Where a PDF's QR code points: the public URL of the settings, else the address this request
 * came to (its Host; whoever sends another only changes the PDF they get back themselves).
 */
async function verifyBaseOf(db: Db, req: IncomingMessage): Promise<string> {
  const { publicUrl } = await getSettings(db);
  if (publicUrl) return publicUrl;
  const host = /^[A-Za-z0-9.:[\]-]{1,255}$/.test(req.headers.host ?? "") ? (req.headers.host as string) : "localhost";
  return `${(req.socket as { encrypted?: boolean }).encrypted ? "https" : "http"}://${host}`;
}
