// The burn-in report as a PDF (pdfkit: pure JavaScript, no browser on the server), with the speed
// chart drawn as vector lines. The built-in Helvetica covers Latin-1 only: other characters a
// host reported are printed as "?" rather than breaking the page.

import PDFDocument from "pdfkit";
import QRCode from "qrcode";
import type { BurnInReport } from "./build.js";
import { erasureLine, sanitizeLine } from "./erasure.js";
import { duration, identityRows, PHASE_COLOURS, pauseSummary } from "./html.js";
import type { SignedReport } from "./signing.js";

const OUTCOME_COLOURS: Record<string, string> = { passed: "#2e7d32", failed: "#c62828", unknown: "#b58900", cancelled: "#555555" };
const latin1 = (value: unknown): string => String(value ?? "").replace(/[^\x20-\x7e\xa0-\xff]/g, "?");

/**
 * The address the report's QR code opens: /verify of this Kiln (its public URL, else the address
 * the PDF was asked on) with the report's job id, SHA-256 and key id, which the page checks the
 * chosen file against.
 */
export function verifyLink(base: string, signed: SignedReport<BurnInReport>): string {
  const query = new URLSearchParams({ id: signed.report.job.id, sha256: signed.signature.sha256, key: signed.signature.keyId });
  return `${base.replace(/\/+$/, "")}/verify?${query}`;
}

