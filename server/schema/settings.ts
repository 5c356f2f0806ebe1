import { SettingsRejectedError, ValidationError } from "../errors.js";
import { getSettings, type Settings, setSetting, updateSettings } from "../services/settings.js";
import { builder } from "./builder.js";

const SettingsRef = builder.objectRef<Settings>("Settings").implement({
  description: "Operator settings, with their defaults filled in.",
  fields: (t) => ({
    maxConcurrentJobs: t.exposeInt("maxConcurrentJobs"),
    maxJobsPerHost: t.exposeInt("maxJobsPerHost"),
    stuckMinutes: t.exposeFloat("stuckMinutes", {
      description: "A scan whose log and progress stand still this long is killed and marked unknown.",
    }),
    unreachableGraceMinutes: t.exposeFloat("unreachableGraceMinutes", {
      description: "A job whose host stays unreachable this long turns unknown.",
    }),
    pollSeconds: t.exposeFloat("pollSeconds"),
    progressWriteSeconds: t.exposeFloat("progressWriteSeconds", {
      description: "Longest a stage's progress waits to be written (phase changes and ends at once; subscriptions see every update).",
    }),
    smartPollSeconds: t.exposeFloat("smartPollSeconds"),
    temperaturePollSeconds: t.exposeFloat("temperaturePollSeconds"),
    remoteWorkDir: t.exposeString("remoteWorkDir", {
      description:
        "Where detached runs keep their files on hosts: created 0700, refused if a symlink, another user's, or writable by others.",
    }),
    temperatureWarmC: t.exposeInt("temperatureWarmC", { description: "The UI shows a drive warm from this temperature (°C)." }),
    temperatureHotC: t.exposeInt("temperatureHotC", { description: "The UI shows a drive hot from this temperature (°C)." }),
    badblocksBlocksAtOnce: t.exposeInt("badblocksBlocksAtOnce", {
      description: "badblocks -c for jobs that do not give one; 0: about 1 MiB per request.",
    }),
    badblocksPasses: t.exposeInt("badblocksPasses", { description: "badblocks -p for jobs that do not give one; 0: one pass." }),
    badblocksMaxBadBlocks: t.exposeInt("badblocksMaxBadBlocks", {
      description: "badblocks -e for jobs that do not give one; 0: never stop early.",
    }),
    thermalProtection: t.exposeBoolean("thermalProtection", {
      description: "Pause a hard drive's surface scan at thermalPauseAtC (two readings in a row), continue at thermalResumeAtC.",
    }),
    thermalPauseAtC: t.exposeInt("thermalPauseAtC"),
    thermalResumeAtC: t.exposeInt("thermalResumeAtC"),
    slowDrivePercent: t.exposeFloat("slowDrivePercent", {
      description: "A drive whose scan averages under this percent of its model's median MB/s gets a slow-drive warning.",
    }),
    slowDriveMinPeers: t.exposeInt("slowDriveMinPeers", { description: "Other scanned drives of the model needed for that comparison." }),
    retentionDays: t.exposeInt("retentionDays", {
      description: "Days a finished job keeps its logs, sample series, temperatures and raw SMART JSON (its report is kept); 0: forever.",
    }),
    notificationRetrySeconds: t.exposeFloat("notificationRetrySeconds", {
      description: "The first retry of an undelivered notification waits this long, each next one 4x longer (6 attempts).",
    }),
    publicUrl: t.exposeString("publicUrl", {
      description: "Kiln's address as people reach it, for links in notifications; empty: no links.",
    }),
    sshMaxConnectionMinutes: t.exposeFloat("sshMaxConnectionMinutes", {
      description: "A pooled SSH connection older than this is replaced, so a changed host key is noticed within this time.",
    }),
    hostListSeconds: t.exposeFloat("hostListSeconds", {
      description: "Longest wait for a host's disk and pool listing (lsblk, zpool); past it the host is slow, not unreachable.",
    }),
    hostSmartSeconds: t.exposeFloat("hostSmartSeconds", {
      description: "Longest wait for one disk's SMART report or data-at-rest probe (smartctl -x, wipefs, partx).",
    }),
    hostControlSeconds: t.exposeFloat("hostControlSeconds", {
      description: "Longest wait for starting, polling or signalling a scan on a host, and any other command there.",
    }),
  }),
});

builder.queryField("settings", (t) => t.field({ type: SettingsRef, resolve: (_root, _args, ctx) => getSettings(ctx.db) }));

builder.mutationField("setSetting", (t) =>
  t.field({
    type: SettingsRef,
    description: "Change one setting; `value` is JSON (a number or a string).",
    args: { key: t.arg.string({ required: true }), value: t.arg.string({ required: true }) },
    errors: { types: [ValidationError] },
    resolve: async (_root, { key, value }, ctx) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        throw new ValidationError("value", 'must be JSON, e.g. 4 or "/var/tmp/kiln"');
      }
      const settings = await setSetting(ctx.db, key, parsed, ctx.actor);
      ctx.registry.applySettings(settings);
      return settings;
    },
  }),
);

const SettingsInput = builder.inputType("SettingsInput", {
  description: "Settings to change (the others stay): each of its own type, all checked before any is saved.",
  fields: (t) => ({
    maxConcurrentJobs: t.int({ required: false }),
    maxJobsPerHost: t.int({ required: false }),
    stuckMinutes: t.float({ required: false }),
    unreachableGraceMinutes: t.float({ required: false }),
    pollSeconds: t.float({ required: false }),
    progressWriteSeconds: t.float({ required: false }),
    smartPollSeconds: t.float({ required: false }),
    temperaturePollSeconds: t.float({ required: false }),
    remoteWorkDir: t.string({ required: false }),
    temperatureWarmC: t.int({ required: false }),
    temperatureHotC: t.int({ required: false }),
    badblocksBlocksAtOnce: t.int({ required: false }),
    badblocksPasses: t.int({ required: false }),
    badblocksMaxBadBlocks: t.int({ required: false }),
    thermalProtection: t.boolean({ required: false }),
    thermalPauseAtC: t.int({ required: false }),
    thermalResumeAtC: t.int({ required: false }),
    slowDrivePercent: t.float({ required: false }),
    slowDriveMinPeers: t.int({ required: false }),
    retentionDays: t.int({ required: false }),
    notificationRetrySeconds: t.float({ required: false }),
    publicUrl: t.string({ required: false }),
    sshMaxConnectionMinutes: t.float({ required: false }),
    hostListSeconds: t.float({ required: false }),
    hostSmartSeconds: t.float({ required: false }),
    hostControlSeconds: t.float({ required: false }),
  }),
});

builder.mutationField("updateSettings", (t) =>
  t.field({
    type: SettingsRef,
    description:
      "Change several settings at once, all or none: a refusal (SettingsRejectedError) names every setting that failed and why, and saves nothing.",
    args: { input: t.arg({ type: SettingsInput, required: true }) },
    errors: { types: [SettingsRejectedError] },
    resolve: async (_root, { input }, ctx) => {
      const settings = await updateSettings(ctx.db, input as Record<string, unknown>, ctx.actor);
      ctx.registry.applySettings(settings);
      return settings;
    },
  }),
);
