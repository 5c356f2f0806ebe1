import { type InventoryDeps, refreshInventory } from "./inventory.js";

export class InventoryScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly deps: InventoryDeps,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void = console.log,
  ) {}

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => {
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
        await refreshInventory(this.deps, host.id);
      } catch (error) {
        this.log(`kiln: inventory of ${host.name} failed: ${(error as Error).message}`);
      }
    }
  }
}
