// Starting, cancelling and resuming burn-ins. Validation and the refusals a user sees (in use,
// busy, missing, unreachable) happen here, before anything is queued; the runner does the work.
import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/client.js";
import type { BurnInJob, Drive, Host } from "../db/generated/sqlite/client.js";
import {
  DriveBusyError,
  DriveInActiveUseError,
  DriveInUseError,
  DriveMissingError,
  HostKeyMismatchError,
  HostKeyUntrustedError,
  HostUnreachableError,
  JobStateError,
  NotFoundError,
  UnlockRequiredError,
  ValidationError,
} from "../errors.js";
import { publishJobState } from "../events/job-state.js";
import type { KilnPubSub } from "../events/pubsub.js";
import { STANDARD_PATTERNS } from "../parsers/badblocks.js";
import { type FioStart, resumePoint } from "../parsers/fio.js";
import { SANITIZE_METHOD_WORDS, SANITIZE_METHODS, type SanitizeMethod } from "../parsers/sanitize.js";
import { COMMAND_TIMEOUT_MS, EventBusDown } from "../runner/commands.js";
import { chooseGeometry } from "../runner/geometry.js";
import type { PauseAction } from "../runner/job-control.js";
import { jobStages, PROFILE_NAMES, type ProfileName, profileWrites, type StagePlan, scanEngineOf } from "../runner/profiles.js";
import type { JobRunner } from "../runner/runner.js";
import { probeSanitize, sanitizeRefusal } from "../runner/sanitize-support.js";
import { FIO_PATTERN } from "../runner/scan-phases.js";
import type { JobOptions } from "../runner/stage-context.js";
import { scanBytes } from "../runner/stages/surface-fio.js";
import { TransportError } from "../transport/types.js";
import { audit } from "./audit.js";
import { activeUsage, parseUsage } from "./drive-usage.js";
import type { HostRegistry } from "./host-registry.js";
import { badblocksDefaults, getSettings } from "./settings.js";
import { findUsableGrant, whyNoGrant } from "./unlock.js";

export interface JobDeps {
  db: Db;
  /** The hosts' transports: a sanitize asked for is checked with the drive before anything is queued. */
  registry: Pick<HostRegistry, "transportFor">;
  runner: Pick<JobRunner, "wake" | "cancel" | "isRunning" | "pauseOrContinue" | "commandHolder">;
  pubsub: KilnPubSub;
}

const powerOfTwo = (n: number) => (n & (n - 1)) === 0;

const optionsSchema = z
  .object({
    blockSize: z
      .number()
      .int()
      .min(512)
      .max(1 << 20)
      .refine(powerOfTwo, "must be a power of two (512 ... 1048576)")
      .optional(),
    blocksAtOnce: z.number().int().min(1).max(65_536).optional(),
    passes: z.number().int().min(1).max(16).optional(),
    maxBadBlocks: z.number().int().min(1).max(10_000_000).optional(),
    readDelayFactor: z.number().int().min(1).max(10_000).optional(),
    simulateSeconds: z.number().min(1).max(86_400).optional(),
    simulateHz: z.number().min(0.1).max(50).optional(),
    sanitize: z.enum(SANITIZE_METHODS).optional(),
  })
  .strict();

function validOptions(raw: unknown): JobOptions {
  const parsed = optionsSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? `options.${issue.path.join(".")}` : "options";
  throw new ValidationError(
    field,
    issue?.code === "unrecognized_keys" ? `unknown option(s) ${issue.keys.join(", ")}` : (issue?.message ?? "is invalid"),
  );
}

export interface StartInput {
  driveIds: string[];
  profile: string;
  options?: unknown;
  idempotencyKey?: string | null;
  /** A write scan on drives that report themselves as SSDs: done only when the caller says so. */
  confirmSsdWrite?: boolean | null;
}

type DriveWithHost = Drive & { host: Host };

/**
 * Queue one job per drive, all or none. The same idempotency key with the same input returns the
 * jobs of the first call; with different input it is refused.
 */
