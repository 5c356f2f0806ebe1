// Typed events of Kiln: job progress and state, drive and host changes. In-process by default
// (graphql-yoga's pubsub); the same interface takes a Redis event target when several Kiln
// processes share work.
import { createPubSub } from "graphql-yoga";

export interface JobEvent {
  jobId: string;
  driveId: string;
  hostId: string;
  status: string;
  /** Overall job percent. */
  progressPct: number;
  /** When the job started running (ms since the epoch), for elapsed and ETA. */
  startedAt: number | null;
  /** When this was true (ms since the epoch). */
  at: number;
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
    /** The scan's processes are stopped on the host (by an operator, or for heat). */
    paused: boolean;
    pauseReason: string | null;
  } | null;
}

export interface DriveEvent {
  driveId: string;
  hostId: string;
}

export interface HostEvent {
  hostId: string;
  /** The host (and its drives) are gone. */
  removed: boolean;
}

export type KilnPubSub = ReturnType<typeof createKilnPubSub>;

export function createKilnPubSub() {
  return createPubSub<{
    /** Every job's updates. */
    jobs: [JobEvent];
    /** One job's updates. */
    job: [jobId: string, event: JobEvent];
    drives: [DriveEvent];
    hosts: [HostEvent];
  }>();
}

export function publishJobEvent(pubsub: KilnPubSub, event: JobEvent): void {
  pubsub.publish("jobs", event);
  pubsub.publish("job", event.jobId, event);
}
