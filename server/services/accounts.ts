// Accounts, browser sessions and API tokens. Secrets are random, shown once and stored only as
// their SHA-256; passwords only as scrypt hashes. Logins are rate-limited per account and
// address. Every change and every login is audited.
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { HashingBusyError, hashPassword, verifyPassword } from "../auth/passwords.js";
import { ANONYMOUS, allows, ROLES, type Role, SCOPES, type Scope, scopeOfRole, type Viewer } from "../auth/viewer.js";
import type { Db } from "../db/client.js";
import type { ApiToken, User } from "../db/generated/sqlite/client.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { audit } from "./audit.js";

export const SESSION_COOKIE = "kiln_session";
export const SESSION_HOURS = 12;
const TOKEN_PREFIX = "kiln_";

const sha256 = (secret: string) => createHash("sha256").update(secret).digest("hex");
const newSecret = () => randomBytes(32).toString("base64url");

/** Refused: not signed in, or a wrong password (never says which part was wrong). */
export class AuthError extends Error {
  override name = "AuthError";
  constructor(
    message: string,
    readonly status: 401 | 403 | 409 | 429 = 401,
    /** For a 429: when trying again makes sense (the Retry-After header). */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

const credentials = z.object({
  username: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "use 1-64 letters, digits, '.', '_' or '-'"),
  password: z.string().min(12, "must be at least 12 characters").max(1024, "must be at most 1024 characters"),
});

function validCredentials(input: unknown): { username: string; password: string } {
  const parsed = credentials.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ValidationError(String(issue?.path[0] ?? "input"), issue?.message ?? "is invalid");
}

export async function accountsExist(db: Db): Promise<boolean> {
  return (await db.user.count()) > 0;
}

/** The first account, an admin: only while there is none. */
export async function setupAdmin(db: Db, input: unknown): Promise<User> {
  const { username, password } = validCredentials(input);
  const passwordHash = await withinHashingLimit(() => hashPassword(password, "bounded"));
  return db.$transaction(async (tx) => {
    if ((await tx.user.count()) > 0) throw new AuthError("Kiln is already set up: sign in", 409);
    const user = await tx.user.create({ data: { username, passwordHash, role: "admin" } });
    await audit(tx, { actor: username, action: "auth.setup", subjectType: "user", subjectId: user.id });
    return user;
  });
}

export async function createUser(db: Db, input: { username: string; password: string; role: string }, actor: string): Promise<User> {
  const { username, password } = validCredentials(input);
  if (!(ROLES as readonly string[]).includes(input.role)) throw new ValidationError("role", `must be one of ${ROLES.join(", ")}`);
  if (await db.user.findUnique({ where: { username } })) throw new ValidationError("username", `"${username}" is taken`);
  const passwordHash = await hashPassword(password);
  return db.$transaction(async (tx) => {
    const user = await tx.user.create({ data: { username, passwordHash, role: input.role } });
    await audit(tx, { actor, action: "user.create", subjectType: "user", subjectId: user.id, details: { username, role: input.role } });
    return user;
  });
}

const passwordOnly = credentials.shape.password;

function validPassword(field: string, password: unknown): string {
  const parsed = passwordOnly.safeParse(password);
  if (parsed.success) return parsed.data;
  throw new ValidationError(field, parsed.error.issues[0]?.message ?? "is invalid");
}

/** Ends every open session of a user (a disabled user, a changed password). */
async function endSessions(tx: Pick<Db, "session">, userId: string, now: Date, keepSessionId?: string | null): Promise<number> {
  const { count } = await tx.session.updateMany({
    where: { userId, revokedAt: null, ...(keepSessionId ? { id: { not: keepSessionId } } : {}) },
    data: { revokedAt: now },
  });
  return count;
}

export interface UserChange {
  role?: string | null;
  disabled?: boolean | null;
  /** An admin's reset: the user's sessions end. */
  password?: string | null;
}

/**
 * An admin changes another account: its role, disabled or not, a new password. Kiln always keeps
 * one enabled admin, and nobody disables or demotes themselves (another admin must).
 */
export async function updateUser(db: Db, viewer: Viewer, userId: string, change: UserChange, now = new Date()): Promise<User> {
  const user = await db.user.findUnique({ where: { id: userId } });
  if (!user) throw new NotFoundError("user", userId);
  if (change.role != null && !(ROLES as readonly string[]).includes(change.role))
    throw new ValidationError("role", `must be one of ${ROLES.join(", ")}`);
  const passwordHash = change.password != null ? await hashPassword(validPassword("password", change.password)) : null;
  const demoted = change.role != null && change.role !== "admin" && user.role === "admin";
  const disabling = change.disabled === true && !user.disabledAt;
  if ((demoted || disabling) && user.id === viewer.userId)
    throw new ValidationError(demoted ? "role" : "disabled", "you cannot demote or disable yourself: another admin must");
  return db.$transaction(async (tx) => {
    if ((demoted || disabling) && user.role === "admin" && !user.disabledAt) {
      const admins = await tx.user.count({ where: { role: "admin", disabledAt: null } });
      if (admins <= 1) throw new ValidationError(demoted ? "role" : "disabled", "Kiln needs at least one enabled admin");
    }
    const updated = await tx.user.update({
      where: { id: userId },
      data: {
        ...(change.role != null ? { role: change.role } : {}),
        ...(change.disabled != null ? { disabledAt: change.disabled ? (user.disabledAt ?? now) : null } : {}),
        ...(passwordHash ? { passwordHash } : {}),
      },
    });
    const ended = disabling || passwordHash ? await endSessions(tx, userId, now) : 0;
    await audit(tx, {
      actor: viewer.actor,
      action: "user.update",
      subjectType: "user",
      subjectId: userId,
      details: {
        username: user.username,
        ...(change.role != null ? { role: change.role } : {}),
        ...(change.disabled != null ? { disabled: change.disabled } : {}),
        ...(passwordHash ? { passwordReset: true } : {}),
        sessionsEnded: ended,
      },
    });
    return updated;
  });
}

/** Revokes every live token of a user; how many. */
async function revokeTokens(tx: Pick<Db, "apiToken">, userId: string, now: Date): Promise<number> {
  const { count } = await tx.apiToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
  return count;
}

/**
 * A signed-in user changes their own password; their other sessions end, this one stays. Their
 * API tokens are credentials of their own (scripts) and keep working unless `revokeTokens`.
 */
export async function changePassword(
  db: Db,
  viewer: Viewer,
  input: { currentPassword: string; newPassword: string; revokeTokens?: boolean | null },
  now = new Date(),
): Promise<User> {
  if (viewer.via !== "session" || !viewer.userId)
    throw new ValidationError("currentPassword", "a password is changed by its signed-in user, not by a token");
  const user = await db.user.findUnique({ where: { id: viewer.userId } });
  if (!user) throw new NotFoundError("user", viewer.userId);
  if (!(await verifyPassword(input.currentPassword, user.passwordHash))) throw new ValidationError("currentPassword", "is wrong");
  const newPassword = validPassword("newPassword", input.newPassword);
  if (newPassword === input.currentPassword) throw new ValidationError("newPassword", "is the same as the current one");
  const passwordHash = await hashPassword(newPassword);
  return db.$transaction(async (tx) => {
    const updated = await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
    const ended = await endSessions(tx, user.id, now, viewer.credentialId);
    const revoked = input.revokeTokens ? await revokeTokens(tx, user.id, now) : 0;
    await audit(tx, {
      actor: viewer.actor,
      action: "user.password",
      subjectType: "user",
      subjectId: user.id,
      details: { sessionsEnded: ended, tokensRevoked: revoked },
    });
    return updated;
  });
}

/**
 * Sign out everywhere: every session of the signed-in user ends (this one too) and every API
 * token of theirs is revoked; open subscriptions of those end within seconds.
 */
export async function signOutEverywhere(
  db: Db,
  viewer: Viewer,
  now = new Date(),
): Promise<{ sessionsEnded: number; tokensRevoked: number }> {
  if (viewer.via !== "session" || !viewer.userId)
    throw new ValidationError("user", "signing out everywhere is done by the signed-in user, not by a token");
  const userId = viewer.userId;
  return db.$transaction(async (tx) => {
    const sessionsEnded = await endSessions(tx, userId, now);
    const tokensRevoked = await revokeTokens(tx, userId, now);
    await audit(tx, {
      actor: viewer.actor,
      action: "auth.sign_out_everywhere",
      subjectType: "user",
      subjectId: userId,
      details: { sessionsEnded, tokensRevoked },
    });
    return { sessionsEnded, tokensRevoked };
  });
}

// Failed logins per account and per address: 5 in 15 minutes locks that key for the rest of the
// window. An attempt is counted when it arrives, before its password is checked (and uncounted
// if it succeeds): 40 attempts sent at once count 40, so at most 5 of them are ever checked.
const FAILURE_WINDOW_MS = 15 * 60_000;
const MAX_FAILURES = 5;
const failures = new Map<string, number[]>();

function recentFailures(key: string, now: number): number[] {
  const list = (failures.get(key) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS);
  failures.set(key, list);
  return list;
}

function uncount(key: string, at: number): void {
  const list = failures.get(key);
  const i = list?.indexOf(at) ?? -1;
  if (list && i >= 0) list.splice(i, 1);
}

/** A 429 when password hashing is saturated (anyone may send sign-ins; the API must still answer). */
async function withinHashingLimit<T>(hash: () => Promise<T>): Promise<T> {
  try {
    return await hash();
  } catch (error) {
    if (error instanceof HashingBusyError) throw new AuthError(error.message, 429, error.retryAfterSeconds);
    throw error;
  }
}

export interface LoginResult {
  user: User;
  /** The cookie value: shown to the browser once, stored hashed. */
  token: string;
  expiresAt: Date;
}

export async function login(db: Db, input: unknown, address: string | null, now = new Date()): Promise<LoginResult> {
  const username = typeof (input as { username?: unknown })?.username === "string" ? (input as { username: string }).username.trim() : "";
  const password = typeof (input as { password?: unknown })?.password === "string" ? (input as { password: string }).password : "";
  const keys = [`user:${username.toLowerCase()}`, `address:${address ?? "?"}`];
  const t = now.getTime();
  const locked = keys.map((k) => recentFailures(k, t)).find((list) => list.length >= MAX_FAILURES);
  if (locked) {
    const seconds = Math.ceil((FAILURE_WINDOW_MS - (t - (locked[0] ?? t))) / 1000);
    await audit(db, { actor: username || "anonymous", action: "auth.login_locked", details: { username } });
    throw new AuthError(`too many failed sign-ins: try again in ${Math.ceil(seconds / 60)} min`, 429, seconds);
  }
  // Counted now, in the same turn of the event loop as the check above: no other attempt can
  // pass the check in between.
  for (const k of keys) recentFailures(k, t).push(t);
  let user: User | null = null;
  let ok = false;
  try {
    user = username ? await db.user.findUnique({ where: { username } }) : null;
    // The same work whether or not the account exists, so timing does not tell.
    const stored = user?.passwordHash;
    ok = await withinHashingLimit(() =>
      stored ? verifyPassword(password, stored, "bounded") : hashPassword(password, "bounded").then(() => false),
    );
  } catch (error) {
    // Not checked (hashing was busy, the database failed): not a failed attempt either.
    for (const k of keys) uncount(k, t);
    throw error;
  }
  if (!user || !ok) {
    await audit(db, { actor: username || "anonymous", action: "auth.login_failed", details: { username } });
    throw new AuthError("wrong user name or password");
  }
  for (const k of keys) failures.delete(k);
  // Said only to someone who knows the password.
  if (user.disabledAt) {
    await audit(db, { actor: user.username, action: "auth.login_disabled", subjectType: "user", subjectId: user.id });
    throw new AuthError("this account is disabled: ask an admin", 403);
  }
  const token = newSecret();
  const expiresAt = new Date(t + SESSION_HOURS * 3_600_000);
  const session = await db.session.create({ data: { tokenHash: sha256(token), userId: user.id, address, expiresAt } });
  await audit(db, { actor: user.username, action: "auth.login", subjectType: "session", subjectId: session.id });
  return { user, token, expiresAt };
}

export async function logout(db: Db, token: string, now = new Date()): Promise<void> {
  const session = await db.session.findUnique({ where: { tokenHash: sha256(token) }, include: { user: true } });
  if (!session || session.revokedAt) return;
  await db.session.update({ where: { id: session.id }, data: { revokedAt: now } });
  await audit(db, { actor: session.user.username, action: "auth.logout", subjectType: "session", subjectId: session.id });
}

const tokenInput = z.object({
  name: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9 ._-]{1,64}$/, "use 1-64 letters, digits, spaces, '.', '_' or '-'"),
  scope: z.enum(SCOPES),
  expiresInDays: z.number().int().min(1).max(3650).nullish(),
});

