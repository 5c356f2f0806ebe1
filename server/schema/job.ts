import { queryFromInfo } from "@pothos/plugin-prisma";
import { actorShownTo } from "../auth/viewer.js";
import type { Db } from "../db/client.js";
import type { BurnInJob } from "../db/generated/sqlite/client.js";
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
import type { SmartReport } from "../parsers/smartctl.js";
import { ENDED_JOB_STATUSES } from "../runner/job-status.js";
import { PROFILE_NAMES } from "../runner/profiles.js";
import {
  type SmartAttributeChange,
  type SmartChange,
  smartAttributeChanges,
  smartChanges,
  smartFigureChanged,
} from "../runner/smart-changes.js";
import type { JobOptions } from "../runner/stage-context.js";
import type { Verdict } from "../runner/verdict.js";
import { encodeCursor, MAX_PAGE, pageOfJobs } from "../services/job-history.js";
import { cancelBurnIn, pauseOrContinueBurnIn, resumeBurnIn, startBurnIn } from "../services/jobs.js";
import { builder } from "./builder.js";
import { JOB_STATUSES, JobStatusRef, oneOf, ProfileRef, SanitizeMethodRef, VerdictOutcomeRef } from "./enums.js";
import { connectionComplexity, parseStoredJson, withInputErrors } from "./field-helpers.js";

const VerdictRef = builder.objectRef<Verdict>("Verdict").implement({
  description: "What the SMART comparison says: failed with its reasons, or passed (maybe with warnings).",
  fields: (t) => ({
    outcome: t.field({ type: VerdictOutcomeRef, resolve: (v) => v.result }),
    reasons: t.exposeStringList("reasons", { description: "Why it failed." }),
    warnings: t.exposeStringList("warnings", { description: "Worth knowing, not failing (a rising UDMA CRC count: check the cable)." }),
  }),
});

const JobOptionsRef = builder.objectRef<JobOptions>("JobOptions").implement({
  description: "The operator's tunables of a job; absent ones are chosen by Kiln.",
  fields: (t) => ({
    blockSize: t.exposeInt("blockSize", { nullable: true }),
    blocksAtOnce: t.exposeInt("blocksAtOnce", { nullable: true }),
    passes: t.exposeInt("passes", { nullable: true }),
    maxBadBlocks: t.exposeInt("maxBadBlocks", { nullable: true }),
    readDelayFactor: t.exposeInt("readDelayFactor", { nullable: true }),
    simulateSeconds: t.exposeFloat("simulateSeconds", { nullable: true }),
    simulateHz: t.exposeFloat("simulateHz", { nullable: true }),
    sanitize: t.field({ type: SanitizeMethodRef, nullable: true, resolve: (o) => o.sanitize ?? null }),
  }),
});

const SmartRowRef = builder.objectRef<SmartChange>("SmartChange").implement({
  description: "One SMART figure at the job's start (precheck) and end (final check).",
  fields: (t) => ({
    name: t.exposeString("name"),
    before: t.exposeFloat("before", { nullable: true }),
    after: t.exposeFloat("after", { nullable: true }),
    changed: t.boolean({
      description: "It moved during the job (temperature and power-on hours, which move in every one, are never marked).",
      resolve: smartFigureChanged,
    }),
    decides: t.exposeBoolean("decides", { description: "A rise of this figure fails the verdict." }),
    informational: t.exposeBoolean("informational", { description: "Temperature, power-on hours: shown, not compared." }),
  }),
});

const SmartAttributeRef = builder.objectRef<SmartAttributeChange>("SmartAttributeChange").implement({
  description: "An ATA SMART attribute before (precheck) and after (final check): the drive's normalised value, worst and threshold.",
  fields: (t) => ({
    id: t.exposeInt("id"),
    name: t.exposeString("name"),
    value: t.exposeInt("value", { nullable: true, description: "Normalised, as of the newest report (higher is better)." }),
    worst: t.exposeInt("worst", { nullable: true }),
    threshold: t.exposeInt("threshold", { nullable: true }),
    rawBefore: t.exposeString("rawBefore", { nullable: true }),
    rawAfter: t.exposeString("rawAfter", { nullable: true }),
    decides: t.exposeBoolean("decides", { description: "The verdict fails on a rise of its raw count (5, 197, 198)." }),
    failing: t.exposeBoolean("failing", { description: "Its value is at or below its threshold: the drive says it failed." }),
  }),
});

