// Every operation is checked before it runs: each root field it selects needs a scope (see
// auth/scopes.ts) that the viewer has. Nobody signed in gets 401, too few rights 403. A browser
// session must also send X-Kiln-CSRF (any value): a header no other site's page can add without
// CORS permission. A subscription ends once its session or token is revoked or expires.
import { GraphQLError, Kind, type OperationDefinitionNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import { scopeFor } from "../auth/scopes.js";
import { allows, type Viewer } from "../auth/viewer.js";
import type { Context } from "../context.js";
import { stillValid } from "../services/accounts.js";

export const CSRF_HEADER = "x-kiln-csrf";
/** How often a running subscription checks that its credential is still valid. */
export const SUBSCRIPTION_RECHECK_MS = 5_000;

function refuse(status: 401 | 403, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: status === 401 ? "UNAUTHENTICATED" : "FORBIDDEN", http: { status } } });
}

function check(viewer: Viewer, request: Request | undefined, operation: OperationDefinitionNode | undefined): void {
  if (!operation) return;
  if (viewer.scope === null) throw refuse(401, "sign in (a session cookie) or send an API token (Authorization: Bearer ...)");
  if (viewer.via === "session" && !request?.headers.get(CSRF_HEADER)) {
    throw refuse(403, "a signed-in browser must send the X-Kiln-CSRF header");
  }
  const root = operation.operation === "query" ? "Query" : operation.operation === "mutation" ? "Mutation" : "Subscription";
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const need = scopeFor(root, selection.name.value);
    if (!allows(viewer.scope, need))
      throw refuse(403, `${selection.name.value} needs the ${need} scope; ${viewer.actor} has ${viewer.scope}`);
  }
}

function operationOf(args: { document: { definitions: readonly { kind: string }[] }; operationName?: string | null }) {
  const operations = args.document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return args.operationName ? operations.find((o) => o.name?.value === args.operationName) : operations[0];
}

/**
 * Ends `source` once the viewer's credential is no longer valid: one check every few seconds per
 * stream (never one per event: a dashboard may get dozens of events a second).
 */
function whileValid<T>(source: AsyncIterable<T>, context: Context): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  const stop = async () => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    await iterator.return?.();
  };
  const timer = setInterval(() => {
    stillValid(context.db, context.viewer).then(
      (valid) => (valid ? undefined : stop()),
      () => undefined, // a failed check is tried again at the next tick
    );
  }, SUBSCRIPTION_RECHECK_MS);
  timer.unref();
  return {
    async next() {
      if (ended) return { done: true, value: undefined };
      const result = await iterator.next();
      if (result.done) {
        ended = true;
        clearInterval(timer);
      }
      // Revoked while this event was on its way: it is not delivered.
      return ended ? { done: true, value: undefined } : result;
    },
    async return() {
      await stop();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export function useAccessControl(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const context = args.contextValue as Context & { request?: Request };
      check(context.viewer, context.request, operationOf(args));
    },
    onSubscribe({ args }) {
      const context = args.contextValue as Context & { request?: Request };
      check(context.viewer, context.request, operationOf(args));
      return {
        onSubscribeResult({ result, setResult }) {
          if (context.viewer.via === "auth-off") return;
          if (Symbol.asyncIterator in (result as object)) {
            setResult(whileValid(result as AsyncIterable<never>, context) as never);
          }
        },
      };
    },
  };
}
