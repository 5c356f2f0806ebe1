import { type ScanLatency, scanLatency } from "../events/pubsub.js";
import { SANITIZE_METHODS } from "../parsers/sanitize.js";
import { STAGE_NAMES } from "../runner/profiles.js";
import { engineOfPatterns, modeOf, type PhaseStart, patternOf, phaseHistory, type ScanEngineName } from "../runner/scan-phases.js";
import type { SanitizeRun } from "../runner/stages/sanitize.js";
import type { PauseRecord } from "../runner/stages/scan-pauses.js";
import { builder } from "./builder.js";
import { oneOf, SanitizeMethodRef, STAGE_STATUSES, StageNameRef, StageStatusRef } from "./enums.js";
import { parseStoredJson } from "./field-helpers.js";

const PhaseStartRef = builder.objectRef<PhaseStart>("SurfaceScanPhase").implement({
  description: "When a badblocks phase started (a phase re-entered after a restart keeps its first time).",
  fields: (t) => ({
    phase: t.exposeInt("phase", { description: "1-8: pattern 1 write, pattern 1 verify, pattern 2 write..." }),
    pattern: t.exposeString("pattern"),
    mode: t.exposeString("mode", { description: "write | verify" }),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
  }),
});

export const ScanLatencyRef = builder.objectRef<ScanLatency>("ScanLatency").implement({
  description:
    "Completion latencies of a fio scan's requests over one status interval, in the phase's direction (written, then read back), in ms: from fio's latency histogram, within its bucket width (about 1.6%).",
  fields: (t) => ({
    p50Ms: t.exposeFloat("p50Ms", { description: "Median." }),
    p99Ms: t.exposeFloat("p99Ms", { description: "99th percentile." }),
    maxMs: t.exposeFloat("maxMs", { description: "The slowest request's bucket." }),
  }),
});

interface SurfaceScan {
  engine: ScanEngineName;
  phase: number;
  phasePct: number;
  history: PhaseStart[];
  mbps: number | null;
  latency: ScanLatency | null;
  badBlocks: number;
  badBlockList: number[];
  blockSize: number | null;
  blocksAtOnce: number | null;
}

const SurfaceScanRef = builder.objectRef<SurfaceScan>("SurfaceScan").implement({
  description: "Live state of a write+verify scan: badblocks' 4 patterns (8 phases) or fio's position-checked pass (2 phases).",
  fields: (t) => ({
    engine: t.exposeString("engine", { description: "badblocks | fio" }),
    phase: t.exposeInt("phase"),
    phasePct: t.exposeFloat("phasePct"),
    pattern: t.string({ resolve: (s) => patternOf(s.phase, s.engine) }),
    mode: t.string({ description: "write | verify", resolve: (s) => modeOf(s.phase) }),
    history: t.field({ type: [PhaseStartRef], resolve: (s) => s.history }),
    mbps: t.exposeFloat("mbps", { nullable: true }),
    latency: t.field({
      type: ScanLatencyRef,
      nullable: true,
      description:
        "fio scans: the last status interval's completion latencies. Null for badblocks (it reports none) and before the first interval.",
      resolve: (s) => s.latency,
    }),
    badBlocks: t.exposeInt("badBlocks"),
    badBlockList: t.exposeIntList("badBlockList"),
    blockSize: t.exposeInt("blockSize", { nullable: true }),
    blocksAtOnce: t.exposeInt("blocksAtOnce", { nullable: true }),
  }),
});

interface Sample {
  engine: ScanEngineName;
  at: Date;
  phase: number;
  phasePct: number;
  mbps: number | null;
  temperatureC: number | null;
  latP50Ms: number | null;
  latP99Ms: number | null;
  latMaxMs: number | null;
}

