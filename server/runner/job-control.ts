// Pause and continue requests for a running job, from the API to the stage that runs it. The
// surface scan takes them between two reads of its log (within one poll interval) and answers
// each: done, or why not. Other stages do not accept them: a drive's own self-test cannot be held.
export type PauseAction = "pause" | "continue";

export interface PauseRequest {
  action: PauseAction;
  actor: string;
  answer: (refusal: string | null) => void;
}

export class JobControl {
  private pending: PauseRequest | null = null;
  private accepting = false;

  /** Set by a stage that can pause while it runs, cleared when it ends. */
  accept(on: boolean): void {
    this.accepting = on;
    if (!on && this.pending) {
      this.pending.answer("the surface scan is not running any more");
      this.pending = null;
    }
  }

  /** Resolves null once done, or with the reason it was not. */
  request(action: PauseAction, actor: string): Promise<string | null> {
    if (!this.accepting) return Promise.resolve("only a running surface scan (badblocks) can be paused or continued");
    if (this.pending) return Promise.resolve("another pause or continue is being carried out");
    return new Promise((answer) => {
      this.pending = { action, actor, answer };
    });
  }

  take(): PauseRequest | null {
    const request = this.pending;
    this.pending = null;
    return request;
  }
}
