// final_check: a second SMART snapshot and the verdict from its difference to the baseline.
import type { SmartReport } from "../../parsers/smartctl.js";
import { readSmartReport } from "../../services/inventory.js";
import { resumedJobs } from "../../services/resume-chain.js";
import { scanMbps, slowDriveWarning } from "../speed-outliers.js";
import { devicePathOf, onHost, type StageContext, type StageOutcome } from "../stage-context.js";
import { verdictFrom } from "../verdict.js";

/**
 * The scan's average speed, stored on the job, against the drives of the same model scanned
 * before (and in the same batch): a warning when it is far below their median.
 */
async function speedWarning(ctx: StageContext): Promise<string | null> {
  const { db, job, drive, settings } = ctx;
  const scan = await db.stage.findFirst({
    where: { jobId: job.id, name: "surface_validate", status: "passed" },
    select: { startedAt: true, finishedAt: true, pausedSeconds: true, bbPatterns: true },
  });
  if (!scan?.startedAt || !scan.finishedAt) return null;
  const patterns = scan.bbPatterns ? (JSON.parse(scan.bbPatterns) as string[]).length : 4;
  const seconds = (scan.finishedAt.getTime() - scan.startedAt.getTime()) / 1000 - scan.pausedSeconds;
  const mbps = scanMbps(Number(drive.sizeBytes ?? 0), patterns, ctx.options.passes ?? 1, seconds);
  if (mbps === null) return null;
  await ctx.write([], { scanMbps: mbps });
  if (!drive.model) return null;
  const peers = await db.burnInJob.findMany({
    where: { id: { not: job.id }, scanMbps: { not: null }, drive: { model: drive.model } },
    orderBy: { createdAt: "desc" },
    take: 200,
    select: { scanMbps: true },
  });
  return slowDriveWarning(
    mbps,
    peers.map((p) => p.scanMbps as number),
    drive.model,
    { percent: settings.slowDrivePercent, minPeers: settings.slowDriveMinPeers },
  );
}

/**
 * The SMART baseline the verdict compares against: that of the first run of a chain of resumed
 * jobs (a counter that rose while an interrupted part ran counts too), else the job's own.
 */
async function baselineOf(ctx: StageContext) {
  const { db, job } = ctx;
  const jobIds = [...(await resumedJobs(db, job.resumedFromId)), job.id];
  // The chain's parts ran one after another: the earliest baseline is its first part's.
  return db.smartSnapshot.findFirst({ where: { jobId: { in: jobIds }, kind: "baseline" }, orderBy: { takenAt: "asc" } });
}

export async function finalCheckStage(ctx: StageContext): Promise<StageOutcome> {
  const { db, job, drive } = ctx;
  const slow = await speedWarning(ctx);
  const final = await onHost(ctx, "reading SMART", () => readSmartReport(ctx.transport, devicePathOf(drive)));
  const origin = await baselineOf(ctx);
  if (!final) {
    await ctx.write([], {
      verdict: JSON.stringify({
        result: "passed",
        reasons: [],
        warnings: ["no SMART data: verdict from the surface scan and self-tests only", ...(slow ? [slow] : [])],
      }),
      verdictOutcome: "passed",
    });
    return { status: "passed", note: "no SMART data" };
  }
  await ctx.write([
    db.smartSnapshot.create({
      data: { driveId: drive.id, jobId: job.id, kind: "final", report: JSON.stringify(final), takenAt: new Date(ctx.now()) },
    }),
    db.drive.update({
      where: { id: drive.id },
      data: { temperatureC: final.temperatureC ?? null, powerOnHours: final.powerOnHours ?? null, smartHealth: final.health ?? "unknown" },
    }),
  ]);
  const baseline = origin ? (JSON.parse(origin.report) as SmartReport) : null;
  const compared = baseline
    ? verdictFrom(baseline, final)
    : {
        result: final.health === "failed" ? ("failed" as const) : ("passed" as const),
        reasons: final.health === "failed" ? ["SMART overall health: FAILED"] : [],
        warnings: ["no baseline snapshot to compare with"],
      };
  const verdict = slow ? { ...compared, warnings: [...compared.warnings, slow] } : compared;
  await ctx.write([], { verdict: JSON.stringify(verdict), verdictOutcome: verdict.result });
  for (const w of verdict.warnings) ctx.progress.log(`warning: ${w}`);
  for (const r of verdict.reasons) ctx.progress.log(`fail: ${r}`);
  if (verdict.result === "failed") return { status: "failed", error: verdict.reasons.join("; ") };
  return { status: "passed" };
}