const SampleRef = builder.objectRef<Sample>("StageSample").implement({
  description: "A surface scan's state at one 0.25% step of a phase.",
  fields: (t) => ({
    at: t.expose("at", { type: "DateTime" }),
    phase: t.exposeInt("phase", { description: "1-8: pattern 1 write, pattern 1 verify, pattern 2 write..." }),
    phasePct: t.exposeFloat("phasePct"),
    pattern: t.string({ resolve: (s) => patternOf(s.phase, s.engine) }),
    mode: t.string({ description: "write | verify", resolve: (s) => modeOf(s.phase) }),
    mbps: t.exposeFloat("mbps", { nullable: true, description: "Null for a phase's first sample (no rate yet)." }),
    temperatureC: t.exposeInt("temperatureC", { nullable: true }),
    latency: t.field({
      type: ScanLatencyRef,
      nullable: true,
      description: "fio scans: the completion latencies of the status interval before this sample.",
      resolve: (s) => scanLatency(s.latP50Ms, s.latP99Ms, s.latMaxMs),
    }),
  }),
});

const SanitizeRunRef = builder.objectRef<SanitizeRun>("SanitizeRun").implement({
  description: "The drive's own sanitize, run as the job's last stage: what Kiln issued, and how the drive said it ended.",
  fields: (t) => ({
    method: t.field({ type: SanitizeMethodRef, resolve: (r) => oneOf(SANITIZE_METHODS, r.method, "sanitize method") }),
    commandSet: t.exposeString("commandSet", { description: "nvme (nvme sanitize) | ata (hdparm)" }),
    command: t.exposeStringList("command", { description: "The command the drive got, as run." }),
    issuedAt: t.field({ type: "DateTime", nullable: true, resolve: (r) => (r.issuedAt ? new Date(r.issuedAt) : null) }),
    endedAt: t.field({ type: "DateTime", nullable: true, resolve: (r) => (r.endedAt ? new Date(r.endedAt) : null) }),
    result: t.exposeString("result", { description: "running | passed | failed | unknown | cancelled" }),
    said: t.exposeString("said", { nullable: true, description: "The drive's sanitize status, in its words, when it was last read." }),
  }),
});

const ALWAYS_LOADED_STAGE_COLUMNS = {
  id: true,
  name: true,
  position: true,
  weight: true,
  status: true,
  progressPct: true,
  errorText: true,
  startedAt: true,
  finishedAt: true,
  pausedAt: true,
  pauseReason: true,
  pausedSeconds: true,
  etaSeconds: true,
  etaAt: true,
} as const;

/** Seconds from start to end (or now), less the time spent paused. */
function workingSeconds(s: {
  startedAt: Date | null;
  finishedAt: Date | null;
  pausedAt: Date | null;
  pausedSeconds: number;
}): number | null {
  if (!s.startedAt) return null;
  const end = (s.finishedAt ?? new Date()).getTime();
  const pausedNow = s.pausedAt ? Math.max(0, end - s.pausedAt.getTime()) / 1000 : 0;
  return Math.max(0, (end - s.startedAt.getTime()) / 1000 - s.pausedSeconds - pausedNow);
}

const PauseRef = builder.objectRef<PauseRecord>("StagePause").implement({
  description: "A pause of a surface scan: who or what paused it, and when it went on.",
  fields: (t) => ({
    at: t.field({ type: "DateTime", resolve: (p) => new Date(p.at) }),
    reason: t.exposeString("reason", { description: "operator | heat" }),
    by: t.exposeString("by"),
    temperatureC: t.exposeInt("temperatureC", { nullable: true }),
    continuedAt: t.field({ type: "DateTime", nullable: true, resolve: (p) => (p.continuedAt ? new Date(p.continuedAt) : null) }),
  }),
});

