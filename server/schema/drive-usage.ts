import type { DriveUsage } from "../services/drive-usage.js";
import { builder } from "./builder.js";
import { DriveUsageKindRef } from "./enums.js";

export const DriveUsageRef = builder.objectRef<DriveUsage>("DriveUsage").implement({
  description:
    "Something that uses a drive. Active use (the host uses it now) must be released on the host; data at rest needs an unlock grant.",
  fields: (t) => ({
    kind: t.field({ type: DriveUsageKindRef, resolve: (u) => u.kind }),
    name: t.exposeString("name", { description: "Mount point, device, array, volume or pool name." }),
    detail: t.exposeString("detail", { nullable: true, description: "Signature type, label, uuid, pool state, member device..." }),
    active: t.exposeBoolean("active", { description: "The host uses the drive now: no unlock can allow writing to it." }),
  }),
});
