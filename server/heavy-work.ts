// Heavy requests: a zip of up to 500 reports, a PDF, a CSV or NDJSON export of the whole history.
// Each is cheap on its own but one caller sending many at once could keep the event loop and the
// database busy for everyone (4 zips of 500 PDFs held /health at 13 s). So at most
// HEAVY_PER_CALLER run at once per credential (per address with accounts off) and HEAVY_OVERALL
// in all; past that the answer is 429 with Retry-After, before any work is done. The work itself
// yields to other requests between its steps (one report, one page of rows).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Viewer } from "./auth/viewer.js";
import { sendJson } from "./http-auth.js";

export const HEAVY_PER_CALLER = 2;
export const HEAVY_OVERALL = 4;
export const HEAVY_RETRY_SECONDS = 5;

export class HeavyWork {
  private total = 0;
  private readonly byCaller = new Map<string, number>();

  constructor(
    readonly perCaller = HEAVY_PER_CALLER,
    readonly overall = HEAVY_OVERALL,
  ) {}

  get running(): number {
    return this.total;
  }

  /** A slot for `caller` (release it when done), or why there is none. */
  take(caller: string): { release: () => void } | { refusal: string } {
    const mine = this.byCaller.get(caller) ?? 0;
    if (mine >= this.perCaller)
      return { refusal: `you have ${mine} reports or exports being made already (at most ${this.perCaller} at once)` };
    if (this.total >= this.overall)
      return { refusal: `Kiln is making ${this.total} reports or exports already (at most ${this.overall} at once)` };
    this.byCaller.set(caller, mine + 1);
    this.total += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = (this.byCaller.get(caller) ?? 1) - 1;
        if (left) this.byCaller.set(caller, left);
        else this.byCaller.delete(caller);
      },
    };
  }
}

/** Who counts as one caller: the session or token; with accounts off, the address. */
export function callerOf(viewer: Viewer, req: IncomingMessage): string {
  return viewer.credentialId ? `${viewer.via}:${viewer.credentialId}` : `address:${req.socket.remoteAddress ?? "?"}`;
}

/** Runs `work` in a slot of `heavy`, or answers 429 with Retry-After (and does nothing). */
export async function inHeavySlot(
  heavy: HeavyWork,
  viewer: Viewer,
  req: IncomingMessage,
  res: ServerResponse,
  work: () => Promise<void>,
): Promise<void> {
  const slot = heavy.take(callerOf(viewer, req));
  if ("refusal" in slot) {
    res.setHeader("retry-after", String(HEAVY_RETRY_SECONDS));
    sendJson(res, 429, { error: `${slot.refusal}: try again in ${HEAVY_RETRY_SECONDS} s` });
    return;
  }
  try {
    await work();
  } finally {
    slot.release();
  }
}