/** The job's baseline and final SMART reports (the newest of each kind). */
async function jobSmartReports(db: Db, jobId: string): Promise<{ before: SmartReport | null; after: SmartReport | null }> {
  const snapshots = await db.smartSnapshot.findMany({
    where: { jobId, kind: { in: ["baseline", "final"] } },
    orderBy: { takenAt: "asc" },
    select: { kind: true, report: true },
  });
  const report = (kind: string) => parseStoredJson<SmartReport>(snapshots.findLast((x) => x.kind === kind)?.report ?? null);
  return { before: report("baseline"), after: report("final") };
}

const ALWAYS_LOADED_JOB_COLUMNS = {
  id: true,
  serial: true,
  profile: true,
  status: true,
  progressPct: true,
  errorText: true,
  resumedFromId: true,
  attempts: true,
  createdBy: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
} as const;

export const BurnInJobRef = builder.prismaObject("BurnInJob", {
  // Select mode: the small columns below are always loaded and read as they are; the JSON ones
  // (verdict, options) only when a field asks for them.
  select: ALWAYS_LOADED_JOB_COLUMNS,
  description: "One burn-in of one drive.",
  fields: (t) => ({
    id: t.id({ resolve: (row) => row.id }),
    drive: t.relation("drive"),
    serial: t.string({ description: "The serial the job was started for.", resolve: (row) => row.serial }),
    profile: t.field({ type: ProfileRef, resolve: (job) => oneOf(PROFILE_NAMES, job.profile, "profile") }),
    status: t.field({ type: JobStatusRef, resolve: (job) => oneOf(JOB_STATUSES, job.status, "job status") }),
    progressPct: t.float({ resolve: (row) => row.progressPct }),
    verdict: t.field({
      type: VerdictRef,
      nullable: true,
      description: "Set when the final SMART comparison ran.",
      select: { verdict: true },
      resolve: (job) => parseStoredJson<Verdict>(job.verdict),
    }),
    smartChanges: t.field({
      type: [SmartRowRef],
      description:
        "The SMART figures the verdict compares, before (precheck) and after (final check); rows neither report has are left out.",
      complexity: 5,
      resolve: async (job, _args, ctx) => {
        const { before, after } = await jobSmartReports(ctx.db, job.id);
        return smartChanges(before, after);
      },
    }),
    smartAttributes: t.field({
      type: [SmartAttributeRef],
      description:
        "A SATA drive's SMART attributes, before and after, with their normalised values and thresholds; empty for NVMe and SAS.",
      complexity: 5,
      resolve: async (job, _args, ctx) => {
        const { before, after } = await jobSmartReports(ctx.db, job.id);
        return smartAttributeChanges(before, after);
      },
    }),
    errorText: t.string({ nullable: true, resolve: (row) => row.errorText }),
    resumedFromId: t.string({ nullable: true, description: "The job this one resumes.", resolve: (row) => row.resumedFromId }),
    resumedBy: t.prismaField({
      type: "BurnInJob",
      nullable: true,
      description: "The job that resumed this one.",
      select: { id: true },
      resolve: (query, job, _args, ctx) => ctx.db.burnInJob.findFirst({ ...query, where: { resumedFromId: job.id } }),
    }),
    options: t.field({
      type: JobOptionsRef,
      select: { options: true },
      resolve: (job) => parseStoredJson<JobOptions>(job.options) ?? {},
    }),
    attempts: t.int({ resolve: (row) => row.attempts }),
    createdBy: t.string({
      nullable: true,
      description: "Who started it. An admin sees the token it came from; others see the person behind a token.",
      resolve: (row, _args, ctx) => actorShownTo(ctx.viewer, row.createdBy),
    }),
    createdAt: t.field({ type: "DateTime", resolve: (row) => row.createdAt }),
    startedAt: t.field({ type: "DateTime", nullable: true, resolve: (row) => row.startedAt }),
    finishedAt: t.field({ type: "DateTime", nullable: true, resolve: (row) => row.finishedAt }),
    stages: t.relation("stages", { query: { orderBy: { position: "asc" } } }),
    reportUrl: t.string({
      nullable: true,
      description: "The printable report once the job has finished (add .json for the signed report, .pdf for a PDF); null before.",
      resolve: (job) => (ENDED_JOB_STATUSES.has(job.status) ? `/reports/${job.id}` : null),
    }),
  }),
});