export async function startBurnIn(deps: JobDeps, input: StartInput, actor: string, now = new Date()): Promise<BurnInJob[]> {
  const { db } = deps;
  if (!(PROFILE_NAMES as readonly string[]).includes(input.profile)) {
    throw new ValidationError("profile", `unknown profile "${input.profile}" (${PROFILE_NAMES.join(", ")})`);
  }
  const profile = input.profile as ProfileName;
  const given = validOptions(input.options);
  const driveIds = [...new Set(input.driveIds)];
  if (driveIds.length === 0) throw new ValidationError("driveIds", "name at least one drive");
  if (driveIds.length > 500) throw new ValidationError("driveIds", "at most 500 drives per call");
  const key = input.idempotencyKey?.trim() || null;
  if (key !== null && !/^[A-Za-z0-9._:-]{1,100}$/.test(key))
    throw new ValidationError("idempotencyKey", "use 1-100 letters, digits, '.', '_', ':' or '-'");
  const requestHash = createHash("sha256")
    .update(JSON.stringify({ driveIds: [...driveIds].sort(), profile, options: given }))
    .digest("hex");
  if (key) {
    const earlier = await db.burnInJob.findMany({
      where: { idempotencyKey: { startsWith: `${key}#` } },
      orderBy: { idempotencyKey: "asc" },
    });
    if (earlier.length > 0) {
      if (earlier.some((j) => j.requestHash !== requestHash)) {
        throw new ValidationError("idempotencyKey", `"${key}" was already used with different input`);
      }
      return earlier;
    }
  }
  // The operator's badblocks defaults (Settings) fill what the call left out; the job records
  // the options it runs with. The idempotency hash above is of the call as given.
  const options = { ...badblocksDefaults(await getSettings(db)), ...given };
  const drives: DriveWithHost[] = [];
  for (const id of driveIds) {
    const drive = await db.drive.findUnique({ where: { id }, include: { host: true } });
    if (!drive) throw new NotFoundError("drive", id);
    await assertStartable(db, drive, profile, options, now);
    drives.push(drive);
  }
  // 8 full passes wear flash and tell little about it: the ssd and nvme profiles are meant for it.
  const flash = profileWrites(profile) && !input.confirmSsdWrite ? drives.filter(isFlash) : [];
  if (flash.length) {
    throw new ValidationError(
      "confirmSsdWrite",
      `${flash.map((d) => d.serial).join(", ")} ${flash.length === 1 ? "reports itself as an SSD" : "report themselves as SSDs"}: a ${profile} scan writes every block ${scanEngineOf(profile) === "fio" ? "once" : "4 times"} and wears the flash; use the ssd or nvme profile, or set confirmSsdWrite to write anyway`,
    );
  }
  if (options.sanitize) await assertSanitizable(deps, drives, profile, options.sanitize);
  const plan = jobStages(profile, options.sanitize !== undefined);
  // Drives started together are one batch: notifications sum them up when the last one ends.
  const batchId = drives.length > 1 ? `batch_${randomUUID()}` : null;
  const jobs = await db.$transaction(async (tx) => {
    const created: BurnInJob[] = [];
    for (const [index, drive] of drives.entries()) {
      const job = await tx.burnInJob.create({
        data: {
          driveId: drive.id,
          serial: drive.serial,
          profile,
          options: JSON.stringify(options),
          idempotencyKey: key ? `${key}#${String(index).padStart(3, "0")}` : null,
          requestHash,
          createdBy: actor,
          batchId,
          createdAt: new Date(now.getTime() + index), // keeps the queue order of the call
          stages: { create: plan.map((s, position) => ({ name: s.name, position, weight: s.weight })) },
        },
      });
      await audit(tx, {
        actor,
        action: "job.start",
        subjectType: "job",
        subjectId: job.id,
        details: { driveId: drive.id, serial: drive.serial, profile, options },
      });
      created.push(job);
    }
    return created;
  });
  for (const job of jobs) await publishJobState(db, deps.pubsub, job.id);
  deps.runner.wake();
  return jobs;
}

/**
 * A sanitize asked for must be one each drive runs: asked of the drives themselves (one command
 * per drive), so a refusal comes now, naming the drive and why, not at the end of a long scan.
 */
