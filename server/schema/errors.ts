// The Error interface and the typed errors mutations return (server/errors.ts).
import {
  DriveBusyError,
  DriveInUseError,
  DriveMissingError,
  HostBusyError,
  HostKeyMismatchError,
  HostKeyUntrustedError,
  HostUnreachableError,
  NotFoundError,
  UnlockRequiredError,
  ValidationError,
} from "../errors.js";
import { builder } from "./builder.js";

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
    reason: t.exposeString("reason", { description: "refused | timeout | auth_failed | command_missing | unreachable | failed" }),
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

const DriveUsageItem = builder.objectRef<{ kind: string; name: string; detail: string | null }>("DriveInUseReason").implement({
  fields: (t) => ({ kind: t.exposeString("kind"), name: t.exposeString("name"), detail: t.exposeString("detail", { nullable: true }) }),
});

builder.objectType(DriveInUseError, {
  name: "DriveInUseError",
  description: "The drive is in use: `usage` says by what. Grant an unlock to burn it in anyway.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    driveId: t.exposeString("driveId"),
    serial: t.exposeString("serial"),
    usage: t.field({ type: [DriveUsageItem], resolve: (e) => e.usage }),
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

builder.objectType(DriveMissingError, {
  name: "DriveMissingError",
  interfaces: [ErrorInterface],
  fields: (t) => ({ driveId: t.exposeString("driveId"), serial: t.exposeString("serial") }),
});