const JobFilterInput = builder.inputType("JobFilter", {
  description: "Every field narrows the list (AND); a list field matches any of its values.",
  fields: (t) => ({
    status: t.field({ type: [JobStatusRef], required: false }),
    verdict: t.field({ type: [VerdictOutcomeRef], required: false }),
    profile: t.field({ type: [ProfileRef], required: false }),
    hostId: t.id({ required: false }),
    driveId: t.id({ required: false }),
    serial: t.string({ required: false, description: "The serial the job was started for (exact)." }),
    model: t.string({ required: false, description: "Part of the drive's model." }),
    createdAfter: t.field({ type: "DateTime", required: false, description: "Inclusive." }),
    createdBefore: t.field({ type: "DateTime", required: false, description: "Exclusive." }),
    finishedAfter: t.field({ type: "DateTime", required: false, description: "Inclusive." }),
    finishedBefore: t.field({ type: "DateTime", required: false, description: "Exclusive." }),
  }),
});

const JobOrderFieldRef = builder.enumType("JobOrderField", {
  values: ["createdAt", "finishedAt"] as const,
  description: "finishedAt lists only jobs that have finished.",
});
const SortDirectionRef = builder.enumType("SortDirection", { values: ["asc", "desc"] as const });
export const JobOrderInput = builder.inputType("JobOrder", {
  fields: (t) => ({
    field: t.field({ type: JobOrderFieldRef, required: true }),
    direction: t.field({ type: SortDirectionRef, required: true }),
  }),
});

builder.queryField("jobs", (t) =>
  t.connection(
    {
      type: BurnInJobRef,
      description: `Job history, newest first unless orderBy says otherwise: pages of up to ${MAX_PAGE} (first, default 50) that follow endCursor forward.`,
      complexity: connectionComplexity,
      args: {
        filter: t.arg({ type: JobFilterInput, required: false }),
        orderBy: t.arg({ type: JobOrderInput, required: false }),
      },
      resolve: (_root, args, ctx, info) =>
        withInputErrors(async () => {
          if (args.last != null || args.before != null)
            throw new ValidationError("last", "page forward with first and after; reverse orderBy to read the other way");
          const query = queryFromInfo({ context: ctx, info, path: ["edges", "node"], typeName: "BurnInJob" });
          const { rows, hasNextPage, order } = await pageOfJobs<BurnInJob>(
            ctx.db,
            { first: args.first, after: args.after, filter: args.filter, orderBy: args.orderBy },
            query,
          );
          const edges = rows.map((node) => ({ cursor: encodeCursor(order, node), node }));
          return {
            edges,
            pageInfo: {
              hasNextPage,
              hasPreviousPage: Boolean(args.after),
              startCursor: edges[0]?.cursor ?? null,
              endCursor: edges.at(-1)?.cursor ?? null,
            },
          };
        }),
    },
    {},
    {},
  ),
);

builder.queryField("job", (t) =>
  t.prismaField({
    type: "BurnInJob",
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => ctx.db.burnInJob.findUnique({ ...query, where: { id: String(args.id) } }),
  }),
);