async function assertSanitizable(deps: JobDeps, drives: DriveWithHost[], profile: ProfileName, method: SanitizeMethod): Promise<void> {
  if (profile === "simulate")
    throw new ValidationError("options.sanitize", "the simulate profile touches no device: it cannot sanitize one");
  for (const drive of drives) {
    const device = drive.byIdPath ?? drive.devicePath ?? "";
    let support: Awaited<ReturnType<typeof probeSanitize>>;
    try {
      support = await probeSanitize(deps.registry.transportFor(drive.host), device, drive.busType);
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      throw new HostUnreachableError(
        drive.host.id,
        error.reason,
        `host ${drive.host.name} did not answer the sanitize check of ${drive.serial}: ${error.message}`,
      );
    }
    const refusal = sanitizeRefusal(support, method);
    if (refusal) {
      throw new ValidationError("options.sanitize", `${SANITIZE_METHOD_WORDS[method]} refused for ${drive.serial} (${device}): ${refusal}`);
    }
  }
}

/** A drive that reports no rotation (SMART's 0 rpm: solid state) or is NVMe. */
function isFlash(drive: Drive): boolean {
  return drive.rotationRate === 0 || drive.busType === "nvme";
}

async function assertStartable(db: Db, drive: DriveWithHost, profile: ProfileName, options: JobOptions, now: Date): Promise<void> {
  const active = await db.burnInJob.findFirst({ where: { driveId: drive.id, status: { in: ["queued", "running"] } } });
  if (active) throw new DriveBusyError(drive.id, active.id);
  // The simulate profile touches no device.
  if (profile === "simulate") return;
  if (drive.missing) throw new DriveMissingError(drive.id, drive.serial);
  const host = drive.host;
  if (host.transport === "ssh" && !host.trusted) throw new HostKeyUntrustedError(host.id, host.fingerprint);
  if (host.status === "key_mismatch") {
    throw new HostKeyMismatchError(host.id, host.fingerprint ?? "none", host.offeredFingerprint ?? "unknown");
  }
  if (host.status === "unreachable" || host.status === "error") {
    throw new HostUnreachableError(
      host.id,
      host.status,
      `host ${host.name} is ${host.status}: ${host.statusReason ?? "no reason recorded"}`,
    );
  }
  // Self-tests and SMART reads only: a drive holding data, or used by its host, is safe to test
  // (smartd does the same on live pools). Only a profile that writes, or a sanitize, needs it
  // empty or unlocked.
  if (!profileWrites(profile) && !options.sanitize) return;
  if (profileWrites(profile)) {
    chooseGeometry(Number(drive.sizeBytes ?? 0), {
      physicalSectorSize: drive.physicalSectorSize,
      logicalSectorSize: drive.logicalSectorSize,
      blockSize: options.blockSize,
      blocksAtOnce: options.blocksAtOnce,
    });
  }
  const usage = parseUsage(drive.usage);
  const inActiveUse = activeUsage(usage);
  // No grant can make this safe: the host is using the drive. Checked before any grant.
  if (inActiveUse.length > 0) throw new DriveInActiveUseError(drive.id, drive.serial, inActiveUse);
  if (drive.inUse) {
    const grant = await findUsableGrant(db, drive.id, drive.serial, now);
    if (!grant) {
      const why = await whyNoGrant(db, drive.id, drive.serial, now);
      if (why) throw new UnlockRequiredError(drive.id, why);
      throw new DriveInUseError(drive.id, drive.serial, usage);
    }
  }
}

