// Live data: subscriptions for one job, for a dashboard of many jobs, for drives and for hosts.
// Every stream is authorised when it starts and ends when its session or token stops being valid
// (plugins/use-access-control.ts); both SSE and graphql-ws carry them (server/ws.ts).
import { GraphQLError } from "graphql";
import type { Db } from "../db/client.js";
import { readJobEvent } from "../events/job-state.js";
import { type HostEvent, type JobEvent, type KilnPubSub, newestLeaseOnly } from "../events/pubsub.js";
import { ENDED_JOB_STATUSES } from "../runner/job-status.js";
import { STAGE_NAMES } from "../runner/profiles.js";
import { phaseCountOf, type ScanEngineName } from "../runner/scan-phases.js";
import { builder } from "./builder.js";
import { DriveRef } from "./drive.js";
import { JOB_STATUSES, JobStatusRef, oneOf, STAGE_STATUSES, StageNameRef, StageStatusRef } from "./enums.js";
import { HostRef, InventoryProgressRef } from "./host.js";
import { ScanLatencyRef } from "./stage.js";

/** Below this overall percent an ETA is mostly noise: none is given. */
export const ETA_MIN_PCT = 0.5;

const ScanModeRef = builder.enumType("ScanMode", {
  values: ["write", "verify"] as const,
  description: "What a surface scan does in the current phase: odd phases write (a pattern, fio's data), even phases read it back.",
});

/** The event's scan engine; an older instance's event has none: badblocks, the only engine then. */
const engineOf = (e: JobEvent): ScanEngineName | null => {
  if (!e.stage) return null;
  if (e.stage.engine !== undefined) return e.stage.engine;
  return e.stage.name === "surface_validate" ? "badblocks" : null;
};

const elapsedSeconds = (e: JobEvent) => (e.startedAt === null ? null : Math.max(0, (e.at - e.startedAt) / 1000));

const JobEventRef = builder.objectRef<JobEvent>("JobProgressEvent").implement({
  description: "A job's state and its current stage's vitals, as of `at`.",
  fields: (t) => ({
    jobId: t.exposeString("jobId"),
    driveId: t.exposeString("driveId"),
    hostId: t.exposeString("hostId"),
    at: t.field({ type: "DateTime", resolve: (e) => new Date(e.at) }),
    status: t.field({ type: JobStatusRef, resolve: (e) => oneOf(JOB_STATUSES, e.status, "job status") }),
    progressPct: t.exposeFloat("progressPct", { description: "Overall: every stage, weighted." }),
    stageName: t.field({
      type: StageNameRef,
      nullable: true,
      resolve: (e) => (e.stage ? oneOf(STAGE_NAMES, e.stage.name, "stage name") : null),
    }),
    stageStatus: t.field({
      type: StageStatusRef,
      nullable: true,
      resolve: (e) => (e.stage ? oneOf(STAGE_STATUSES, e.stage.status, "stage status") : null),
    }),
    stageProgressPct: t.float({ nullable: true, resolve: (e) => e.stage?.progressPct ?? null }),
    scanEngine: t.string({
      nullable: true,
      description: "badblocks | fio: the program of a surface scan; null for other stages.",
      resolve: engineOf,
    }),
    phase: t.int({
      nullable: true,
      description:
        "A surface scan's phase, 1 to `phases`: badblocks writes and reads back 4 patterns (1-8), fio writes then verifies (1-2).",
      resolve: (e) => e.stage?.phase ?? null,
    }),
    phases: t.int({
      nullable: true,
      description: "How many phases the surface scan has: 8 for badblocks, 2 for fio; null for other stages.",
      resolve: (e) => {
        const engine = engineOf(e);
        return engine ? phaseCountOf(engine) : null;
      },
    }),
    pattern: t.int({
      nullable: true,
      description: "Which of the scan's patterns: phase 2p-1 writes pattern p, phase 2p reads it back (badblocks 1-4; fio's one pass 1).",
      resolve: (e) => (e.stage?.phase ? Math.ceil(e.stage.phase / 2) : null),
    }),
    mode: t.field({
      type: ScanModeRef,
      nullable: true,
      resolve: (e) => (e.stage?.phase ? (e.stage.phase % 2 === 1 ? "write" : "verify") : null),
    }),
    phasePct: t.float({ nullable: true, resolve: (e) => e.stage?.phasePct ?? null }),
    mbps: t.float({
      nullable: true,
      description: "Null on a phase's first sample: never the previous phase's rate.",
      resolve: (e) => e.stage?.mbps ?? null,
    }),
    badBlocks: t.int({ nullable: true, resolve: (e) => e.stage?.badBlocks ?? null }),
    latency: t.field({
      type: ScanLatencyRef,
      nullable: true,
      description: "fio scans: the last status interval's completion latencies, in the phase's direction.",
      resolve: (e) => e.stage?.latency ?? null,
    }),
    temperatureC: t.int({ nullable: true, resolve: (e) => e.stage?.temperatureC ?? null }),
    paused: t.boolean({ description: "The scan is paused (its processes stopped on the host).", resolve: (e) => e.stage?.paused ?? false }),
    pauseReason: t.string({ nullable: true, description: "operator | heat", resolve: (e) => e.stage?.pauseReason ?? null }),
    elapsedSeconds: t.float({ nullable: true, description: "Since the job started running.", resolve: elapsedSeconds }),
    etaSeconds: t.float({
      nullable: true,
      description: `Time left: the running stage's (a surface scan's from the speeds of its zones) and the estimates of the stages to come; without those (a profile with no estimate), at the pace so far from ${ETA_MIN_PCT}% overall. Null while the scan is paused and once the job ended.`,
      resolve: (e) => {
        if (e.status === "running" && e.stage?.paused) return null;
        if (e.status === "running" && typeof e.etaSeconds === "number") return e.etaSeconds;
        const elapsed = elapsedSeconds(e);
        if (elapsed === null || e.status !== "running" || e.progressPct < ETA_MIN_PCT) return null;
        return (elapsed * (100 - e.progressPct)) / e.progressPct;
      },
    }),
  }),
});

