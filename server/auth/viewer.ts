// Who is asking, and what they may do. Scopes are levels: operate includes read, admin includes
// operate. A user's role gives theirs; a token has one of its user's, never more.
export const SCOPES = ["read", "operate", "admin"] as const;
export type Scope = (typeof SCOPES)[number];
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

const ROLE_SCOPE: Record<Role, Scope> = { viewer: "read", operator: "operate", admin: "admin" };

export function scopeOfRole(role: string): Scope {
  return ROLE_SCOPE[role as Role] ?? "read";
}

export function allows(have: Scope | null, need: Scope): boolean {
  return have !== null && SCOPES.indexOf(have) >= SCOPES.indexOf(need);
}

export interface Viewer {
  /** Who, as the audit log says it. */
  actor: string;
  /** Who, as a refusal tells the caller: `user vera (viewer)`, `the token "ci" of user admin`. */
  label: string;
  /** The highest scope; null when nobody is signed in. */
  scope: Scope | null;
  via: "session" | "token" | "auth-off" | "anonymous";
  userId: string | null;
  /** The session or token id, to check that it is still valid during a long subscription. */
  credentialId: string | null;
}

export const ANONYMOUS: Viewer = {
  actor: "anonymous",
  label: "nobody signed in",
  scope: null,
  via: "anonymous",
  userId: null,
  credentialId: null,
};
export const AUTH_OFF: Viewer = {
  actor: "local",
  label: "local (accounts are off)",
  scope: "admin",
  via: "auth-off",
  userId: null,
  credentialId: null,
};

/**
 * An actor as `viewer` may see it: admins see who exactly (`token ci (alice)`); everyone else sees
 * the person behind a token (`alice (token)`), not the names other people gave their tokens.
 */
export function actorShownTo(viewer: Pick<Viewer, "scope">, actor: string | null): string | null {
  if (actor === null || viewer.scope === "admin") return actor;
  const token = /^token .* \(([^()]+)\)$/.exec(actor);
  return token ? `${token[1]} (token)` : actor;
}
