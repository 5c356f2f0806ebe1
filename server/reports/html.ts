// The burn-in report as one printable HTML page: no script, no external file (the speed chart is
// inline SVG). Every value is escaped: model, serial and firmware come from the host, which Kiln
// does not trust, and the route also sends a Content-Security-Policy that allows no script.

import { formatBytes } from "../units.js";
import type { BurnInReport, ReportPhase } from "./build.js";
import { erasureLine, sanitizeLine } from "./erasure.js";
import type { SignedReport } from "./signing.js";

const escapeHtml = (value: unknown): string =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

export function duration(seconds: number | null): string {
  if (seconds === null) return "–";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

/** "paused 2x: heat at 56 °C for 4 min; operator for 10 min", or "". */
export function pauseSummary(pauses: BurnInReport["stages"][number]["pauses"]): string {
  if (!pauses.length) return "";
  const parts = pauses.map((p) => {
    const seconds = p.continuedAt ? (Date.parse(p.continuedAt) - Date.parse(p.at)) / 1000 : null;
    return `${p.reason}${p.temperatureC !== null ? ` at ${p.temperatureC} °C` : ""}${seconds !== null ? ` for ${duration(seconds)}` : ""}`;
  });
  return `paused ${pauses.length}x: ${parts.join("; ")}`;
}

/** The report's "Drive and job" table, for the page and the PDF. */
export function identityRows(r: BurnInReport): Array<[string, string]> {
  return [
    ["Model", r.drive.model ?? "-"],
    ["Serial", r.drive.serial],
    ["WWN", r.drive.wwn ?? "-"],
    ["Firmware", r.drive.firmware ?? "-"],
    [
      "Capacity",
      r.drive.sizeBytes === null ? "-" : `${formatBytes(r.drive.sizeBytes)} (${r.drive.sizeBytes.toLocaleString("en-US")} bytes)`,
    ],
    ["Host", `${r.host.name} (${r.host.transport})`],
    ["Profile", r.job.profile],
    ["Options", Object.keys(r.job.options).length ? JSON.stringify(r.job.options) : "Kiln's defaults"],
    ["Started", r.job.startedAt ?? "-"],
    ["Finished", r.job.finishedAt ?? "-"],
  ];
}

export const PHASE_COLOURS = ["#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#d62728", "#7f7f7f"];

/** MB/s over the position on the disk, one line per phase, as SVG. */
function speedChart(phases: ReportPhase[]): string {
  const width = 640;
  const height = 220;
  const pad = { left: 48, right: 12, top: 12, bottom: 28 };
  const max = Math.max(1, ...phases.flatMap((p) => p.curve.map(([, mbps]) => mbps)));
  const x = (pct: number) => pad.left + (pct / 100) * (width - pad.left - pad.right);
  const y = (mbps: number) => height - pad.bottom - (mbps / max) * (height - pad.top - pad.bottom);
  const lines = phases
    .filter((p) => p.curve.length > 1)
    .map(
      (p) =>
        `<polyline fill="none" stroke="${PHASE_COLOURS[(p.phase - 1) % PHASE_COLOURS.length]}" stroke-width="1.5" points="${p.curve
          .map(([pct, mbps]) => `${x(pct).toFixed(1)},${y(mbps).toFixed(1)}`)
          .join(" ")}"><title>${escapeHtml(`${p.mode} ${p.pattern}`)}</title></polyline>`,
    )
    .join("");
  const ticks = [0, 0.5, 1]
    .map((f) => `<text x="${pad.left - 6}" y="${y(max * f) + 4}" text-anchor="end">${Math.round(max * f)}</text>`)
    .join("");
  const legend = phases
    .map(
      (p, i) =>
        `<span><i style="background:${PHASE_COLOURS[(p.phase - 1) % PHASE_COLOURS.length]}"></i>${escapeHtml(`${p.mode} ${p.pattern}`)}</span>${i % 2 ? " " : ""}`,
    )
    .join("");
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="MB/s over the position on the disk">
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#999"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#999"/>
${ticks}<text x="${pad.left}" y="${height - 8}">0%</text><text x="${width - pad.right}" y="${height - 8}" text-anchor="end">100% of the disk</text>
<text x="12" y="${pad.top + 8}">MB/s</text>${lines}</svg><p class="legend">${legend}</p>`;
}

const row = (cells: unknown[], tag = "td") => `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join("")}</tr>`;

/** An erasure claim (Clear, Purge): its line and what it does not reach. */
function statement(title: string, className: string, line: string, limits: string[]): string {
  return `<h2>${title}</h2><p class="${className}">${escapeHtml(line)}</p><ul>${limits.map((x) => `<li>${escapeHtml(x)}</li>`).join("")}</ul>`;
}

export function renderReportHtml(signed: SignedReport<BurnInReport>): string {
  const r = signed.report;
  const outcome = r.verdict?.outcome ?? r.job.status;
  const scan = r.surfaceScan;
  const identity = identityRows(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>${escapeHtml(`Burn-in report ${r.drive.serial}: ${outcome}`)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:780px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 8px 3px 0;border-bottom:1px solid #eee;vertical-align:top}
.verdict{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:600;color:#fff;background:#777}
.passed{background:#2e7d32}.failed{background:#c62828}.unknown{background:#b58900}.cancelled{background:#555}
.changed td{background:#fff3cd}.legend span{margin-right:12px;white-space:nowrap}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
svg{width:100%;height:auto;font-size:11px}code{font-size:12px;word-break:break-all}
@media print{body{margin:0}}
</style></head><body>
<h1>Kiln burn-in report</h1>
<p><span class="verdict ${escapeHtml(outcome)}">${escapeHtml(outcome.toUpperCase())}</span> ${escapeHtml(r.drive.model ?? "")} · ${escapeHtml(r.drive.serial)}</p>
${r.verdict?.reasons.length ? `<ul>${r.verdict.reasons.map((x) => `<li>${escapeHtml(x)}</li>`).join("")}</ul>` : ""}
${r.verdict?.warnings.length ? `<p>Warnings:</p><ul>${r.verdict.warnings.map((x) => `<li>${escapeHtml(x)}</li>`).join("")}</ul>` : ""}
${r.job.errorText ? `<p>${escapeHtml(r.job.errorText)}</p>` : ""}
${r.erasure ? statement("Erasure", "erasure", erasureLine(r.erasure), r.erasure.limits) : ""}
${r.sanitize ? statement("Sanitize", "sanitize", sanitizeLine(r.sanitize), r.sanitize.limits) : ""}
<h2>Drive and job</h2><table>${identity.map(([k, v]) => row([k, v])).join("")}</table>
<h2>Stages</h2><table>${row(["Stage", "Result", "Time", "Note"], "th")}${r.stages
    .map((s) => row([s.name, s.status, duration(s.seconds), [s.errorText, pauseSummary(s.pauses)].filter(Boolean).join("; ")]))
    .join("")}</table>
${
  scan
    ? `<h2>Surface scan (badblocks -w)</h2>
<p>Average ${escapeHtml(scan.averageMbps ?? "–")} MB/s over the scan · bad blocks: <b>${scan.badBlocks}</b>${scan.badBlockList.length ? ` (${escapeHtml(scan.badBlockList.slice(0, 200).join(", "))}${scan.badBlockList.length > 200 ? ", …" : ""})` : ""} · block size ${escapeHtml(scan.blockSize ?? "–")} · ${escapeHtml(scan.blocksAtOnce ?? "–")} blocks at once</p>
<table>${row(["Phase", "Pattern", "Time", "Average MB/s"], "th")}${scan.phases
        .map((p) => row([`${p.phase} ${p.mode}`, p.pattern, duration(p.seconds), p.averageMbps ?? "–"]))
        .join("")}</table>${speedChart(scan.phases)}`
    : ""
}
<h2>Temperature</h2><p>${
    r.temperature
      ? `${r.temperature.minC} °C min, ${r.temperature.meanC} °C mean, ${r.temperature.maxC} °C max (${r.temperature.readings} readings)`
      : "no readings"
  }</p>
<h2>SMART before and after</h2>
<p>Health: ${escapeHtml(r.smart.before?.health ?? "not reported")} → ${escapeHtml(r.smart.after?.health ?? "not reported")}</p>
<table>${row(["Figure", "Before", "After"], "th")}${r.smart.changes
    .map(
      (c) =>
        `<tr${c.changed ? ' class="changed"' : ""}><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.before ?? "–")}</td><td>${escapeHtml(c.after ?? "–")}</td></tr>`,
    )
    .join("")}</table>
<h2>Signature</h2>
<p>Signed by this Kiln's report key <code>${escapeHtml(signed.signature.keyId)}</code> (Ed25519 over the RFC 8785 canonical JSON of the report, SHA-256 <code>${escapeHtml(signed.signature.sha256)}</code>). The JSON form of this report and the key at <code>/.well-known/kiln-report-key</code> let anyone check it: <code>kiln verify report.json --key kiln-report-key.pem</code>.</p>
<p>Job <code>${escapeHtml(r.job.id)}</code> · Kiln ${escapeHtml(r.kiln.version)}</p>
</body></html>`;
}
