// smart_short / smart_long / nvme_selftest: start the drive's own self-test, follow its percent
// remaining, and read the result from its self-test log. The drive runs the test by itself, so
// a Kiln restart leaves it running and the next start follows it again.
import { parseHostJson } from "../../parsers/host-json.js";
import { type SmartReport, smartctlMessages } from "../../parsers/smartctl.js";
import { readSmartReport } from "../../services/inventory.js";
import { devicePathOf, onHost, pause, type StageContext, type StageOutcome, stopReason } from "../stage-context.js";

const MARGIN_MS = 5 * 60_000;
/** When a drive does not say how long its test takes. */
const FALLBACK_MINUTES = { short: 2, extended: 24 * 60 };

export async function selfTestStage(ctx: StageContext, kind: "short" | "extended"): Promise<StageOutcome> {
  const device = devicePathOf(ctx.drive);
  const read = () => onHost(ctx, "reading SMART", () => readSmartReport(ctx.transport, device));
  const before = await read();
  // A test that never ran says nothing about the drive: unknown, never failed.
  if (!before) return { status: "unknown", error: `smartctl cannot read ${device}: no self-test possible` };
  const minutes = before.selfTestMinutes[kind] ?? FALLBACK_MINUTES[kind];
  const deadline = (ctx.stage.startedAt?.getTime() ?? ctx.now()) + minutes * 60_000 * 1.5 + MARGIN_MS;
  // Poll often enough to see progress move, rarely enough not to bother the drive.
  const pollMs = Math.min(ctx.settings.smartPollSeconds * 1000, Math.max(1000, (minutes * 60_000) / 20));
  const entriesBefore = before.selfTests.length;

  // A test already running on entry is ours from before a restart: follow it, do not restart it.
  const resuming = ctx.stage.progressPct > 0 && before.selfTestRunning === true;
  if (!resuming) {
    const flag = kind === "short" ? "short" : "long";
    const started = await onHost(ctx, "starting the self-test", () =>
      ctx.transport.exec(["smartctl", "-t", flag, "-j", device], { timeoutMs: 60_000 }),
    );
    // Bit 0-2 of smartctl's exit status: the command could not be run at all (the device gone,
    // the command refused): the test did not run.
    if (started.code !== null && (started.code & 0b111) !== 0) {
      return {
        status: "unknown",
        error: `smartctl -t ${flag} ${device} failed (exit ${started.code}): ${smartctlSaid(started.stdout.toString("utf8"), started.stderr)}`,
      };
    }
    ctx.progress.log(`started ${kind} self-test on ${device} (drive says ${minutes} min)`);
  } else {
    ctx.progress.log(`following the ${kind} self-test already running on ${device}`);
  }
  ctx.progress.update({ progressPct: Math.max(ctx.stage.progressPct, 1) }, { immediate: true });

  let report: SmartReport | null = before;
  let sawRunning = resuming;
  const newestBefore = JSON.stringify(before.selfTests.find((entry) => !entry.running) ?? null);
  for (;;) {
    await pause(ctx, pollMs);
    const reason = stopReason(ctx.signal);
    if (reason === "shutdown") return { status: "detached" };
    if (reason === "cancel") {
      await ctx.transport.exec(["smartctl", "-X", device]).catch(() => {});
      ctx.progress.log("[ABORTED] self-test aborted by cancel");
      return { status: "cancelled", error: "cancelled by the operator" };
    }
    report = await read();
    if (!report) return { status: "unknown", error: `smartctl stopped answering for ${device} during the self-test` };
    if (report.temperatureC !== undefined) ctx.progress.temperatureC = report.temperatureC;
    if (report.selfTestRunning) {
      sawRunning = true;
      ctx.progress.update({ progressPct: runningPercent(report, ctx, minutes) });
      if (ctx.now() > deadline) {
        await ctx.transport.exec(["smartctl", "-X", device]).catch(() => {});
        return {
          status: "unknown",
          error: `the ${kind} self-test did not finish within ${Math.round((deadline - (ctx.stage.startedAt?.getTime() ?? 0)) / 60_000)} min; aborted it`,
        };
      }
      continue;
    }
    // Not running any more: the newest log entry is the result.
    const newest = report.selfTests.find((entry) => !entry.running);
    const logged = report.selfTests.length > entriesBefore || JSON.stringify(newest ?? null) !== newestBefore;
    if (!newest || !(logged || sawRunning)) {
      // The drive has not logged it yet (some only log at the end): keep waiting until the deadline.
      if (ctx.now() > deadline) return { status: "unknown", error: `the ${kind} self-test left no entry in the self-test log` };
      continue;
    }
    ctx.progress.log(`self-test log: ${newest.type}: ${newest.status}${newest.lba !== undefined ? ` at LBA ${newest.lba}` : ""}`);
    // "Short offline self-test", "Background short self-test", "Extended self-test" (NVMe names it so).
    const test = /self-test$/i.test(newest.type) ? newest.type : `${newest.type} self-test`;
    if (newest.passed === false) {
      return {
        status: "failed",
        error: `${test}: ${newest.status}${newest.lba !== undefined ? ` (first error at LBA ${newest.lba})` : ""}`,
      };
    }
    // Aborted (by a reset, another command, the host): it says nothing about the drive.
    if (newest.passed === null) return { status: "unknown", error: `${test}: ${newest.status}: no result` };
    return { status: "passed" };
  }
}

/**
 * The stage's percent while the test runs: the drive's own figure, or, when it gives none (SAS
 * drives under smartctl before 7.4), the time spent against the time the drive needs, held
 * below 95% until the log says it ended.
 */
function runningPercent(report: SmartReport, ctx: StageContext, minutes: number): number {
  if (report.selfTestRemainingPct !== undefined) return Math.max(1, 100 - report.selfTestRemainingPct);
  const elapsed = ctx.now() - (ctx.stage.startedAt?.getTime() ?? ctx.now());
  return Math.max(1, Math.min(95, Math.round((elapsed / (minutes * 60_000)) * 100)));
}

/** What smartctl said when it failed: its JSON messages, else its own words (bounded). */
function smartctlSaid(stdout: string, stderr: string): string {
  try {
    const said = smartctlMessages(parseHostJson(stdout, "smartctl -j")).join("; ");
    if (said) return said.slice(0, 300);
  } catch {
    // not JSON: the text itself
  }
  return (stderr.trim() || stdout.trim()).slice(0, 300) || "no message";
}
