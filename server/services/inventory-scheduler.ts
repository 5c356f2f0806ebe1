import { DependencyHealth } from "../dependency-health.js";
import type { InventoryDeps } from "./inventory.js";
import type { InventoryRuns } from "./inventory-runs.js";

export class InventoryScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: InventoryDeps,
    private readonly runs: InventoryRuns,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void = console.log,
    private readonly health: DependencyHealth = new DependencyHealth(log),
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((error: unknown) => void this.health.failed("inventory", error))
        .finally(() => {
          this.running = null;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Refresh every host once, one after another; failures are recorded on the host. */
  async sweep(): Promise<void> {
    const hosts = await this.deps.db.host.findMany({
      where: { status: { notIn: ["untrusted", "key_mismatch"] } },
      select: { id: true, name: true },
    });
    for (const host of hosts) {
      try {
        // Through the runs an operator's refresh also uses: its steps are shown, never two at once.
        await this.runs.start(host.id).done;
      } catch (error) {
        // The database away: the rest of the hosts wait for the next round.
        if (this.health.failed(`inventory of ${host.name}`, error)) return;
      }
    }
  }
}