/** A new API token: the secret is in the result once and never again. */
export async function createApiToken(
  db: Db,
  viewer: Viewer,
  input: unknown,
  now = new Date(),
): Promise<{ token: ApiToken; secret: string }> {
  const parsed = tokenInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(String(issue?.path[0] ?? "input"), issue?.message ?? "is invalid");
  }
  // Made by a signed-in person, never by another token (a leaked token cannot mint more).
  if (viewer.via !== "session" || !viewer.userId)
    throw new ValidationError("user", "API tokens are made by a signed-in user, not by a token");
  if (!allows(viewer.scope, parsed.data.scope))
    throw new ValidationError("scope", `a token cannot have more rights than you (${viewer.scope})`);
  const secret = `${TOKEN_PREFIX}${newSecret()}`;
  const expiresAt = parsed.data.expiresInDays ? new Date(now.getTime() + parsed.data.expiresInDays * 86_400_000) : null;
  const token = await db.$transaction(async (tx) => {
    const created = await tx.apiToken.create({
      data: { name: parsed.data.name, scope: parsed.data.scope, tokenHash: sha256(secret), userId: viewer.userId as string, expiresAt },
    });
    await audit(tx, {
      actor: viewer.actor,
      action: "token.create",
      subjectType: "token",
      subjectId: created.id,
      details: { name: created.name, scope: created.scope, expiresAt },
    });
    return created;
  });
  return { token, secret };
}

