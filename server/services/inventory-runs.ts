// Inventories in the background. Reading a host's drives takes a command per disk (smartctl -x);
// a loaded NAS with dozens of disks took 91-411 s, and a mutation that waits that long with
// nothing to show looks hung. So `start` returns at once and the inventory runs here: one at a
// time per host (a second request joins the first), each step and the end pushed through
// hostUpdated (HostEvent.inventory), the outcome written on the host as before.
import type { InventoryProgress } from "../events/pubsub.js";
import { type InventoryDeps, type InventoryOutcome, refreshInventory } from "./inventory.js";

interface Run {
  progress: InventoryProgress;
  done: Promise<InventoryOutcome>;
}

export class InventoryRuns {
  private readonly runs = new Map<string, Run>();

  constructor(
    private readonly deps: InventoryDeps,
    private readonly now: () => number = Date.now,
  ) {}

  /** The inventory of `hostId` running on this instance, if any. */
  current(hostId: string): InventoryProgress | null {
    return this.runs.get(hostId)?.progress ?? null;
  }

  /**
   * Start an inventory of the host (or join the one running). The promise is its outcome; a
   * caller that does not wait must still handle its rejection (the failure is on the host too).
   */
  start(
    hostId: string,
    options: { operator?: boolean } = {},
  ): { joined: boolean; progress: InventoryProgress; done: Promise<InventoryOutcome> } {
    const running = this.runs.get(hostId);
    if (running) return { joined: true, ...running };
    const progress: InventoryProgress = { running: true, startedAt: this.now(), step: "starting", done: 0, total: 0 };
    const publish = () => this.deps.pubsub.publish("hosts", { hostId, removed: false, inventory: { ...progress } });
    const done = refreshInventory(this.deps, hostId, {
      ...options,
      onStep: (step) => {
        Object.assign(progress, step);
        publish();
      },
    }).finally(() => {
      this.runs.delete(hostId);
    });
    // The end as an event of its own: what was found, or why it failed (the host says it too).
    done.then(
      (outcome) => {
        Object.assign(progress, { running: false, step: "done", done: progress.total, found: outcome.found, missing: outcome.missing });
        publish();
      },
      (error: unknown) => {
        Object.assign(progress, { running: false, step: "failed", error: (error as Error).message });
        publish();
      },
    );
    const run = { progress, done };
    this.runs.set(hostId, run);
    return { joined: false, ...run };
  }
}
