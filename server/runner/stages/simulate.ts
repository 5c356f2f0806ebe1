// simulate: a timed stage that touches no device. It walks the 8 surface-scan phases over
// options.simulateSeconds, updating options.simulateHz times a second: demos, tests, write load.
import { pause, type StageContext, type StageOutcome, stopReason } from "../stage-context.js";

export async function simulateStage(ctx: StageContext): Promise<StageOutcome> {
  const seconds = ctx.options.simulateSeconds ?? 30;
  const hz = ctx.options.simulateHz ?? 1;
  // After a restart the simulation goes on from where it was.
  const startPct = ctx.stage.progressPct;
  const began = ctx.now() - (startPct / 100) * seconds * 1000;
  let phase = ctx.stage.bbPhase ?? 0;
  for (;;) {
    const reason = stopReason(ctx.signal);
    if (reason === "shutdown") return { status: "detached" };
    if (reason === "cancel") return { status: "cancelled", error: "cancelled by the operator" };
    const pct = Math.min(100, ((ctx.now() - began) / (seconds * 1000)) * 100);
    const overall = Math.min(pct, 99.99);
    const nextPhase = Math.min(8, Math.floor(overall / 12.5) + 1);
    ctx.progress.update(
      { progressPct: pct, bbPhase: nextPhase, bbPhasePct: Math.round((overall - (nextPhase - 1) * 12.5) * 8 * 100) / 100 },
      { immediate: nextPhase !== phase },
    );
    phase = nextPhase;
    if (pct >= 100) return { status: "passed" };
    await pause(ctx, 1000 / hz);
  }
}