export async function revokeApiToken(db: Db, viewer: Viewer, tokenId: string, now = new Date()): Promise<ApiToken> {
  const token = await db.apiToken.findUnique({ where: { id: tokenId } });
  if (!token) throw new NotFoundError("token", tokenId);
  if (token.revokedAt) return token;
  return db.$transaction(async (tx) => {
    const revoked = await tx.apiToken.update({ where: { id: tokenId }, data: { revokedAt: now } });
    await audit(tx, {
      actor: viewer.actor,
      action: "token.revoke",
      subjectType: "token",
      subjectId: tokenId,
      details: { name: token.name },
    });
    return revoked;
  });
}

/** Last use is written at most once a minute per token: a busy script must not mean a write per request. */
const LAST_USE_WRITE_MS = 60_000;

/** The viewer behind a session cookie or a bearer token; anonymous when neither is valid. */
export async function viewerFor(
  db: Db,
  credentials: { session?: string | null; bearer?: string | null },
  now = new Date(),
): Promise<Viewer> {
  if (credentials.bearer) {
    const token = await db.apiToken.findUnique({ where: { tokenHash: sha256(credentials.bearer) }, include: { user: true } });
    if (!token || token.revokedAt || (token.expiresAt && token.expiresAt <= now) || token.user.disabledAt) return ANONYMOUS;
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() >= LAST_USE_WRITE_MS) {
      await db.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
    }
    // A token never has more rights than its user has now.
    const userScope = scopeOfRole(token.user.role);
    const scope = allows(userScope, token.scope as Scope) ? (token.scope as Scope) : userScope;
    return {
      actor: `token ${token.name} (${token.user.username})`,
      label: `the token "${token.name}" of user ${token.user.username}`,
      scope,
      via: "token",
      userId: token.userId,
      credentialId: token.id,
    };
  }
  if (credentials.session) {
    const session = await db.session.findUnique({ where: { tokenHash: sha256(credentials.session) }, include: { user: true } });
    if (!session || session.revokedAt || session.expiresAt <= now || session.user.disabledAt) return ANONYMOUS;
    return {
      actor: session.user.username,
      label: `user ${session.user.username} (${session.user.role})`,
      scope: scopeOfRole(session.user.role),
      via: "session",
      userId: session.userId,
      credentialId: session.id,
    };
  }
  return ANONYMOUS;
}

/** Is the session or token behind a viewer still valid (for subscriptions that outlive a request)? */
export async function stillValid(db: Db, viewer: Viewer, now = new Date()): Promise<boolean> {
  if (viewer.via === "auth-off") return true;
  if (!viewer.credentialId) return false;
  if (viewer.via === "token") {
    const token = await db.apiToken.findUnique({ where: { id: viewer.credentialId }, include: { user: true } });
    return !!token && !token.revokedAt && !(token.expiresAt && token.expiresAt <= now) && !token.user.disabledAt;
  }
  const session = await db.session.findUnique({ where: { id: viewer.credentialId }, include: { user: true } });
  return !!session && !session.revokedAt && session.expiresAt > now && !session.user.disabledAt;
}

export type { Role };
