// Commands for a job another instance runs. Behind a load balancer an operator's cancel, pause or
// continue reaches any instance; only the one holding the job's lease can carry it out (it has
// the scan's process and its follow loop). The receiving instance sends the command to the
// holder over the shared event bus (Redis) and waits for its answer. Each instance listens on
// its own topic and answers on the request's.
//
// Trust: whoever can publish on the Redis Kiln uses can send these (and fake any event): Redis
// must be as private as the database. The API checked the caller's scope before sending.
import { randomUUID } from "node:crypto";
import type { DependencyHealth } from "../dependency-health.js";
import type { KilnPubSub } from "../events/pubsub.js";
import type { PauseAction } from "./job-control.js";

export type CommandAction = "cancel" | PauseAction;

export interface JobCommand {
  id: string;
  jobId: string;
  action: CommandAction;
  actor: string;
}

export interface JobCommandReply {
  /** False: the job is not running on that instance (it ended, or moved). */
  handled: boolean;
  /** Why it was not done; null when done. */
  refusal: string | null;
}

/** How long a sender waits for the holder's answer (a cancel waits for the process to be gone). */
export const COMMAND_TIMEOUT_MS = 30_000;

/** Redis is away: no command can reach another instance (said at once, not after the timeout). */
export class EventBusDown extends Error {
  override name = "EventBusDown";
  constructor() {
    super("Redis is not reachable");
  }
}

/** Listen for commands to `instanceId`; `handle` answers each. Returns a function that stops listening. */
export function serveCommands(
  pubsub: KilnPubSub,
  instanceId: string,
  handle: (command: JobCommand) => Promise<JobCommandReply>,
  log: (line: string) => void,
): () => Promise<void> {
  const iterator = pubsub.subscribe("command", instanceId)[Symbol.asyncIterator]();
  void (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      const command = next.value;
      // Each on its own: a cancel that waits for its process does not hold up a pause.
      void handle(command)
        .catch((error: unknown): JobCommandReply => {
          log(`kiln: command ${command.action} for job ${command.jobId}: ${(error as Error).message}`);
          return { handled: true, refusal: `failed on the instance running it: ${(error as Error).message}` };
        })
        .then((reply) => pubsub.publish("commandReply", command.id, reply));
    }
  })();
  return async () => {
    await iterator.return?.();
  };
}

/**
 * Send a command to the instance holding the job; null when it did not answer in time.
 * EventBusDown when Redis is away, before sending or while waiting for the answer.
 */
export async function sendCommand(
  pubsub: KilnPubSub,
  holder: string,
  command: Omit<JobCommand, "id">,
  health: DependencyHealth,
  timeoutMs = COMMAND_TIMEOUT_MS,
): Promise<JobCommandReply | null> {
  if (health.isDown("Redis")) throw new EventBusDown();
  const id = randomUUID();
  // Listening for the answer before the command goes out.
  const replies = pubsub.subscribe("commandReply", id)[Symbol.asyncIterator]();
  const answer = replies.next();
  let timer: NodeJS.Timeout | undefined;
  let unwatch = () => {};
  try {
    pubsub.publish("command", holder, { ...command, id });
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const busLost = new Promise<"down">((resolve) => {
      unwatch = health.onChange((dependency, up) => dependency === "Redis" && !up && resolve("down"));
    });
    const result = await Promise.race([answer, timeout, busLost]);
    if (result === "down") throw new EventBusDown();
    return result && !result.done ? result.value : null;
  } finally {
    clearTimeout(timer);
    unwatch();
    await replies.return?.();
  }
}