/** One job: its state now, then every change; the stream ends with the job. */
async function* followJob(ctx: { db: Db; pubsub: KilnPubSub }, jobId: string): AsyncGenerator<JobEvent> {
  const iterator = ctx.pubsub.subscribe("job", jobId)[Symbol.asyncIterator]();
  try {
    // Listening before the state is read: nothing that happens in between is lost.
    let next = iterator.next();
    const now = await readJobEvent(ctx.db, jobId);
    if (!now) throw new GraphQLError(`job ${jobId} not found`, { extensions: { code: "NOT_FOUND" } });
    const current = newestLeaseOnly();
    current(now);
    yield now;
    if (ENDED_JOB_STATUSES.has(now.status)) return;
    for (;;) {
      const result = await next;
      if (result.done) return;
      if (!current(result.value)) {
        next = iterator.next();
        continue;
      }
      yield result.value;
      if (ENDED_JOB_STATUSES.has(result.value.status)) return;
      next = iterator.next();
    }
  } finally {
    await iterator.return?.();
  }
}

/**
 * The events of `source` that `keep` accepts. Listens from the moment it is called, not from the
 * first read: a client that has its response headers misses nothing published after them.
 */
function filtered<T>(source: AsyncIterable<T>, keep: (value: T) => boolean): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let first: Promise<IteratorResult<T>> | null = iterator.next();
  const next = async (): Promise<IteratorResult<T>> => {
    for (;;) {
      const pending = first ?? iterator.next();
      first = null;
      const result = await pending;
      if (result.done || keep(result.value)) return result;
    }
  };
  return {
    next,
    return: async (value?: unknown) => {
      await iterator.return?.(value);
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

builder.subscriptionField("jobProgress", (t) =>
  t.field({
    type: JobEventRef,
    description: "One job: the first event is its state now, then every update; ends when the job ends.",
    args: { jobId: t.arg.id({ required: true }) },
    subscribe: async (_root, { jobId }, ctx) => {
      // Refused before the stream opens: the client gets an error, not an empty stream.
      if (!(await ctx.db.burnInJob.count({ where: { id: String(jobId) } })))
        throw new GraphQLError(`job ${String(jobId)} not found`, { extensions: { code: "NOT_FOUND" } });
      return followJob(ctx, String(jobId));
    },
    resolve: (event) => event,
  }),
);

builder.subscriptionField("jobUpdates", (t) =>
  t.field({
    type: JobEventRef,
    description: "Every job's updates, for a dashboard: optionally of one host, or of jobs in some states.",
    args: {
      hostId: t.arg.id({ required: false }),
      status: t.arg({ type: [JobStatusRef], required: false }),
    },
    subscribe: (_root, { hostId, status }, ctx) => {
      const statuses = status?.length ? new Set<string>(status) : null;
      const current = newestLeaseOnly();
      return filtered(
        ctx.pubsub.subscribe("jobs"),
        (e) => (!hostId || e.hostId === String(hostId)) && (!statuses || statuses.has(e.status)) && current(e),
      );
    },
    resolve: (event) => event,
  }),
);

builder.subscriptionField("driveUpdated", (t) =>
  t.field({
    type: DriveRef,
    description: "A drive as an inventory refresh just wrote it (optionally of one host).",
    args: { hostId: t.arg.id({ required: false }) },
    subscribe: (_root, { hostId }, ctx) => filtered(ctx.pubsub.subscribe("drives"), (e) => !hostId || e.hostId === String(hostId)),
    resolve: (event, _args, ctx) => ctx.db.drive.findUniqueOrThrow({ where: { id: event.driveId } }),
  }),
);

const HostEventRef = builder.objectRef<HostEvent>("HostEvent").implement({
  description: "A host changed: its status after an inventory, its settings, its key; or it was removed (host is null).",
  fields: (t) => ({
    hostId: t.exposeString("hostId"),
    removed: t.exposeBoolean("removed"),
    inventory: t.field({
      type: InventoryProgressRef,
      nullable: true,
      description: "An inventory's step or end, when that is what changed.",
      resolve: (e) => e.inventory ?? null,
    }),
    host: t.field({
      type: HostRef,
      nullable: true,
      resolve: (e, _args, ctx) => (e.removed ? null : ctx.db.host.findUnique({ where: { id: e.hostId } })),
    }),
  }),
});

builder.subscriptionField("hostUpdated", (t) =>
  t.field({
    type: HostEventRef,
    description: "Every host change.",
    subscribe: (_root, _args, ctx) => ctx.pubsub.subscribe("hosts"),
    resolve: (event) => event,
  }),
);