const JobOptionsInput = builder.inputType("BurnInOptions", {
  description: "Operator tunables; omitted ones are chosen by Kiln from the drive.",
  fields: (t) => ({
    blockSize: t.int({
      required: false,
      description: "badblocks -b (a power of two). Default: fits the drive in 2^32 blocks, at least 4096.",
    }),
    blocksAtOnce: t.int({ required: false, description: "badblocks -c. Default: about 1 MiB per request." }),
    passes: t.int({ required: false, description: "badblocks -p." }),
    maxBadBlocks: t.int({ required: false, description: "badblocks -e: stop the scan early after this many bad blocks." }),
    readDelayFactor: t.int({
      required: false,
      description: "badblocks -d: slows the read passes (the demo host uses it to pace its small drives).",
    }),
    simulateSeconds: t.float({ required: false, description: "simulate profile: how long the timed stage runs." }),
    simulateHz: t.float({ required: false, description: "simulate profile: progress updates per second." }),
    sanitize: t.field({
      type: SanitizeMethodRef,
      required: false,
      description:
        "End the job with the drive's own sanitize of this method (a last stage, after the final check). Each drive is asked first whether it supports it: a drive that does not (or whose sanitize is frozen, or a SAS drive) is refused with the reason. It erases the drive: the same unlock rules as a writing profile.",
    }),
  }),
});

/** What can stop a burn-in from being queued (startBurnIn, resumeBurnIn). */
const START_ERRORS = [
  ValidationError,
  NotFoundError,
  DriveInUseError,
  DriveInActiveUseError,
  UnlockRequiredError,
  DriveBusyError,
  DriveMissingError,
  HostUnreachableError,
  HostKeyUntrustedError,
  HostKeyMismatchError,
];

const withoutNulls = (o: Record<string, unknown> | null | undefined) =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== null && v !== undefined));

builder.mutationField("startBurnIn", (t) =>
  t.field({
    type: [BurnInJobRef],
    description: "Queue one burn-in per drive (all or none). The same idempotencyKey with the same input returns the first call's jobs.",
    args: {
      driveIds: t.arg.idList({ required: true }),
      profile: t.arg({ type: ProfileRef, required: true }),
      options: t.arg({ type: JobOptionsInput, required: false }),
      idempotencyKey: t.arg.string({ required: false }),
      confirmSsdWrite: t.arg.boolean({
        required: false,
        description:
          "A writing profile (full) on drives that report themselves as SSDs is refused unless this is true: it wears the flash.",
      }),
    },
    errors: { types: START_ERRORS },
    resolve: (_root, args, ctx) =>
      startBurnIn(
        ctx,
        {
          driveIds: args.driveIds.map(String),
          profile: args.profile,
          options: withoutNulls(args.options),
          idempotencyKey: args.idempotencyKey,
          confirmSsdWrite: args.confirmSsdWrite,
        },
        ctx.actor,
      ),
  }),
);

builder.mutationField("cancelBurnIn", (t) =>
  t.field({
    type: BurnInJobRef,
    description: "Cancel a job. A running scan's process group is killed and confirmed gone before this returns.",
    args: { jobId: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError, JobStateError] },
    resolve: (_root, { jobId }, ctx) => cancelBurnIn(ctx, String(jobId), ctx.actor),
  }),
);

builder.mutationField("pauseBurnIn", (t) =>
  t.field({
    type: BurnInJobRef,
    description: "Pause a running surface scan: its badblocks process group is stopped (SIGSTOP) on the host, within one poll interval.",
    args: { jobId: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError, JobStateError] },
    resolve: (_root, { jobId }, ctx) => pauseOrContinueBurnIn(ctx, String(jobId), "pause", ctx.actor),
  }),
);

builder.mutationField("continueBurnIn", (t) =>
  t.field({
    type: BurnInJobRef,
    description: "Continue a paused surface scan (SIGCONT), whoever paused it; thermal protection may pause it again.",
    args: { jobId: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError, JobStateError] },
    resolve: (_root, { jobId }, ctx) => pauseOrContinueBurnIn(ctx, String(jobId), "continue", ctx.actor),
  }),
);

builder.mutationField("resumeBurnIn", (t) =>
  t.field({
    type: BurnInJobRef,
    description: "Resume an unknown or cancelled surface scan from its first unfinished pattern, as a new job linked to this one.",
    args: { jobId: t.arg.id({ required: true }) },
    errors: { types: [...START_ERRORS, JobStateError] },
    resolve: (_root, { jobId }, ctx) => resumeBurnIn(ctx, String(jobId), ctx.actor),
  }),
);
