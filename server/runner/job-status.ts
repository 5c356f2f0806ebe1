// The states a job goes through, and the verdicts it can end with: one list for the schema's
// enums, the exports' URL filters, the terminal client, the web UI and the streams that end with a job.
export const JOB_STATUSES = ["queued", "running", "passed", "failed", "cancelled", "unknown"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job in one of these has ended: nothing about it changes any more. */
export const ENDED_JOB_STATUSES: ReadonlySet<string> = new Set<JobStatus>(["passed", "failed", "cancelled", "unknown"]);

export const VERDICT_OUTCOMES = ["passed", "failed"] as const;
