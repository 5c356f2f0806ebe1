// The Error interface and the typed errors mutations return (server/errors.ts).
import {
  DriveBusyError,
  DriveInActiveUseError,
  DriveInUseError,
  DriveMissingError,
  HostBusyError,
  HostKeyMismatchError,
  HostKeyUntrustedError,
  HostUnreachableError,
  JobStateError,
  NotFoundError,
  SettingsRejectedError,
  UnlockRequiredError,
  ValidationError,
} from "../errors.js";
import { builder } from "./builder.js";
import { DriveUsageRef } from "./drive-usage.js";

export const ErrorInterface = builder.interfaceRef<Error>("Error").implement({
  description: "An expected failure. Clients switch on __typename for the details.",
  fields: (t) => ({ message: t.exposeString("message") }),
});

builder.objectType(ValidationError, {
  name: "ValidationError",
  description: "Bad input: `field` names the input field, `message` says why.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString("field") }),
});

const SettingProblemRef = builder.objectRef<{ field: string; message: string }>("SettingProblem").implement({
  fields: (t) => ({
    field: t.exposeString("field", { description: "The setting, as named in SettingsInput." }),
    message: t.exposeString("message", { description: "Why, in words." }),
  }),
});

builder.objectType(SettingsRejectedError, {
  name: "SettingsRejectedError",
  description: "updateSettings refused: nothing was saved. Each problem names a setting and says why.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ problems: t.field({ type: [SettingProblemRef], resolve: (e) => e.problems }) }),
});

builder.objectType(NotFoundError, {
  name: "NotFoundError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ what: t.exposeString("what"), id: t.exposeString("id") }),
});

builder.objectType(HostUnreachableError, {
  name: "HostUnreachableError",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    hostId: t.exposeString("hostId"),
    reason: t.exposeString("reason", {
      description:
        "refused | timeout | auth_failed | command_missing | unreachable | output_too_large | unsafe_work_dir | bad_output | failed",
    }),
  }),
});

builder.objectType(HostKeyUntrustedError, {
  name: "HostKeyUntrustedError",
  description: "The host's key has not been trusted yet: nothing runs there until it is.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ hostId: t.exposeString("hostId"), fingerprint: t.exposeString("fingerprint", { nullable: true }) }),
});

builder.objectType(HostKeyMismatchError, {
  name: "HostKeyMismatchError",
  description: "The host offered a different key than the pinned one; Kiln refused it before authenticating.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    hostId: t.exposeString("hostId"),
    expectedFingerprint: t.exposeString("expectedFingerprint"),
    offeredFingerprint: t.exposeString("offeredFingerprint"),
  }),
});

builder.objectType(HostBusyError, {
  name: "HostBusyError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ hostId: t.exposeString("hostId"), activeJobs: t.exposeInt("activeJobs") }),
});

builder.objectType(DriveInUseError, {
  name: "DriveInUseError",
  description: "The drive holds data at rest: `usage` says what. Grant an unlock to burn it in anyway.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    driveId: t.exposeString("driveId"),
    serial: t.exposeString("serial"),
    usage: t.field({ type: [DriveUsageRef], resolve: (e) => e.usage }),
  }),
});

builder.objectType(DriveInActiveUseError, {
  name: "DriveInActiveUseError",
  description: "The host is using the drive right now (`usage`): unmount / export it first. No unlock can allow it.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    driveId: t.exposeString("driveId"),
    serial: t.exposeString("serial"),
    usage: t.field({ type: [DriveUsageRef], resolve: (e) => e.usage }),
  }),
});

builder.objectType(UnlockRequiredError, {
  name: "UnlockRequiredError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ driveId: t.exposeString("driveId"), reason: t.exposeString("reason") }),
});

builder.objectType(DriveBusyError, {
  name: "DriveBusyError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ driveId: t.exposeString("driveId"), jobId: t.exposeString("jobId") }),
});

builder.objectType(JobStateError, {
  name: "JobStateError",
  description: "The job's state does not allow this (it already ended, runs under another Kiln process, or was resumed).",
  interfaces: [ErrorInterface],
  fields: (t) => ({ jobId: t.exposeString("jobId"), status: t.exposeString("status") }),
});

builder.objectType(DriveMissingError, {
  name: "DriveMissingError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ driveId: t.exposeString("driveId"), serial: t.exposeString("serial") }),
});
