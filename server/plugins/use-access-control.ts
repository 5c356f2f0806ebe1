// What holds for a whole operation, whatever it selects: nobody signed in gets 401, and a browser
// session must send X-Kiln-CSRF (any value), a header no other site's page can add without CORS
// permission. A subscription ends once its session or token is revoked or expires. Which scope
// each field needs is checked where the field executes (schema/root-field-scopes.ts with
// @pothos/plugin-scope-auth), so no spelling of a document can step around it.
import type { Plugin } from "graphql-yoga";
import { forbidden, unauthenticated } from "../auth/refusals.js";
import type { Viewer } from "../auth/viewer.js";
import type { Context } from "../context.js";
import { stillValid } from "../services/accounts.js";

export const CSRF_HEADER = "x-kiln-csrf";
/** How often a running subscription checks that its credential is still valid. */
export const SUBSCRIPTION_RECHECK_MS = 5_000;

function check(viewer: Viewer, request: Request | undefined): void {
  if (viewer.scope === null) throw unauthenticated();
  if (viewer.via === "session" && !request?.headers.get(CSRF_HEADER)) {
    throw forbidden("a signed-in browser must send the X-Kiln-CSRF header");
  }
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
      check(context.viewer, context.request);
    },
    onSubscribe({ args }) {
      const context = args.contextValue as Context & { request?: Request };
      check(context.viewer, context.request);
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
