// sanitize: the drive's own erase of everything it stores (NVMe Sanitize, ATA SANITIZE: block
// erase, crypto erase or overwrite), asked for as the job's last stage. The drive runs it in its
// firmware; Kiln issues the command once, then follows the drive's sanitize status. What was
// issued is written on the stage before and after the command goes out, so a Kiln restart follows
// the same operation instead of starting another. It cannot be paused, and a cancel cannot stop it
// (the drive goes on until it is done): the stage says so.
import { parseStoredJson } from "../../db/stored-json.js";
import { parseHostJson } from "../../parsers/host-json.js";
import {
  HDPARM_SANITIZE_ARGS,
  NVME_SANACT,
  parseHdparmSanitizeStatus,
  parseNvmeSanitizeLog,
  SANITIZE_METHOD_WORDS,
  type SanitizeMethod,
  type SanitizeStatus,
} from "../../parsers/sanitize.js";
import { TransportError } from "../../transport/types.js";
import { probeSanitize, type SanitizeCommandSet, sanitizeRefusal } from "../sanitize-support.js";
import { devicePathOf, onHost, pause, type StageContext, type StageOutcome, stopReason } from "../stage-context.js";
import { checkBeforeWrite } from "../write-guard.js";

/** Stage.sanitize: what was issued, and how it ended (the report's sanitize section). */
export interface SanitizeRun {
  method: SanitizeMethod;
  commandSet: SanitizeCommandSet;
  /** The command the drive got, as run. */
  command: string[];
  /** Set right before the command goes out; issuedAt once the drive accepted it. */
  issuingAt: string;
  issuedAt: string | null;
  endedAt: string | null;
  result: "running" | "passed" | "failed" | "unknown" | "cancelled";
  /** The drive's last words on it (its sanitize status). */
  said: string | null;
}

/** Polls that see the drive idle right after the command, before Kiln calls it not started. */
const IDLE_POLLS_ALLOWED = 3;

