// Checks on every HTTP request before it is routed. The Host header must be one of the names Kiln
// answers to: a page on evil.example whose DNS name is rebound to 127.0.0.1 reaches Kiln with
// Host: evil.example and is refused (DNS rebinding).

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
