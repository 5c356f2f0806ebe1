import { ValidationError } from "../errors.js";
import { parseUsage } from "../services/drive-usage.js";
import { builder } from "./builder.js";
import { DriveUsageRef } from "./drive-usage.js";
import { oneOf, SMART_HEALTHS, SmartHealthRef } from "./enums.js";
import { boundedFirst, withInputErrors } from "./field-helpers.js";

const MAX_TEMPERATURE_READINGS = 10_000;

const TemperatureReadingRef = builder.objectRef<{ at: Date; celsius: number; jobId: string }>("TemperatureReading").implement({
  description: "A drive's temperature at one moment of a job.",
  fields: (t) => ({
    at: t.expose("at", { type: "DateTime" }),
    celsius: t.exposeInt("celsius"),
    jobId: t.exposeID("jobId"),
  }),
});

export const DriveRef = builder.prismaObject("Drive", {
  // Select mode: a query loads only the columns its fields ask for (a stage's log stays on disk
  // unless someone asks for it).
  select: { id: true },
  description: "A drive, identified by its serial (+WWN) on one host, never by its /dev name.",
  fields: (t) => ({
    id: t.exposeID("id"),
    host: t.relation("host"),
    serial: t.exposeString("serial"),
    wwn: t.exposeString("wwn", { nullable: true }),
    model: t.exposeString("model", { nullable: true }),
    vendor: t.exposeString("vendor", { nullable: true }),
    firmware: t.exposeString("firmware", { nullable: true }),
    devicePath: t.exposeString("devicePath", { nullable: true }),
    byIdPath: t.exposeString("byIdPath", { nullable: true }),
    sizeBytes: t.float({
      nullable: true,
      description: "Capacity in bytes (exact up to 9 PB).",
      select: { sizeBytes: true },
      resolve: (drive) => (drive.sizeBytes === null ? null : Number(drive.sizeBytes)),
    }),
    logicalSectorSize: t.exposeInt("logicalSectorSize", { nullable: true }),
    physicalSectorSize: t.exposeInt("physicalSectorSize", { nullable: true }),
    rotationRate: t.exposeInt("rotationRate", { nullable: true, description: "RPM; 0 for an SSD; null when unknown." }),
    busType: t.exposeString("busType", { nullable: true, description: "sata | sas | nvme | usb | scsi | loop | file" }),
    temperatureC: t.exposeInt("temperatureC", { nullable: true }),
    powerOnHours: t.exposeInt("powerOnHours", { nullable: true }),
    smartHealth: t.field({
      type: SmartHealthRef,
      select: { smartHealth: true },
      resolve: (d) => oneOf(SMART_HEALTHS, d.smartHealth, "SMART health"),
    }),
    usage: t.field({
      type: [DriveUsageRef],
      select: { usage: true },
      resolve: (drive) => parseUsage(drive.usage),
    }),
    inUse: t.exposeBoolean("inUse", { description: "Holds data or is part of something: never written without an unlock." }),
    missing: t.exposeBoolean("missing", { description: "Not seen at the last inventory of its host." }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime", nullable: true }),
    temperatures: t.field({
      type: [TemperatureReadingRef],
      description: `The drive's temperature while jobs ran on it (one reading a minute), oldest first: since \`since\` (default: the last 24 h), at most the newest ${MAX_TEMPERATURE_READINGS.toLocaleString("en-US")}.`,
      args: { since: t.arg({ type: "DateTime", required: false }) },
      complexity: 20,
      resolve: async (drive, args, ctx) => {
        const since = args.since ?? new Date(Date.now() - 24 * 3600_000);
        const newest = await ctx.db.driveTemperature.findMany({
          where: { driveId: drive.id, at: { gte: since } },
          orderBy: [{ at: "desc" }, { id: "desc" }],
          take: MAX_TEMPERATURE_READINGS,
          select: { at: true, celsius: true, jobId: true },
        });
        return newest.reverse();
      },
    }),
    jobs: t.relation("jobs", {
      description: "The drive's newest jobs (at most `first`, 1-100; the `jobs` connection pages through all).",
      args: { first: t.arg.int({ required: false, defaultValue: 20 }) },
      complexity: (args) => ({ field: 1, multiplier: boundedFirst(args.first, 20, 100) }),
      query: (args) => ({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: boundedFirst(args.first, 20, 100) }),
    }),
  }),
});

builder.queryField("drives", (t) =>
  t.prismaField({
    type: ["Drive"],
    description: "Every drive Kiln knows, by host and device path.",
    args: { hostId: t.arg.id({ required: false }), includeMissing: t.arg.boolean({ required: false, defaultValue: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.drive.findMany({
        ...query,
        where: { ...(args.hostId ? { hostId: String(args.hostId) } : {}), ...(args.includeMissing ? {} : { missing: false }) },
        orderBy: [{ host: { name: "asc" } }, { devicePath: "asc" }, { serial: "asc" }],
      }),
  }),
);

builder.queryField("drive", (t) =>
  t.prismaField({
    type: "Drive",
    nullable: true,
    description:
      "One drive by id, or by serial (the drive last seen with it, when it moved between hosts). Its whole history: jobs(filter: { serial }).",
    args: { id: t.arg.id({ required: false }), serial: t.arg.string({ required: false }) },
    resolve: (query, _root, args, ctx) =>
      withInputErrors(async () => {
        if ((args.id == null) === (args.serial == null)) throw new ValidationError("id", "give either id or serial");
        if (args.id != null) return ctx.db.drive.findUnique({ ...query, where: { id: String(args.id) } });
        return ctx.db.drive.findFirst({
          ...query,
          where: { serial: String(args.serial) },
          orderBy: [{ lastSeenAt: "desc" }, { id: "asc" }],
        });
      }),
  }),
);