export async function sanitizeStage(ctx: StageContext): Promise<StageOutcome> {
  const method = ctx.options.sanitize;
  if (!method) return { status: "unknown", error: "sanitize: the job names no sanitize method" };
  const device = devicePathOf(ctx.drive);
  const words = SANITIZE_METHOD_WORDS[method];
  let run = parseStoredJson<SanitizeRun>(ctx.stage.sanitize);
  const save = async (changes: Partial<SanitizeRun>) => {
    run = { ...(run as SanitizeRun), ...changes };
    ctx.stage.sanitize = JSON.stringify(run);
    await ctx.write([ctx.db.stage.update({ where: { id: ctx.stage.id }, data: { sanitize: ctx.stage.sanitize } })]);
  };
  const end = async (outcome: StageOutcome, said: string | null): Promise<StageOutcome> => {
    if (outcome.status === "detached") return outcome;
    await save({ endedAt: new Date(ctx.now()).toISOString(), result: outcome.status, said });
    return outcome;
  };

  if (!run?.issuedAt) {
    // Nothing is erased yet: the same checks as before a write, then the drive is asked again.
    const guard = await checkBeforeWrite(ctx);
    if (guard) return guard;
    const support = await onHost(ctx, "asking the drive what sanitize it supports", () =>
      probeSanitize(ctx.transport, device, ctx.drive.busType),
    );
    const refusal = sanitizeRefusal(support, method);
    if (refusal || !support.supported) {
      return { status: "unknown", error: `sanitize (${words}) not started: ${device} ${refusal ?? "is not supported"}` };
    }
    const commandSet = support.commandSet;
    const command = commandOf(commandSet, method, device);
    const status = await readStatus(ctx, commandSet, device);
    // A sanitize already running is the one this stage issued just before a restart (its
    // issuedAt was not written yet): follow it rather than issue another.
    // NVMe names the action that ended last: a quick one may have ended before the restart.
    const oursEnded = status.state === "succeeded" && status.lastMethod === method;
    if ((status.state === "in_progress" || oursEnded) && run?.issuingAt) {
      ctx.progress.log(`following the ${words} already running on ${device} (${status.said})`);
      await save({ issuedAt: run.issuingAt, result: "running", said: status.said });
    } else if (status.state === "in_progress") {
      return {
        status: "unknown",
        error: `sanitize (${words}) not started: ${device} is already running a sanitize Kiln did not issue (${status.said})`,
      };
    } else {
      const issuingAt = new Date(ctx.now()).toISOString();
      run = { method, commandSet, command, issuingAt, issuedAt: null, endedAt: null, result: "running", said: status.said };
      await save({});
      ctx.progress.log(`issuing ${command.join(" ")} (the drive's sanitize state before: ${status.said})`);
      // Sent once, never retried: a command whose answer was lost may have started the sanitize,
      // and the drive's status (below) tells whether it did.
      let result: Awaited<ReturnType<typeof ctx.transport.exec>> | null = null;
      try {
        result = await ctx.transport.exec(command, { timeoutMs: ctx.transport.commandTimeouts().smartMs });
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        ctx.progress.log(`the sanitize command's answer was lost (${error.message}): the drive's status tells whether it started`);
      }
      if (result && result.code !== 0) {
        const said = (result.stderr.trim() || result.stdout.toString("utf8").trim()).slice(0, 300) || "no message";
        return end({ status: "unknown", error: `the drive refused the ${words}: ${command[0]} exited ${result.code}: ${said}` }, said);
      }
      await save({ issuedAt: new Date(ctx.now()).toISOString() });
      ctx.progress.log(`${words} started on ${device}: it runs in the drive and cannot be stopped or paused`);
    }
  } else {
    ctx.progress.log(`following the ${words} issued at ${run.issuedAt} on ${device}`);
  }

  const current = run as SanitizeRun;
  ctx.progress.update({ progressPct: Math.max(ctx.stage.progressPct, 1) }, { immediate: true });
  const pollMs = Math.max(1000, ctx.settings.smartPollSeconds * 1000);
  let idlePolls = 0;
  let sawRunning = false;
  for (;;) {
    const status = await readStatus(ctx, current.commandSet, device);
    if (status.state === "in_progress") {
      sawRunning = true;
      if (status.percent !== null) ctx.progress.update({ progressPct: Math.max(1, Math.min(99, status.percent)) });
    } else if (status.state === "succeeded") {
      // NVMe names the action of the last sanitize: it must be this one.
      if (status.lastMethod !== null && status.lastMethod !== method) {
        return end(
          {
            status: "unknown",
            error: `the drive's log shows a ${SANITIZE_METHOD_WORDS[status.lastMethod]} ended, not the ${words} Kiln issued`,
          },
          status.said,
        );
      }
      ctx.progress.log(`${words} done: ${status.said}`);
      return end({ status: "passed" }, status.said);
    } else if (status.state === "failed") {
      return end(
        {
          status: "failed",
          error: `the drive reports its ${words} failed (${status.said})${current.commandSet === "nvme" ? ": it stays in sanitize failure mode until a sanitize succeeds" : ""}`,
        },
        status.said,
      );
    } else if (status.state === "frozen") {
      return end({ status: "unknown", error: `the drive's sanitize is frozen (${status.said}): the ${words} did not run` }, status.said);
    } else if (++idlePolls > IDLE_POLLS_ALLOWED && !sawRunning) {
      return end(
        { status: "unknown", error: `the drive accepted the ${words} but its sanitize status shows none running or done (${status.said})` },
        status.said,
      );
    }
    await pause(ctx, pollMs);
    const reason = stopReason(ctx.signal);
    if (reason === "shutdown") return { status: "detached" };
    if (reason === "cancel") {
      ctx.progress.log(`[CANCELLED] Kiln stops following; the drive goes on with its ${words} (it cannot be stopped)`);
      return end(
        {
          status: "cancelled",
          error: `cancelled by the operator; the drive goes on with its ${words} until it is done (a sanitize cannot be stopped)`,
        },
        null,
      );
    }
  }
}

function commandOf(commandSet: SanitizeCommandSet, method: SanitizeMethod, device: string): string[] {
  if (commandSet === "nvme") {
    const overwrite = method === "overwrite" ? ["--owpass=1", "--ovrpat=0"] : [];
    return ["nvme", "sanitize", device, `--sanact=${NVME_SANACT[method]}`, ...overwrite];
  }
  return ["hdparm", "--yes-i-know-what-i-am-doing", ...HDPARM_SANITIZE_ARGS[method], device];
}

async function readStatus(ctx: StageContext, commandSet: SanitizeCommandSet, device: string): Promise<SanitizeStatus> {
  const argv = commandSet === "nvme" ? ["nvme", "sanitize-log", device, "-o", "json"] : ["hdparm", "--sanitize-status", device];
  const result = await onHost(ctx, "reading the drive's sanitize status", () =>
    ctx.transport.exec(argv, { timeoutMs: ctx.transport.commandTimeouts().smartMs, maxStdoutBytes: 64 * 1024 }),
  );
  const text = result.stdout.toString("utf8");
  if (result.code !== 0) {
    throw new Error(`${argv.slice(0, 2).join(" ")} exited ${result.code}: ${(result.stderr.trim() || text.trim()).slice(0, 200)}`);
  }
  return commandSet === "nvme" ? parseNvmeSanitizeLog(parseHostJson(text, "nvme sanitize-log")) : parseHdparmSanitizeStatus(text);
}
