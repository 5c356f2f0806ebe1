// Typed events of Kiln: job and stage progress, drive updates. In-process by default (graphql-yoga's
// pubsub); the same interface takes a Redis event target when several Kiln processes share work.
import { createPubSub } from "graphql-yoga";

export interface JobEvent {
  jobId: string;
  driveId: string;
  status: string;
  progressPct: number;
  stage: {
    id: string;
    name: string;
    status: string;
    progressPct: number;
    phase: number | null;
    phasePct: number | null;
    mbps: number | null;
    badBlocks: number | null;
    temperatureC: number | null;
  } | null;
}

export type KilnPubSub = ReturnType<typeof createKilnPubSub>;

export function createKilnPubSub() {
  return createPubSub<{
    /** Every job's updates. */
    jobs: [JobEvent];
    /** One job's updates. */
    job: [jobId: string, event: JobEvent];
  }>();
}

export function publishJobEvent(pubsub: KilnPubSub, event: JobEvent): void {
  pubsub.publish("jobs", event);
  pubsub.publish("job", event.jobId, event);
}
