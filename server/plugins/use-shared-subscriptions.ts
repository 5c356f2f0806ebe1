// Dashboard subscriptions (jobUpdates, driveUpdated, hostUpdated) go through the fan-out hub
// (events/fanout.ts): one execution per event for everyone who asked the same thing, and a
// coalescing queue per subscriber. Their results do not depend on who asks; who may ask is checked
// when a group's stream opens, so groups are split by the caller's scope (and each stream still
// ends with its credential).
// jobProgress stays per subscriber: its first event is the job's state at that subscriber's start.
import { Kind, type OperationDefinitionNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Context } from "../context.js";
import type { FanoutHub } from "../events/fanout.js";

const SHARED_FIELDS = new Set(["jobUpdates", "driveUpdated", "hostUpdated"]);

export function useSharedSubscriptions(hub: FanoutHub): Plugin<Context> {
  return {
    onSubscribe({ args, setSubscribeFn }) {
      const definitions: readonly { kind: string }[] = args.document.definitions;
      const operations = definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      const operation = args.operationName
        ? operations.find((o: OperationDefinitionNode) => o.name?.value === args.operationName)
        : operations[0];
      const fields = operation?.selectionSet.selections ?? [];
      if (fields.length !== 1 || fields[0]?.kind !== Kind.FIELD || !SHARED_FIELDS.has(fields[0].name.value)) return;
      setSubscribeFn(((subscribeArgs: Parameters<FanoutHub["subscribe"]>[0]) =>
        hub.subscribe(subscribeArgs, (subscribeArgs.contextValue as Context).viewer.scope ?? "")) as never);
    },
  };
}
