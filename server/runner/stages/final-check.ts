// final_check: a second SMART snapshot and the verdict from its difference to the baseline.
import type { SmartReport } from "../../parsers/smartctl.js";
import { readSmartReport } from "../../services/inventory.js";
import { devicePathOf, onHost, type StageContext, type StageOutcome } from "../stage-context.js";
import { verdictFrom } from "../verdict.js";

export async function finalCheckStage(ctx: StageContext): Promise<StageOutcome> {
  const { db, job, drive } = ctx;
  const final = await onHost(ctx, "reading SMART", () => readSmartReport(ctx.transport, devicePathOf(drive)));
  const baselineRow = await db.smartSnapshot.findFirst({ where: { jobId: job.id, kind: "baseline" }, orderBy: { takenAt: "desc" } });
  // A resumed job compares against the baseline of the run it resumes.
  const origin =
    baselineRow ?? (job.resumedFromId ? await db.smartSnapshot.findFirst({ where: { jobId: job.resumedFromId, kind: "baseline" } }) : null);
  if (!final) {
    await db.burnInJob.update({
      where: { id: job.id },
      data: {
        verdict: JSON.stringify({
          result: "passed",
          reasons: [],
          warnings: ["no SMART data: verdict from the surface scan and self-tests only"],
        }),
        verdictOutcome: "passed",
      },
    });
    return { status: "passed", note: "no SMART data" };
  }
  await db.smartSnapshot.create({
    data: { driveId: drive.id, jobId: job.id, kind: "final", report: JSON.stringify(final), takenAt: new Date(ctx.now()) },
  });
  await db.drive.update({
    where: { id: drive.id },
    data: { temperatureC: final.temperatureC ?? null, powerOnHours: final.powerOnHours ?? null, smartHealth: final.health ?? "unknown" },
  });
  const baseline = origin ? (JSON.parse(origin.report) as SmartReport) : null;
  const verdict = baseline
    ? verdictFrom(baseline, final)
    : {
        result: final.health === "failed" ? ("failed" as const) : ("passed" as const),
        reasons: final.health === "failed" ? ["SMART overall health: FAILED"] : [],
        warnings: ["no baseline snapshot to compare with"],
      };
  await db.burnInJob.update({ where: { id: job.id }, data: { verdict: JSON.stringify(verdict), verdictOutcome: verdict.result } });
  for (const w of verdict.warnings) ctx.progress.log(`warning: ${w}`);
  for (const r of verdict.reasons) ctx.progress.log(`fail: ${r}`);
  if (verdict.result === "failed") return { status: "failed", error: verdict.reasons.join("; ") };
  return { status: "passed" };
}
