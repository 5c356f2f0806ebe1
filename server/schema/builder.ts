// The Pothos schema builder: plugins and options only. Types live in one file per domain.
import SchemaBuilder from "@pothos/core";
import ComplexityPlugin from "@pothos/plugin-complexity";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin from "@pothos/plugin-prisma";
import RelayPlugin from "@pothos/plugin-relay";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { fieldForbidden } from "../auth/refusals.js";
import { scopeFor } from "../auth/scopes.js";
import { allows, type Scope } from "../auth/viewer.js";
import type { Context } from "../context.js";
import type PrismaTypes from "../db/generated/pothos-types.js";
import { getDatamodel } from "../db/generated/pothos-types.js";
import { ROOT_FIELD_SCOPES_PLUGIN } from "./root-field-scopes.js";

/** The most a query may cost (see `complexity` below): a full dashboard query costs a few thousand. */
export const MAX_COMPLEXITY = 20_000;

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: Record<Scope, boolean>;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
  };
}>({
  // Scope auth first: its check runs before any other plugin's wrapper (the errors plugin would
  // otherwise see a refusal as the field's own failure). Root field scopes come from
  // server/auth/scopes.ts through the plugin before it.
  plugins: [ROOT_FIELD_SCOPES_PLUGIN, ScopeAuthPlugin, ComplexityPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // A subscription is checked once, when it starts (and ends with its credential:
    // plugins/use-access-control.ts), not on every event.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      read: allows(ctx.viewer.scope, "read"),
      operate: allows(ctx.viewer.scope, "operate"),
      admin: allows(ctx.viewer.scope, "admin"),
    }),
    unauthorizedError: (_parent, ctx, info) =>
      fieldForbidden(info.fieldName, scopeFor(info.parentType.name as "Query" | "Mutation" | "Subscription", info.fieldName), ctx.viewer),
  },
  // Refused before any resolver runs: a query whose shape could fan out (lists inside lists,
  // cycles such as drives { host { drives ... } }) beyond what any screen or script needs.
  // A list counts 10x its selection unless its field says otherwise (connections: `first`).
  complexity: {
    defaultComplexity: 1,
    defaultListMultiplier: 10,
    limit: { complexity: MAX_COMPLEXITY, depth: 12, breadth: 300 },
  },
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    defaultConnectionSize: 50,
    maxConnectionSize: 500,
    onUnusedQuery: process.env.NODE_ENV === "production" ? null : "warn",
  },
  errors: {
    // Only the error classes a field lists become typed results; anything else is unexpected
    // and masked by graphql-yoga.
    defaultTypes: [],
    defaultResultOptions: { name: ({ fieldName }) => `${upperFirst(fieldName)}Success` },
    defaultUnionOptions: { name: ({ fieldName }) => `${upperFirst(fieldName)}Result` },
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

function upperFirst(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
