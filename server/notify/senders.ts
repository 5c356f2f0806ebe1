// Sending one message to one channel. Each attempt has a time limit and follows no redirect; an
// answer other than 2xx (or an SMTP refusal) is a failure the dispatcher retries. The answer's
// text is kept short: it goes into the delivery log, which an admin reads.
import { createHmac } from "node:crypto";
import { KILN_VERSION } from "../version.js";
import type { ChannelConfig, ChannelKind, NotificationEvent } from "./channels.js";

export interface NotificationMessage {
  event: NotificationEvent;
  /** ISO time of what happened. */
  at: string;
  title: string;
  text: string;
  severity: "info" | "warning" | "critical";
  /** A link into Kiln (the report, the job), when publicUrl is set. */
  url?: string;
  data: Record<string, unknown>;
}

const TIMEOUT_MS = 10_000;

/** The webhook signature of a body sent at `timestamp` (seconds): hex HMAC-SHA256 of "timestamp.body". */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

async function post(url: string, init: { headers: Record<string, string>; body: string }): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "user-agent": `Kiln/${KILN_VERSION}`, ...init.headers },
    body: init.body,
    redirect: "manual",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const text = (await response.text().catch(() => "")).replace(/\s+/g, " ").slice(0, 200);
  throw new Error(`${url} answered ${response.status}${text ? `: ${text}` : ""}`);
}

const NTFY_PRIORITY = { info: "3", warning: "4", critical: "5" } as const;
const GOTIFY_PRIORITY = { info: 2, warning: 5, critical: 8 } as const;

export async function sendMessage(
  kind: ChannelKind,
  config: ChannelConfig[ChannelKind],
  message: NotificationMessage,
  deliveryId: string,
): Promise<void> {
  switch (kind) {
    case "webhook": {
      const c = config as ChannelConfig["webhook"];
      const body = JSON.stringify({ delivery: deliveryId, ...message });
      const timestamp = String(Math.floor(Date.now() / 1000));
      await post(c.url, {
        headers: {
          "content-type": "application/json",
          "x-kiln-event": message.event,
          "x-kiln-delivery": deliveryId,
          "x-kiln-timestamp": timestamp,
          "x-kiln-signature": webhookSignature(c.secret, timestamp, body),
        },
        body,
      });
      return;
    }
    case "ntfy": {
      const c = config as ChannelConfig["ntfy"];
      await post(c.url, {
        headers: {
          // Header values must be Latin-1; the title goes in RFC 2047 form when it is not.
          title: /^[\x20-\x7e]*$/.test(message.title) ? message.title : `=?UTF-8?B?${Buffer.from(message.title).toString("base64")}?=`,
          priority: NTFY_PRIORITY[message.severity],
          tags: message.severity === "info" ? "kiln" : `kiln,${message.severity === "critical" ? "rotating_light" : "warning"}`,
          ...(message.url ? { click: message.url } : {}),
          ...(c.token ? { authorization: `Bearer ${c.token}` } : {}),
          "content-type": "text/plain; charset=utf-8",
        },
        body: message.text,
      });
      return;
    }
    case "gotify": {
      const c = config as ChannelConfig["gotify"];
      await post(`${c.url.replace(/\/+$/, "")}/message`, {
        headers: { "content-type": "application/json", "x-gotify-key": c.token },
        body: JSON.stringify({
          title: message.title,
          message: message.url ? `${message.text}\n\n${message.url}` : message.text,
          priority: GOTIFY_PRIORITY[message.severity],
        }),
      });
      return;
    }
    case "email": {
      const c = config as ChannelConfig["email"];
      // nodemailer loads with the first email, not with the server.
      const { default: nodemailer } = await import("nodemailer");
      const transport = nodemailer.createTransport({
        host: c.host,
        port: c.port,
        secure: c.security === "tls",
        requireTLS: c.security === "starttls",
        ignoreTLS: c.security === "none",
        auth: c.username ? { user: c.username, pass: c.password ?? "" } : undefined,
        connectionTimeout: TIMEOUT_MS,
        greetingTimeout: TIMEOUT_MS,
        socketTimeout: TIMEOUT_MS,
      });
      try {
        await transport.sendMail({
          from: c.from,
          to: c.to,
          subject: message.title,
          text: message.url ? `${message.text}\n\n${message.url}\n` : `${message.text}\n`,
          headers: { "X-Kiln-Event": message.event, "X-Kiln-Delivery": deliveryId },
        });
      } finally {
        transport.close();
      }
      return;
    }
  }
}
