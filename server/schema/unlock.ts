import { DriveInActiveUseError, NotFoundError, ValidationError } from "../errors.js";
import { grantUnlock, revokeUnlock } from "../services/unlock.js";
import { builder } from "./builder.js";

const UnlockGrantRef = builder.prismaObject("UnlockGrant", {
  description: "Permission to write to one in-use drive (bound to its serial) until it expires; used by one job start.",
  fields: (t) => ({
    id: t.exposeID("id"),
    drive: t.relation("drive"),
    serial: t.exposeString("serial"),
    reason: t.exposeString("reason"),
    grantedBy: t.exposeString("grantedBy"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    consumedAt: t.expose("consumedAt", { type: "DateTime", nullable: true }),
    consumedByJobId: t.exposeString("consumedByJobId", { nullable: true }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
  }),
});

builder.prismaObjectField("Drive", "unlockGrants", (t) => t.relation("unlockGrants", { query: { orderBy: { createdAt: "desc" } } }));

builder.mutationField("grantUnlock", (t) =>
  t.field({
    type: UnlockGrantRef,
    description:
      "Allow one burn-in of a drive that holds data at rest, within `minutes`. confirmSerial must be the drive's serial. A drive the host is using (mounted, swap, assembled array, imported pool) cannot be unlocked.",
    args: {
      driveId: t.arg.id({ required: true }),
      confirmSerial: t.arg.string({ required: true }),
      reason: t.arg.string({ required: true }),
      minutes: t.arg.int({ required: true }),
    },
    errors: { types: [ValidationError, NotFoundError, DriveInActiveUseError] },
    resolve: (_root, args, ctx) =>
      grantUnlock(
        ctx.db,
        { driveId: String(args.driveId), confirmSerial: args.confirmSerial, reason: args.reason, minutes: args.minutes },
        ctx.actor,
      ),
  }),
);

builder.mutationField("revokeUnlock", (t) =>
  t.field({
    type: UnlockGrantRef,
    args: { grantId: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError] },
    resolve: (_root, { grantId }, ctx) => revokeUnlock(ctx.db, String(grantId), ctx.actor),
  }),
);
