// Live data in shared mode comes through Redis. While Redis is away nothing arrives from the
// other instances, and a subscriber left in silence cannot tell a quiet scan from a broken bus:
// so every open subscription gets one error result (code EVENTS_UNAVAILABLE) and ends, and a new
// one is answered with that error at once, until Redis is back. Clients subscribe again then.
import { type ExecutionResult, GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../context.js";
import type { DependencyHealth } from "../dependency-health.js";

export const EVENTS_UNAVAILABLE = "EVENTS_UNAVAILABLE";

function unavailable(): ExecutionResult {
  return {
    errors: [
      new GraphQLError("Redis is not reachable: live events between Kiln instances stopped; subscribe again once it is back", {
        extensions: { code: EVENTS_UNAVAILABLE },
      }),
    ],
  };
}

/** The results of `source` until Redis is lost; then the error result, and the end. */
function untilBusLost(source: AsyncIterable<ExecutionResult>, health: DependencyHealth): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let state: "open" | "lost" | "ended" = health.isDown("Redis") ? "lost" : "open";
  let wake: (() => void) | null = null;
  const unwatch = health.onChange((dependency, up) => {
    if (dependency !== "Redis" || up || state !== "open") return;
    state = "lost";
    wake?.();
  });
  const end = () => {
    unwatch();
    if (state !== "ended") {
      state = "ended";
      // Not awaited: a generator waiting for its next event (jobProgress's) takes a return only
      // after that event, which may never come while Redis is away.
      void Promise.resolve(iterator.return?.()).catch(() => {});
    }
  };
  let pending: Promise<IteratorResult<ExecutionResult>> | null = null;
  return {
    async next() {
      if (state === "lost") {
        end();
        return { done: false, value: unavailable() };
      }
      if (state === "ended") return { done: true, value: undefined };
      pending ??= iterator.next();
      const lost = new Promise<"lost">((resolve) => {
        wake = () => resolve("lost");
      });
      const result = await Promise.race([pending, lost]);
      wake = null;
      if (result === "lost") return this.next();
      pending = null;
      if (result.done) end();
      return result;
    },
    async return() {
      end();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export function useLiveEventsHealth(health: DependencyHealth): Plugin<Context> {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (Symbol.asyncIterator in (result as object)) {
            setResult(untilBusLost(result as AsyncIterable<ExecutionResult>, health) as never);
          }
        },
      };
    },
  };
}
