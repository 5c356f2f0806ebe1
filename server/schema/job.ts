import { builder } from "./builder.js";

const JOB_STATUSES = ["queued", "running", "passed", "failed", "cancelled", "unknown"] as const;

const JobStatusRef = builder.enumType("JobStatus", { values: JOB_STATUSES });

builder.prismaObject("BurnInJob", {
  description: "One burn-in of one drive.",
  fields: (t) => ({
    id: t.exposeID("id"),
    drive: t.relation("drive"),
    serial: t.exposeString("serial", { description: "The serial the job was started for." }),
    profile: t.exposeString("profile", { description: "full | quick | ssd | nvme | simulate" }),
    status: t.field({ type: JobStatusRef, select: { status: true }, resolve: (job) => job.status as (typeof JOB_STATUSES)[number] }),
    progressPct: t.exposeFloat("progressPct"),
    verdict: t.exposeString("verdict", { nullable: true, description: "JSON: the verdict's reasons and warnings." }),
    errorText: t.exposeString("errorText", { nullable: true }),
    resumedFromId: t.exposeString("resumedFromId", { nullable: true }),
    createdBy: t.exposeString("createdBy", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
    stages: t.relation("stages", { query: { orderBy: { position: "asc" } } }),
  }),
});

builder.queryField("jobs", (t) =>
  t.prismaConnection({
    type: "BurnInJob",
    cursor: "id",
    description: "Job history, newest first.",
    args: {
      status: t.arg({ type: [JobStatusRef], required: false }),
      driveId: t.arg.id({ required: false }),
      hostId: t.arg.id({ required: false }),
    },
    resolve: (query, _root, args, ctx) =>
      ctx.db.burnInJob.findMany({
        ...query,
        where: {
          ...(args.status?.length ? { status: { in: [...args.status] } } : {}),
          ...(args.driveId ? { driveId: String(args.driveId) } : {}),
          ...(args.hostId ? { drive: { hostId: String(args.hostId) } } : {}),
        },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      }),
  }),
);

builder.queryField("job", (t) =>
  t.prismaField({
    type: "BurnInJob",
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => ctx.db.burnInJob.findUnique({ ...query, where: { id: String(args.id) } }),
  }),
);