builder.prismaObject("Stage", {
  // Select mode: the small columns below are always loaded and read as they are; the log and the
  // scan's lists only when a field asks for them (a history page leaves them on disk).
  select: ALWAYS_LOADED_STAGE_COLUMNS,
  description: "One step of a burn-in job.",
  fields: (t) => ({
    id: t.id({ resolve: (row) => row.id }),
    name: t.field({ type: StageNameRef, resolve: (s) => oneOf(STAGE_NAMES, s.name, "stage name") }),
    position: t.int({ resolve: (row) => row.position }),
    weight: t.float({ resolve: (row) => row.weight }),
    status: t.field({ type: StageStatusRef, resolve: (s) => oneOf(STAGE_STATUSES, s.status, "stage status") }),
    progressPct: t.float({ resolve: (row) => row.progressPct }),
    errorText: t.string({ nullable: true, resolve: (row) => row.errorText }),
    log: t.string({ description: "The last lines of the stage's output.", select: { log: true }, resolve: (row) => row.log }),
    startedAt: t.field({ type: "DateTime", nullable: true, resolve: (row) => row.startedAt }),
    finishedAt: t.field({ type: "DateTime", nullable: true, resolve: (row) => row.finishedAt }),
    elapsedSeconds: t.float({
      nullable: true,
      description: "Time the stage has run, without the time it was paused.",
      resolve: (s) => workingSeconds(s),
    }),
    etaSeconds: t.float({
      nullable: true,
      description:
        "Time left: a surface scan's from the speeds its zones measured (the zones to come along its earlier phases, or the line fitted to them), another stage's from its percent and its time without pauses; null under 0.5% without a measured speed, and while paused.",
      resolve: (s) => {
        if (s.status !== "running" || s.pausedAt) return null;
        if (s.etaSeconds !== null && s.etaAt) return Math.max(0, Math.round(s.etaSeconds - (Date.now() - s.etaAt.getTime()) / 1000));
        const elapsed = workingSeconds(s);
        if (elapsed === null || s.progressPct < 0.5 || s.progressPct >= 100) return null;
        return Math.round((elapsed * (100 - s.progressPct)) / s.progressPct);
      },
    }),
    pausedAt: t.expose("pausedAt", { type: "DateTime", nullable: true, description: "Set while the scan is paused." }),
    pauseReason: t.exposeString("pauseReason", { nullable: true, description: "operator | heat" }),
    pauses: t.field({
      type: [PauseRef],
      description: "Every pause of the scan, oldest first.",
      select: { pauses: true },
      resolve: (s) => parseStoredJson<PauseRecord[]>(s.pauses) ?? [],
    }),
    samples: t.field({
      type: [SampleRef],
      description: "A surface scan's downsampled series, oldest first: one sample per 0.25% of each phase (at most 3,200).",
      complexity: 20,
      select: { bbPatterns: true },
      resolve: async (s, _args, ctx) => {
        const engine = engineOfPatterns(s.bbPatterns);
        const samples = await ctx.db.stageSample.findMany({
          where: { stageId: s.id },
          orderBy: [{ at: "asc" }, { id: "asc" }],
          select: { at: true, phase: true, phasePct: true, mbps: true, temperatureC: true, latP50Ms: true, latP99Ms: true, latMaxMs: true },
        });
        return samples.map((sample) => ({ ...sample, engine }));
      },
    }),
    sanitize: t.field({
      type: SanitizeRunRef,
      nullable: true,
      description: "Set for the sanitize stage once Kiln is about to issue the command.",
      select: { sanitize: true },
      resolve: (s) => parseStoredJson<SanitizeRun>(s.sanitize),
    }),
    surfaceScan: t.field({
      type: SurfaceScanRef,
      nullable: true,
      description: "Set for surface_validate once the scan has a phase.",
      select: {
        bbPhase: true,
        bbPhasePct: true,
        bbPhaseHistory: true,
        bbMbps: true,
        bbLatP50Ms: true,
        bbLatP99Ms: true,
        bbLatMaxMs: true,
        bbBadBlocks: true,
        bbBadBlockList: true,
        bbBlockSize: true,
        bbBlocksAtOnce: true,
        bbPatterns: true,
      },
      resolve: (s) =>
        s.bbPhase === null
          ? null
          : {
              engine: engineOfPatterns(s.bbPatterns),
              phase: s.bbPhase,
              phasePct: s.bbPhasePct ?? 0,
              history: phaseHistory(s.bbPhaseHistory, engineOfPatterns(s.bbPatterns)),
              mbps: s.bbMbps,
              latency: s.status === "running" ? scanLatency(s.bbLatP50Ms, s.bbLatP99Ms, s.bbLatMaxMs) : null,
              badBlocks: s.bbBadBlocks ?? 0,
              badBlockList: s.bbBadBlockList ? (JSON.parse(s.bbBadBlockList) as number[]) : [],
              blockSize: s.bbBlockSize,
              blocksAtOnce: s.bbBlocksAtOnce,
            },
    }),
  }),
});
