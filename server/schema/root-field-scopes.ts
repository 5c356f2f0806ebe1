// Gives every root field the scope server/auth/scopes.ts lists for it, as the field's `authScopes`
// for @pothos/plugin-scope-auth: the check then runs where the field executes, however the
// document reaches it (an alias, an inline fragment, a spread, fragments inside fragments, a
// directive, a subscription over SSE or WebSocket). A root field missing from the map needs admin.
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from "@pothos/core";
import { scopeFor } from "../auth/scopes.js";

const ROOTS = new Set(["Query", "Mutation", "Subscription"]);

export class RootFieldScopesPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    if (!ROOTS.has(fieldConfig.kind)) return fieldConfig;
    if ((fieldConfig.pothosOptions as { authScopes?: unknown }).authScopes !== undefined) {
      // One home for who may call what: a scope written on the field would be a second one.
      throw new Error(`${fieldConfig.parentType}.${fieldConfig.name}: root field scopes belong in server/auth/scopes.ts`);
    }
    const need = scopeFor(fieldConfig.kind as "Query" | "Mutation" | "Subscription", fieldConfig.name);
    return {
      ...fieldConfig,
      pothosOptions: { ...fieldConfig.pothosOptions, authScopes: { [need]: true } },
    } as PothosOutputFieldConfig<Types>;
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      kilnRootFieldScopes: RootFieldScopesPlugin<Types>;
    }
  }
}

export const ROOT_FIELD_SCOPES_PLUGIN = "kilnRootFieldScopes";
SchemaBuilder.registerPlugin(ROOT_FIELD_SCOPES_PLUGIN, RootFieldScopesPlugin);
