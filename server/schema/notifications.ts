// Notification channels and their delivery log (admin only: the scope map says so).
import type { NotificationChannel, NotificationDelivery } from "../db/generated/sqlite/client.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { CHANNEL_KINDS, NOTIFICATION_EVENTS, publicConfig } from "../notify/channels.js";
import { addChannel, removeChannel, testChannel, updateChannel } from "../notify/service.js";
import { builder } from "./builder.js";

const DeliveryRef = builder.objectRef<NotificationDelivery>("NotificationDelivery").implement({
  description: "One message to one channel: sent, pending (a retry is due at nextAttemptAt), sending, or failed after its last attempt.",
  fields: (t) => ({
    id: t.exposeID("id"),
    event: t.exposeString("event"),
    status: t.exposeString("status", { description: "pending | sending | sent | failed" }),
    title: t.string({ resolve: (d) => (JSON.parse(d.message) as { title?: string }).title ?? "" }),
    attempts: t.exposeInt("attempts"),
    lastError: t.exposeString("lastError", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    nextAttemptAt: t.expose("nextAttemptAt", { type: "DateTime" }),
    sentAt: t.expose("sentAt", { type: "DateTime", nullable: true }),
  }),
});

const ChannelRef = builder.objectRef<NotificationChannel>("NotificationChannel").implement({
  description: "Where Kiln sends notifications. Secrets (password, token, secret) are write-only: secretsSet says which are set.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    kind: t.exposeString("kind", { description: CHANNEL_KINDS.join(" | ") }),
    config: t.string({
      description: "The kind's settings as JSON, without secrets.",
      resolve: (c) => JSON.stringify(publicConfig(JSON.parse(c.config) as Record<string, unknown>).settings),
    }),
    secretsSet: t.stringList({ resolve: (c) => publicConfig(JSON.parse(c.config) as Record<string, unknown>).secretsSet }),
    events: t.stringList({ resolve: (c) => JSON.parse(c.events) as string[] }),
    foldBatch: t.exposeBoolean("foldBatch", { description: "The jobs of a batch are told in its summary (batch.finished) only." }),
    enabled: t.exposeBoolean("enabled"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    deliveries: t.field({
      type: [DeliveryRef],
      description: "The delivery log, newest first.",
      args: { first: t.arg.int({ required: false, defaultValue: 20 }) },
      complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? 20, 200) }),
      resolve: (c, args, ctx) => {
        const first = args.first ?? 20;
        if (first < 1 || first > 200) throw new ValidationError("first", "must be 1-200");
        return ctx.db.notificationDelivery.findMany({
          where: { channelId: c.id },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          take: first,
        });
      },
    }),
  }),
});

const ChannelInput = builder.inputType("NotificationChannelInput", {
  fields: (t) => ({
    name: t.string({ required: true }),
    kind: t.string({ required: true, description: CHANNEL_KINDS.join(" | ") }),
    config: t.string({
      required: false,
      description:
        'JSON. email: {host, port, security: "tls"|"starttls"|"none", username?, password?, from, to: [..]}; webhook: {url, secret}; ntfy: {url, token?}; gotify: {url, token}. On update, a secret left out keeps its value.',
    }),
    events: t.stringList({ required: true, description: NOTIFICATION_EVENTS.join(", ") }),
    foldBatch: t.boolean({ required: false }),
    enabled: t.boolean({ required: false }),
  }),
});

builder.queryField("notificationChannels", (t) =>
  t.field({ type: [ChannelRef], resolve: (_root, _args, ctx) => ctx.db.notificationChannel.findMany({ orderBy: { name: "asc" } }) }),
);

builder.queryField("notificationEvents", (t) =>
  t.stringList({ description: "The events a channel can pick.", resolve: () => NOTIFICATION_EVENTS.filter((e) => e !== "test") }),
);

builder.mutationField("addNotificationChannel", (t) =>
  t.field({
    type: ChannelRef,
    args: { input: t.arg({ type: ChannelInput, required: true }) },
    errors: { types: [ValidationError] },
    resolve: (_root, { input }, ctx) => addChannel(ctx.db, input, ctx.actor),
  }),
);

builder.mutationField("updateNotificationChannel", (t) =>
  t.field({
    type: ChannelRef,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: ChannelInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError] },
    resolve: (_root, { id, input }, ctx) => updateChannel(ctx.db, String(id), input, ctx.actor),
  }),
);

builder.mutationField("removeNotificationChannel", (t) =>
  t.field({
    type: ChannelRef,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError] },
    resolve: (_root, { id }, ctx) => removeChannel(ctx.db, String(id), ctx.actor),
  }),
);

builder.mutationField("testNotificationChannel", (t) =>
  t.field({
    type: DeliveryRef,
    description: "Send a test message now; the delivery says sent, or failed with the channel's answer.",
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError] },
    resolve: (_root, { id }, ctx) => testChannel(ctx.db, ctx.notifications, String(id), ctx.actor),
  }),
);
