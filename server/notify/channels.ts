// Notification channels: what each kind needs, checked on the way in (every bad field named), and
// what the API shows of them (never a secret: a password, token or signing secret is write-only).
import { z } from "zod";
import { ValidationError } from "../errors.js";

export const CHANNEL_KINDS = ["email", "webhook", "ntfy", "gotify"] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const NOTIFICATION_EVENTS = [
  "job.passed",
  "job.failed",
  "job.unknown",
  "job.cancelled",
  "job.bad_blocks",
  "job.smart_changed",
  "job.paused",
  "job.continued",
  "drive.hot",
  "host.unreachable",
  "host.back",
  "batch.finished",
  "test",
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

const httpUrl = z
  .string()
  .max(500)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password;
    } catch {
      return false;
    }
  }, "must be an http or https address, without user:password in it");
const secret = z.string().min(1).max(500);
const address = z
  .string()
  .max(254)
  .regex(/^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/, "must be an email address (name@example.com)");

const CONFIGS = {
  email: z.strictObject({
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.-]+$/, "must be a host name or address"),
    port: z.number().int().min(1).max(65_535),
    /** tls: TLS from the start (465); starttls: upgrade required (587); none: plain (a relay on localhost). */
    security: z.enum(["tls", "starttls", "none"]),
    username: z.string().max(200).optional(),
    password: secret.optional(),
    from: address,
    to: z.array(address).min(1).max(20),
  }),
  webhook: z.strictObject({
    url: httpUrl,
    /** Signs each body: X-Kiln-Signature: sha256=HMAC(secret, timestamp + "." + body). */
    secret: z.string().min(16, "must be at least 16 characters").max(500),
  }),
  ntfy: z.strictObject({ url: httpUrl, token: secret.optional() }),
  gotify: z.strictObject({ url: httpUrl, token: secret }),
} as const;

export type ChannelConfig = { [K in ChannelKind]: z.infer<(typeof CONFIGS)[K]> };
const SECRETS = new Set(["password", "secret", "token"]);

export interface ChannelInput {
  name: string;
  kind: string;
  config: unknown;
  events: readonly string[];
  foldBatch?: boolean | null;
  enabled?: boolean | null;
}

export interface CheckedChannel {
  name: string;
  kind: ChannelKind;
  config: ChannelConfig[ChannelKind];
  events: NotificationEvent[];
}

/** A channel as given, checked; `previous` keeps the secrets a change leaves out. */
export function checkChannel(input: ChannelInput, previous?: Record<string, unknown>): CheckedChannel {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 64) throw new ValidationError("name", "must be 1-64 characters");
  if (!(CHANNEL_KINDS as readonly string[]).includes(input.kind))
    throw new ValidationError("kind", `must be one of ${CHANNEL_KINDS.join(", ")}`);
  const kind = input.kind as ChannelKind;
  if (!input.events.length) throw new ValidationError("events", "name at least one event");
  const unknown = input.events.find((e) => !(NOTIFICATION_EVENTS as readonly string[]).includes(e));
  if (unknown !== undefined)
    throw new ValidationError("events", `"${unknown.slice(0, 40)}" is not one of ${NOTIFICATION_EVENTS.join(", ")}`);
  if (typeof input.config !== "object" || input.config === null || Array.isArray(input.config))
    throw new ValidationError("config", "must be an object");
  const given = input.config as Record<string, unknown>;
  // A secret left out of a change keeps its stored value; it is never sent back to be re-sent.
  const merged = { ...Object.fromEntries(Object.entries(previous ?? {}).filter(([k]) => SECRETS.has(k))), ...given };
  const parsed = CONFIGS[kind].safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ["config", ...(issue?.path ?? []).map(String)].join(".");
    throw new ValidationError(field, issue?.message ?? "is invalid");
  }
  return { name, kind, config: parsed.data, events: [...new Set(input.events)] as NotificationEvent[] };
}

/** The config as the API shows it: secrets replaced by whether one is set. */
export function publicConfig(config: Record<string, unknown>): { settings: Record<string, unknown>; secretsSet: string[] } {
  const settings: Record<string, unknown> = {};
  const secretsSet: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (SECRETS.has(key)) {
      if (value) secretsSet.push(key);
    } else settings[key] = value;
  }
  return { settings, secretsSet };
}
