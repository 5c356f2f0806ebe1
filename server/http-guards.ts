// Checks on every HTTP request before it is routed. The Host header must be one of the names Kiln
// answers to: a page on evil.example whose DNS name is rebound to 127.0.0.1 reaches Kiln with
// Host: evil.example and is refused (DNS rebinding). A browser's Origin must be Kiln's own
// (scheme, name and port: the address the browser used) or one of KILN_CORS_ORIGINS: another web
// app on the same name (the NAS's own UI on another port) is another origin.
import type { IncomingHttpHeaders } from "node:http";
import type { ApiConfig } from "./config.js";

/** The Host header's name without its port, lowercased; IPv6 addresses keep their brackets. */
export function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^(\[[^\]]+\]|[^:]+)(:\d+)?$/.exec(header.trim());
  return match?.[1]?.toLowerCase() ?? null;
}

export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  const name = hostName(header);
  return name !== null && allowed.includes(name);
}

/** Kiln's own origin as the browser that sent `headers` sees it (behind a TLS proxy: https). */
export function ownOrigin(headers: IncomingHttpHeaders): string | null {
  const host = headers.host?.trim().toLowerCase();
  if (!host) return null;
  const proto =
    String(headers["x-forwarded-proto"] ?? "")
      .split(",")[0]
      ?.trim()
      .toLowerCase() === "https"
      ? "https"
      : "http";
  return `${proto}://${host}`;
}

/**
 * May a page from `origin` use Kiln with the browser's cookie? No Origin: not a page's request
 * (a script, a top-level navigation), nothing to compare. Otherwise the whole origin must match.
 */
export function originAllowed(origin: string | undefined, headers: IncomingHttpHeaders, api: Pick<ApiConfig, "corsOrigins">): boolean {
  if (origin === undefined) return true;
  const asked = origin.trim().toLowerCase();
  if (api.corsOrigins.some((o) => o.toLowerCase() === asked)) return true;
  const own = ownOrigin(headers);
  if (!own) return false;
  // Default ports are left out of an Origin and of a Host header alike: compare what was sent.
  return asked === own;
}