export function renderReportPdf(signed: SignedReport<BurnInReport>, options: { verifyBase: string }): Promise<Buffer> {
  const r = signed.report;
  const doc = new PDFDocument({
    size: "A4",
    margin: 48,
    info: { Title: latin1(`Burn-in report ${r.drive.serial}`), Author: "Kiln", Subject: latin1(r.drive.model ?? "") },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  const heading = (text: string) => {
    if (doc.y > doc.page.height - 140) doc.addPage();
    doc.moveDown(0.8).font("Helvetica-Bold").fontSize(12).fillColor("#000").text(text, left);
    doc
      .moveTo(left, doc.y + 1)
      .lineTo(left + width, doc.y + 1)
      .strokeColor("#cccccc")
      .lineWidth(0.5)
      .stroke();
    doc.moveDown(0.3).font("Helvetica").fontSize(9.5);
  };
  const table = (rows: unknown[][], columns: number[], header = false) => {
    for (const [i, cells] of rows.entries()) {
      if (doc.y > doc.page.height - 70) doc.addPage();
      const y = doc.y;
      let x = left;
      let bottom = y;
      doc.font(header && i === 0 ? "Helvetica-Bold" : "Helvetica");
      cells.forEach((cell, c) => {
        const w = (columns[c] ?? 0.25) * width;
        doc.text(latin1(cell), x, y, { width: w - 6 });
        bottom = Math.max(bottom, doc.y);
        x += w;
      });
      doc.x = left;
      doc.y = bottom + 2;
    }
    doc.font("Helvetica");
  };

  const outcome = r.verdict?.outcome ?? r.job.status;
  doc.font("Helvetica-Bold").fontSize(18).text("Kiln burn-in report", left);
  doc.moveDown(0.3);
  const badgeY = doc.y;
  doc.roundedRect(left, badgeY, 90, 20, 3).fill(OUTCOME_COLOURS[outcome] ?? "#777777");
  doc
    .fillColor("#ffffff")
    .fontSize(11)
    .text(outcome.toUpperCase(), left, badgeY + 5, { width: 90, align: "center" });
  doc
    .fillColor("#000000")
    .font("Helvetica")
    .fontSize(11)
    .text(latin1(`${r.drive.model ?? ""}  ·  ${r.drive.serial}`), left + 100, badgeY + 5);
  doc.x = left;
  doc.y = badgeY + 28;
  doc.fontSize(9.5);
  for (const reason of r.verdict?.reasons ?? []) doc.fillColor("#c62828").text(latin1(`- ${reason}`));
  for (const warning of r.verdict?.warnings ?? []) doc.fillColor("#8a6d00").text(latin1(`- warning: ${warning}`));
  if (r.job.errorText) doc.fillColor("#000000").text(latin1(r.job.errorText));
  doc.fillColor("#000000");

  // An erasure claim (Clear, Purge): its line, green when claimed, and what it does not reach.
  const statement = (title: string, claimed: boolean, line: string, limits: string[]) => {
    heading(title);
    doc
      .fontSize(9.5)
      .fillColor(claimed ? "#2e7d32" : "#000000")
      .text(latin1(line));
    doc.fillColor("#555555").fontSize(8);
    for (const limit of limits) doc.text(latin1(`- ${limit}`));
    doc.fillColor("#000000");
  };
  if (r.erasure) statement("Erasure", r.erasure.claimed, erasureLine(r.erasure), r.erasure.limits);
  if (r.sanitize) statement("Sanitize", r.sanitize.claimed, sanitizeLine(r.sanitize), r.sanitize.limits);

  heading("Drive and job");
  table(identityRows(r), [0.25, 0.75]);

  heading("Stages");
  table(
    [
      ["Stage", "Result", "Time", "Note"],
      ...r.stages.map((s) => [s.name, s.status, duration(s.seconds), [s.errorText, pauseSummary(s.pauses)].filter(Boolean).join("; ")]),
    ],
    [0.22, 0.14, 0.16, 0.48],
    true,
  );

  const scan = r.surfaceScan;
  if (scan) {
    heading("Surface scan (badblocks -w)");
    doc.text(
      latin1(
        `Average ${scan.averageMbps ?? "-"} MB/s over the scan; bad blocks: ${scan.badBlocks}${scan.badBlockList.length ? ` (${scan.badBlockList.slice(0, 60).join(", ")}${scan.badBlockList.length > 60 ? ", ..." : ""})` : ""}; block size ${scan.blockSize ?? "-"}, ${scan.blocksAtOnce ?? "-"} blocks at once`,
      ),
    );
    doc.moveDown(0.3);
    table(
      [
        ["Phase", "Pattern", "Time", "Average MB/s"],
        ...scan.phases.map((p) => [`${p.phase} ${p.mode}`, p.pattern, duration(p.seconds), p.averageMbps ?? "-"]),
      ],
      [0.22, 0.18, 0.3, 0.3],
      true,
    );
    const chartPhases = scan.phases.filter((p) => p.curve.length > 1);
    if (chartPhases.length) {
      if (doc.y > doc.page.height - 230) doc.addPage();
      doc.moveDown(0.5);
      const top = doc.y;
      const plot = { x: left + 36, y: top + 6, w: width - 40, h: 150 };
      const max = Math.max(1, ...chartPhases.flatMap((p) => p.curve.map(([, mbps]) => mbps)));
      doc.lineWidth(0.5).strokeColor("#999999");
      doc
        .moveTo(plot.x, plot.y)
        .lineTo(plot.x, plot.y + plot.h)
        .lineTo(plot.x + plot.w, plot.y + plot.h)
        .stroke();
      doc.fontSize(7.5).fillColor("#444444");
      for (const f of [0, 0.5, 1])
        doc.text(String(Math.round(max * f)), left, plot.y + plot.h - f * plot.h - 4, { width: 32, align: "right" });
      doc.text("MB/s", left, plot.y - 10);
      doc.text("0%", plot.x, plot.y + plot.h + 3);
      doc.text("100% of the disk", plot.x + plot.w - 80, plot.y + plot.h + 3, { width: 80, align: "right" });
      for (const p of chartPhases) {
        const colour = PHASE_COLOURS[(p.phase - 1) % PHASE_COLOURS.length] as string;
        p.curve.forEach(([pct, mbps], i) => {
          const x = plot.x + (pct / 100) * plot.w;
          const y = plot.y + plot.h - (mbps / max) * plot.h;
          if (i === 0) doc.moveTo(x, y);
          else doc.lineTo(x, y);
        });
        doc.lineWidth(1).strokeColor(colour).stroke();
      }
      let lx = plot.x;
      const ly = plot.y + plot.h + 14;
      for (const p of chartPhases) {
        doc.rect(lx, ly + 1, 6, 6).fill(PHASE_COLOURS[(p.phase - 1) % PHASE_COLOURS.length] as string);
        doc.fillColor("#444444").text(`${p.mode} ${p.pattern}`, lx + 9, ly, { lineBreak: false });
        lx += 62;
      }
      doc.x = left;
      doc.y = ly + 14;
      doc.fillColor("#000000").fontSize(9.5);
    }
  }

  heading("Temperature");
  doc.text(
    r.temperature
      ? `${r.temperature.minC} °C min, ${r.temperature.meanC} °C mean, ${r.temperature.maxC} °C max (${r.temperature.readings} readings)`
      : "no readings",
  );

  heading("SMART before and after");
  doc.text(latin1(`Health: ${r.smart.before?.health ?? "not reported"} -> ${r.smart.after?.health ?? "not reported"}`));
  doc.moveDown(0.3);
  table(
    [
      ["Figure", "Before", "After", ""],
      ...r.smart.changes.map((c) => [c.name, c.before ?? "-", c.after ?? "-", c.changed ? "changed" : ""]),
    ],
    [0.46, 0.18, 0.18, 0.18],
    true,
  );

  heading("Signature");
  // The QR code (error correction M, 2.2 pt modules: about 3 cm for a 100-character link) at the
  // left, the text beside it.
  const link = verifyLink(options.verifyBase, signed);
  const qr = QRCode.create(link, { errorCorrectionLevel: "M" });
  const module = 2.2;
  const side = (qr.modules.size + 8) * module;
  if (doc.y + side > doc.page.height - doc.page.margins.bottom) doc.addPage();
  const top = doc.y;
  doc.rect(left, top, side, side).fill("#ffffff");
  for (let row = 0; row < qr.modules.size; row++) {
    for (let col = 0; col < qr.modules.size; col++) {
      if (qr.modules.get(row, col)) doc.rect(left + (col + 4) * module, top + (row + 4) * module, module, module);
    }
  }
  doc.fill("#000000");
  doc.text(
    latin1(
      `Signed by this Kiln's report key ${signed.signature.keyId}: Ed25519 over the RFC 8785 canonical JSON of the report, whose SHA-256 is ${signed.signature.sha256}. The JSON form of this report and the key at /.well-known/kiln-report-key let anyone check it: in a browser at ${link} (the QR code; the file is checked there and not sent), or kiln verify report.json --key kiln-report-key.pem. Job ${r.job.id}, Kiln ${r.kiln.version}.`,
    ),
    left + side + 8,
    top,
    { width: width - side - 8 },
  );
  doc.y = Math.max(doc.y, top + side);
  doc.end();
  return done;
}
