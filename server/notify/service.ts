// Notification channels as admins manage them (every change audited), and a channel's test.
import type { Db } from "../db/client.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { audit } from "../services/audit.js";
import { type ChannelInput, checkChannel } from "./channels.js";
import { enqueueNotification, type NotificationDispatcher } from "./dispatcher.js";

function parseConfig(text: string | null | undefined): unknown {
  if (text == null) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError("config", 'must be JSON, e.g. {"url": "https://ntfy.sh/my-kiln"}');
  }
}

export interface ChannelArgs extends Omit<ChannelInput, "config"> {
  /** JSON of the kind's settings. */
  config?: string | null;
}

export async function addChannel(db: Db, args: ChannelArgs, actor: string) {
  const checked = checkChannel({ ...args, config: parseConfig(args.config) });
  if (await db.notificationChannel.findUnique({ where: { name: checked.name } }))
    throw new ValidationError("name", `a channel named "${checked.name}" exists`);
  return db.$transaction(async (tx) => {
    const channel = await tx.notificationChannel.create({
      data: {
        name: checked.name,
        kind: checked.kind,
        config: JSON.stringify(checked.config),
        events: JSON.stringify(checked.events),
        foldBatch: args.foldBatch ?? true,
        enabled: args.enabled ?? true,
      },
    });
    await audit(tx, {
      actor,
      action: "notification.channel.add",
      subjectType: "notification_channel",
      subjectId: channel.id,
      details: { name: channel.name, kind: channel.kind, events: checked.events },
    });
    return channel;
  });
}

export async function updateChannel(db: Db, id: string, args: ChannelArgs, actor: string) {
  const existing = await db.notificationChannel.findUnique({ where: { id } });
  if (!existing) throw new NotFoundError("notification channel", id);
  const previous = JSON.parse(existing.config) as Record<string, unknown>;
  // A change of kind starts from nothing: another kind's secrets do not carry over.
  const checked = checkChannel(
    { ...args, config: args.config == null ? previous : parseConfig(args.config) },
    args.kind === existing.kind ? previous : undefined,
  );
  const clash = await db.notificationChannel.findUnique({ where: { name: checked.name } });
  if (clash && clash.id !== id) throw new ValidationError("name", `a channel named "${checked.name}" exists`);
  return db.$transaction(async (tx) => {
    const channel = await tx.notificationChannel.update({
      where: { id },
      data: {
        name: checked.name,
        kind: checked.kind,
        config: JSON.stringify(checked.config),
        events: JSON.stringify(checked.events),
        ...(args.foldBatch != null ? { foldBatch: args.foldBatch } : {}),
        ...(args.enabled != null ? { enabled: args.enabled } : {}),
      },
    });
    await audit(tx, {
      actor,
      action: "notification.channel.update",
      subjectType: "notification_channel",
      subjectId: id,
      details: { name: channel.name, events: checked.events, enabled: channel.enabled },
    });
    return channel;
  });
}

export async function removeChannel(db: Db, id: string, actor: string) {
  const existing = await db.notificationChannel.findUnique({ where: { id } });
  if (!existing) throw new NotFoundError("notification channel", id);
  return db.$transaction(async (tx) => {
    await tx.notificationChannel.delete({ where: { id } });
    await audit(tx, {
      actor,
      action: "notification.channel.remove",
      subjectType: "notification_channel",
      subjectId: id,
      details: { name: existing.name },
    });
    return existing;
  });
}

/** Sends a test message to the channel now and returns its delivery (sent, or pending with the error). */
export async function testChannel(db: Db, dispatcher: NotificationDispatcher, id: string, actor: string) {
  const channel = await db.notificationChannel.findUnique({ where: { id } });
  if (!channel) throw new NotFoundError("notification channel", id);
  const [deliveryId] = await enqueueNotification(
    db,
    {
      event: "test",
      at: new Date().toISOString(),
      title: `Kiln test message for ${channel.name}`,
      text: `This is a test from Kiln, sent by ${actor}. If you read it, the ${channel.kind} channel "${channel.name}" works.`,
      severity: "info",
      data: { channel: channel.name },
    },
    { channelId: id },
  );
  await audit(db, {
    actor,
    action: "notification.channel.test",
    subjectType: "notification_channel",
    subjectId: id,
    details: { name: channel.name },
  });
  return dispatcher.deliverNow(deliveryId as string);
}
