import { ValidationError } from "../errors.js";
import { estimateProfiles, type ProfileEstimate } from "../runner/estimates.js";
import { driveForEstimate } from "../runner/eta-plan.js";
import { parseUsage } from "../services/drive-usage.js";
import { builder } from "./builder.js";
import { DriveUsageRef } from "./drive-usage.js";
import { oneOf, ProfileRef, SMART_HEALTHS, SmartHealthRef } from "./enums.js";
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

const EstimatePartRef = builder.objectRef<ProfileEstimate["parts"][number]>("ProfileEstimatePart").implement({
  fields: (t) => ({
    stage: t.exposeString("stage"),
    seconds: t.exposeInt("seconds"),
  }),
});

const ProfileEstimateRef = builder.objectRef<ProfileEstimate>("ProfileEstimate").implement({
  description:
    "How long a profile would take on the drive: its size over a speed curve for its kind (a hard drive's outer tracks twice as fast as its inner), and its own self-test minutes when SMART states them. An estimate, not a measurement.",
  fields: (t) => ({
    profile: t.field({ type: ProfileRef, resolve: (e) => e.profile }),
    seconds: t.exposeInt("seconds"),
    parts: t.field({ type: [EstimatePartRef], resolve: (e) => e.parts }),
  }),
});

const ALWAYS_LOADED_DRIVE_COLUMNS = {
  id: true,
  serial: true,
  wwn: true,
  model: true,
  vendor: true,
  firmware: true,
  devicePath: true,
  byIdPath: true,
  sizeBytes: true,
  logicalSectorSize: true,
  physicalSectorSize: true,
  rotationRate: true,
  busType: true,
  temperatureC: true,
  powerOnHours: true,
  smartHealth: true,
  inUse: true,
  missing: true,
  lastSeenAt: true,
} as const;

export const DriveRef = builder.prismaObject("Drive", {
  // Select mode: the small columns below are always loaded and read as they are; usage (JSON)
  // only when a field asks for it.
  select: ALWAYS_LOADED_DRIVE_COLUMNS,
  description: "A drive, identified by its serial (+WWN) on one host, never by its /dev name.",
  fields: (t) => ({
    id: t.id({ resolve: (row) => row.id }),
    host: t.relation("host"),
    serial: t.string({ resolve: (row) => row.serial }),
    wwn: t.string({ nullable: true, resolve: (row) => row.wwn }),
    model: t.string({ nullable: true, resolve: (row) => row.model }),
    vendor: t.string({ nullable: true, resolve: (row) => row.vendor }),
    firmware: t.string({ nullable: true, resolve: (row) => row.firmware }),
    devicePath: t.string({ nullable: true, resolve: (row) => row.devicePath }),
    byIdPath: t.string({ nullable: true, resolve: (row) => row.byIdPath }),
    sizeBytes: t.float({
      nullable: true,
      description: "Capacity in bytes (exact up to 9 PB).",
      resolve: (drive) => (drive.sizeBytes === null ? null : Number(drive.sizeBytes)),
    }),
    logicalSectorSize: t.int({ nullable: true, resolve: (row) => row.logicalSectorSize }),
    physicalSectorSize: t.int({ nullable: true, resolve: (row) => row.physicalSectorSize }),
    rotationRate: t.int({ nullable: true, description: "RPM; 0 for an SSD; null when unknown.", resolve: (row) => row.rotationRate }),
    busType: t.string({ nullable: true, description: "sata | sas | nvme | usb | scsi | loop | file", resolve: (row) => row.busType }),
    temperatureC: t.int({ nullable: true, resolve: (row) => row.temperatureC }),
    powerOnHours: t.int({ nullable: true, resolve: (row) => row.powerOnHours }),
    smartHealth: t.field({
      type: SmartHealthRef,
      resolve: (d) => oneOf(SMART_HEALTHS, d.smartHealth, "SMART health"),
    }),
    usage: t.field({
      type: [DriveUsageRef],
      select: { usage: true },
      resolve: (drive) => parseUsage(drive.usage),
    }),
    inUse: t.boolean({ description: "Holds data or is part of something: never written without an unlock.", resolve: (row) => row.inUse }),
    missing: t.boolean({ description: "Not seen at the last inventory of its host.", resolve: (row) => row.missing }),
    lastSeenAt: t.field({ type: "DateTime", nullable: true, resolve: (row) => row.lastSeenAt }),
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
    profileEstimates: t.field({
      type: [ProfileEstimateRef],
      description: "Each profile's estimated time on this drive (simulate left out; nvme for NVMe drives only).",
      complexity: 5,
      resolve: async (drive, _args, ctx) => estimateProfiles(await driveForEstimate(ctx.db, drive)),
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