/** Cancel: a queued job is dequeued; a running one has its process killed (and confirmed gone). */
export async function cancelBurnIn(deps: JobDeps, jobId: string, actor: string, now = new Date()): Promise<BurnInJob> {
  const { db } = deps;
  const job = await db.burnInJob.findUnique({ where: { id: jobId } });
  if (!job) throw new NotFoundError("job", jobId);
  if (job.status === "queued") {
    const { count } = await db.burnInJob.updateMany({
      where: { id: jobId, status: "queued" },
      data: { status: "cancelled", finishedAt: now, errorText: "cancelled before it started" },
    });
    if (count === 1) {
      await db.stage.updateMany({ where: { jobId }, data: { status: "skipped" } });
      await audit(db, { actor, action: "job.cancel", subjectType: "job", subjectId: jobId, details: { was: "queued" } });
      await publishJobState(db, deps.pubsub, jobId);
      return db.burnInJob.findUniqueOrThrow({ where: { id: jobId } });
    }
    // It was claimed meanwhile: cancel it as a running job.
  }
  if (deps.runner.isRunning(jobId)) {
    await audit(db, { actor, action: "job.cancel", subjectType: "job", subjectId: jobId, details: { was: "running" } });
    await deps.runner.cancel(jobId);
    return db.burnInJob.findUniqueOrThrow({ where: { id: jobId } });
  }
  const current = await db.burnInJob.findUniqueOrThrow({ where: { id: jobId } });
  if (current.status === "running") {
    // Another instance runs it: it carries the cancel out (shared mode), or it is refused.
    const refusal = await viaHolder(deps, current, "cancel", actor);
    if (refusal) throw new JobStateError(jobId, current.status, refusal);
    await audit(db, {
      actor,
      action: "job.cancel",
      subjectType: "job",
      subjectId: jobId,
      details: { was: "running", on: current.lockedBy },
    });
    return db.burnInJob.findUniqueOrThrow({ where: { id: jobId } });
  }
  throw new JobStateError(jobId, current.status, `job already ended (${current.status})`);
}

/**
 * A cancel, pause or continue for a job another Kiln instance runs, sent to that instance; null
 * once it was done there, else why not (no way to reach it, no answer, or its own refusal).
 */
async function viaHolder(
  deps: JobDeps,
  job: { id: string; lockedBy: string | null },
  action: "cancel" | PauseAction,
  actor: string,
): Promise<string | null> {
  const holder = job.lockedBy;
  if (!holder) return `job is between two Kiln instances (its lease is being taken over): try again in a minute`;
  let reply: Awaited<ReturnType<JobDeps["runner"]["commandHolder"]>>;
  try {
    reply = await deps.runner.commandHolder(holder, job.id, action, actor);
  } catch (error) {
    if (!(error instanceof EventBusDown)) throw error;
    return `Redis is not reachable: the Kiln instance running the job (${holder}) cannot be asked to ${action} it; try again once Redis is back`;
  }
  if (reply === undefined) return `job is running under another Kiln process (${holder}): ${action} it there (or set REDIS_URL on both)`;
  if (reply === null) return `the Kiln instance running the job (${holder}) did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`;
  if (!reply.handled) return `the Kiln instance ${holder} no longer runs the job (it ended or is being taken over): try again`;
  return reply.refusal === null ? null : `cannot ${action}: ${reply.refusal}`;
}

/** Pause or continue the surface scan of a job this Kiln runs; refusals say why (JobStateError). */
export async function pauseOrContinueBurnIn(deps: JobDeps, jobId: string, action: PauseAction, actor: string): Promise<BurnInJob> {
  const { db } = deps;
  const job = await db.burnInJob.findUnique({ where: { id: jobId } });
  if (!job) throw new NotFoundError("job", jobId);
  if (job.status !== "running") throw new JobStateError(jobId, job.status, `job is ${job.status}: only a running scan can be ${action}d`);
  const here = await deps.runner.pauseOrContinue(jobId, action, actor);
  const refusal = here === undefined ? await viaHolder(deps, job, action, actor) : here === null ? null : `cannot ${action}: ${here}`;
  if (refusal !== null) throw new JobStateError(jobId, job.status, refusal);
  await audit(db, { actor, action: `job.${action}`, subjectType: "job", subjectId: jobId });
  return db.burnInJob.findUniqueOrThrow({ where: { id: jobId } });
}

/**
 * Resume an unknown or cancelled surface scan from the first pattern that did not finish its
 * verify phase: a new job (linked to the old one) runs precheck again, then badblocks with -t for
 * that pattern and the following ones (a fio pass: from the last byte it wrote or verified), then
 * the stages that came after the scan.
 */
