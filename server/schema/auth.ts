// Accounts and tokens in the API: who am I, my tokens, users and the audit log (admins).
// Signing in and the first setup are plain HTTP (server/auth-routes.ts): they need no token.
import { ROLES, SCOPES } from "../auth/viewer.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { changePassword, createApiToken, createUser, revokeApiToken, signOutEverywhere, updateUser } from "../services/accounts.js";
import { builder } from "./builder.js";
import { oneOf } from "./enums.js";
import { connectionComplexity } from "./field-helpers.js";

const ScopeRef = builder.enumType("Scope", { values: SCOPES, description: "read < operate < admin: each includes the ones before it." });
const RoleRef = builder.enumType("Role", { values: ROLES });

const ViewerRef = builder.objectRef<{ actor: string; scope: (typeof SCOPES)[number]; via: string }>("Viewer").implement({
  fields: (t) => ({
    name: t.exposeString("actor", { description: "As the audit log names you." }),
    scope: t.field({ type: ScopeRef, resolve: (v) => v.scope }),
    via: t.exposeString("via", { description: "session | token | auth-off" }),
  }),
});

builder.queryField("me", (t) =>
  t.field({
    type: ViewerRef,
    resolve: (_root, _args, ctx) => ({ actor: ctx.viewer.actor, scope: ctx.viewer.scope ?? "read", via: ctx.viewer.via }),
  }),
);

const UserRef = builder.prismaObject("User", {
  fields: (t) => ({
    id: t.exposeID("id"),
    username: t.exposeString("username"),
    role: t.field({ type: RoleRef, select: { role: true }, resolve: (u) => oneOf(ROLES, u.role, "role") }),
    disabledAt: t.expose("disabledAt", {
      type: "DateTime",
      nullable: true,
      description: "Set while the account is disabled: it cannot sign in, its sessions and tokens are refused.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const ApiTokenRef = builder.prismaObject("ApiToken", {
  description: "An API token. Its secret was shown once, when it was made; Kiln keeps only its hash.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    scope: t.field({ type: ScopeRef, select: { scope: true }, resolve: (k) => oneOf(SCOPES, k.scope, "scope") }),
    user: t.relation("user"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    lastUsedAt: t.expose("lastUsedAt", { type: "DateTime", nullable: true }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
  }),
});

builder.queryField("apiTokens", (t) =>
  t.prismaField({
    type: ["ApiToken"],
    description: "Your tokens (an admin sees everyone's), newest first.",
    resolve: (query, _root, _args, ctx) =>
      ctx.db.apiToken.findMany({
        ...query,
        where: ctx.viewer.scope === "admin" ? {} : { userId: ctx.viewer.userId ?? "" },
        orderBy: { createdAt: "desc" },
        take: 500,
      }),
  }),
);

const CreatedTokenRef = builder.objectRef<{ token: unknown; secret: string }>("CreatedApiToken").implement({
  fields: (t) => ({
    token: t.field({ type: ApiTokenRef, resolve: (r) => r.token as never }),
    secret: t.exposeString("secret", { description: "Send as `Authorization: Bearer <secret>`. Shown this once only." }),
  }),
});

builder.mutationField("createApiToken", (t) =>
  t.field({
    type: CreatedTokenRef,
    description: "A token for a script or an integration, with one scope (at most yours) and an optional expiry.",
    args: {
      name: t.arg.string({ required: true }),
      scope: t.arg({ type: ScopeRef, required: true }),
      expiresInDays: t.arg.int({ required: false }),
    },
    errors: { types: [ValidationError] },
    resolve: (_root, args, ctx) => createApiToken(ctx.db, ctx.viewer, args),
  }),
);

builder.mutationField("revokeApiToken", (t) =>
  t.field({
    type: ApiTokenRef,
    description: "Revoke a token at once: its requests are refused and its open subscriptions end.",
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError] },
    resolve: async (_root, { id }, ctx) => {
      const token = await ctx.db.apiToken.findUnique({ where: { id: String(id) } });
      // Someone else's token is not found, unless you are an admin.
      if (!token || (ctx.viewer.scope !== "admin" && token.userId !== ctx.viewer.userId)) throw new NotFoundError("token", String(id));
      return revokeApiToken(ctx.db, ctx.viewer, token.id);
    },
  }),
);

builder.queryField("users", (t) =>
  t.prismaField({
    type: ["User"],
    resolve: (query, _root, _args, ctx) => ctx.db.user.findMany({ ...query, orderBy: { username: "asc" } }),
  }),
);

builder.mutationField("createUser", (t) =>
  t.field({
    type: UserRef,
    args: {
      username: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      role: t.arg({ type: RoleRef, required: true }),
    },
    errors: { types: [ValidationError] },
    resolve: (_root, args, ctx) => createUser(ctx.db, args, ctx.actor),
  }),
);

builder.mutationField("updateUser", (t) =>
  t.field({
    type: UserRef,
    description:
      "Change another account: its role, disable or enable it, or reset its password (its sessions end). Kiln keeps one enabled admin; nobody demotes or disables themselves.",
    args: {
      id: t.arg.id({ required: true }),
      role: t.arg({ type: RoleRef, required: false }),
      disabled: t.arg.boolean({ required: false }),
      password: t.arg.string({ required: false }),
    },
    errors: { types: [ValidationError, NotFoundError] },
    resolve: (_root, { id, ...change }, ctx) => updateUser(ctx.db, ctx.viewer, String(id), change),
  }),
);

builder.mutationField("changePassword", (t) =>
  t.field({
    type: UserRef,
    description:
      "Change your own password (signed in, not with a token). Your other sessions end; your API tokens keep working unless revokeTokens is true (signOutEverywhere ends all of it).",
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
      revokeTokens: t.arg.boolean({ required: false, defaultValue: false }),
    },
    errors: { types: [ValidationError] },
    resolve: (_root, args, ctx) => changePassword(ctx.db, ctx.viewer, args),
  }),
);

const SignedOutRef = builder.objectRef<{ sessionsEnded: number; tokensRevoked: number }>("SignedOutEverywhere").implement({
  fields: (t) => ({
    sessionsEnded: t.exposeInt("sessionsEnded"),
    tokensRevoked: t.exposeInt("tokensRevoked"),
  }),
});

builder.mutationField("signOutEverywhere", (t) =>
  t.field({
    type: SignedOutRef,
    description: "End every session of yours (this one too) and revoke every API token of yours: after a leak, or a lost laptop.",
    errors: { types: [ValidationError] },
    resolve: (_root, _args, ctx) => signOutEverywhere(ctx.db, ctx.viewer),
  }),
);

builder.prismaObject("AuditEvent", {
  fields: (t) => ({
    id: t.exposeID("id"),
    at: t.expose("at", { type: "DateTime" }),
    actor: t.exposeString("actor"),
    address: t.exposeString("address", { nullable: true }),
    action: t.exposeString("action"),
    subjectType: t.exposeString("subjectType", { nullable: true }),
    subjectId: t.exposeString("subjectId", { nullable: true }),
    details: t.exposeString("details", { description: "JSON." }),
  }),
});

builder.queryField("auditEvents", (t) =>
  t.prismaConnection({
    type: "AuditEvent",
    cursor: "id",
    description: "Who did what, from where, newest first.",
    complexity: connectionComplexity,
    resolve: (query, _root, _args, ctx) => ctx.db.auditEvent.findMany({ ...query, orderBy: [{ at: "desc" }, { id: "desc" }] }),
  }),
);