export async function resumeBurnIn(deps: JobDeps, jobId: string, actor: string, now = new Date()): Promise<BurnInJob> {
  const { db } = deps;
  const old = await db.burnInJob.findUnique({
    where: { id: jobId },
    include: { stages: { orderBy: { position: "asc" } }, drive: { include: { host: true } } },
  });
  if (!old) throw new NotFoundError("job", jobId);
  if (old.status !== "unknown" && old.status !== "cancelled") {
    throw new JobStateError(jobId, old.status, `only an unknown or cancelled job can be resumed; this one is ${old.status}`);
  }
  const scan = old.stages.find((s) => s.name === "surface_validate");
  if (!scan || scan.status === "passed" || scan.bbPhase === null) {
    throw new JobStateError(jobId, old.status, "the job has no interrupted surface scan to resume (start a new burn-in instead)");
  }
  const resumedBy = await db.burnInJob.findFirst({ where: { resumedFromId: jobId } });
  if (resumedBy) throw new JobStateError(jobId, old.status, `the job was already resumed as job ${resumedBy.id}`);
  if (old.drive.serial !== old.serial) throw new JobStateError(jobId, old.status, "the drive's serial changed since the job ran");
  const oldOptions = JSON.parse(old.options) as JobOptions;
  await assertStartable(db, old.drive, old.profile as ProfileName, oldOptions, now);
  if (oldOptions.sanitize) await assertSanitizable(deps, [old.drive], old.profile as ProfileName, oldOptions.sanitize);
  // badblocks: phase p belongs to pattern ceil(p/2), and a pattern counts as done only once its
  // verify finished. fio: the pass goes on from the last byte written or verified.
  const fio = scanEngineOf(old.profile) === "fio";
  const patterns = fio ? [FIO_PATTERN] : STANDARD_PATTERNS.slice(Math.ceil(scan.bbPhase / 2) - 1);
  const scanResume = fio ? fioResume(scan, Number(old.drive.sizeBytes ?? 0)) : null;
  const profile = jobStages(old.profile as ProfileName, oldOptions.sanitize !== undefined);
  const after = profile.slice(profile.findIndex((s) => s.name === "surface_validate") + 1);
  const stages: StagePlan[] = [
    profile.find((s) => s.name === "precheck") ?? { name: "precheck", weight: 1 },
    { name: "surface_validate", weight: 85 },
    ...after,
  ];
  const job = await db.$transaction(async (tx) => {
    const created = await tx.burnInJob.create({
      data: {
        driveId: old.driveId,
        serial: old.serial,
        profile: old.profile,
        options: old.options,
        resumedFromId: old.id,
        createdBy: actor,
        createdAt: now,
        stages: {
          create: stages.map((s, position) =>
            s.name === "surface_validate"
              ? {
                  name: s.name,
                  position,
                  weight: s.weight,
                  bbPatterns: JSON.stringify(patterns),
                  scanResume: scanResume ? JSON.stringify(scanResume) : null,
                  bbBlockSize: scan.bbBlockSize,
                  bbBlocksAtOnce: scan.bbBlocksAtOnce,
                }
              : { name: s.name, position, weight: s.weight },
          ),
        },
      },
    });
    await audit(tx, {
      actor,
      action: "job.resume",
      subjectType: "job",
      subjectId: created.id,
      details: { resumes: old.id, patterns, ...(scanResume ? { from: scanResume } : {}) },
    });
    return created;
  });
  await publishJobState(db, deps.pubsub, job.id);
  deps.runner.wake();
  return job;
}

/**
 * Where a resumed fio pass begins, from the interrupted stage: its phase and the bytes its percent
 * stands for (a fio stage's percent always counts from the drive's first byte, resumed or not);
 * null: from the first byte, as a new pass.
 */
function fioResume(scan: { bbPhase: number | null; bbPhasePct: number | null }, sizeBytes: number): FioStart | null {
  const start = resumePoint(scan.bbPhase ?? 1, scan.bbPhasePct ?? 0, scanBytes(sizeBytes));
  return start.phase === 1 && start.fromByte === 0 ? null : start;
}
