// Burn-in profiles: ordered stages with weights (a stage's share of the job's overall percent).
export const STAGE_NAMES = [
  "precheck",
  "smart_short",
  "smart_long",
  "surface_validate",
  "nvme_selftest",
  "final_check",
  "simulate",
  "sanitize",
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export const PROFILE_NAMES = ["standard", "full", "quick", "ssd", "nvme", "simulate"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface StagePlan {
  name: StageName;
  weight: number;
}

/** The stages of both write profiles; scanEngineOf tells which program their scan runs. */
const WRITE_SCAN: readonly StagePlan[] = [
  { name: "precheck", weight: 1 },
  { name: "smart_short", weight: 2 },
  { name: "surface_validate", weight: 85 },
  { name: "smart_long", weight: 11 },
  { name: "final_check", weight: 1 },
];

export const PROFILES: Record<ProfileName, readonly StagePlan[]> = {
  // standard: one position-checked write+verify pass with fio: every 4 KiB carries its offset and
  // a checksum. Half the time of 4 badblocks patterns' 8 passes, and it finds misdirected writes
  // and drives that report more capacity than they have, which same-byte patterns cannot.
  standard: WRITE_SCAN,
  // full: badblocks' 4 patterns, each written and verified: 8 passes (days on a large drive).
  full: WRITE_SCAN,
  quick: [
    { name: "precheck", weight: 5 },
    { name: "smart_short", weight: 90 },
    { name: "final_check", weight: 5 },
  ],
  // SSDs: no write+verify scan (it only wears the flash); self-tests and the SMART comparison.
  ssd: [
    { name: "precheck", weight: 5 },
    { name: "smart_short", weight: 15 },
    { name: "smart_long", weight: 75 },
    { name: "final_check", weight: 5 },
  ],
  nvme: [
    { name: "precheck", weight: 5 },
    { name: "nvme_selftest", weight: 90 },
    { name: "final_check", weight: 5 },
  ],
  // Timed stages that touch no device: demos, tests, load.
  simulate: [{ name: "simulate", weight: 1 }],
};

/** The program of a profile's surface scan: fio's position-checked pass, or badblocks' 4 patterns. */
export function scanEngineOf(profile: string): "fio" | "badblocks" {
  return profile === "standard" ? "fio" : "badblocks";
}

/** Does the profile write to the drive (a surface scan)? The others only read and self-test. */
export function profileWrites(profile: ProfileName): boolean {
  return PROFILES[profile].some((s) => s.name === "surface_validate");
}

/** The sanitize end stage's share of a job: a tenth of the profile's weight. */
export const SANITIZE_WEIGHT_SHARE = 0.1;

/**
 * The stages a job runs: its profile's, and the sanitize end stage when one was asked for (after
 * the final check: the verdict is the burn-in's, the sanitize erases what the scan left).
 */
export function jobStages(profile: ProfileName, sanitize: boolean): readonly StagePlan[] {
  const plan = PROFILES[profile];
  if (!sanitize) return plan;
  const total = plan.reduce((sum, s) => sum + s.weight, 0);
  return [...plan, { name: "sanitize", weight: Math.round(total * SANITIZE_WEIGHT_SHARE * 100) / 100 }];
}

/** Overall percent of a job from its stages' percents, by weight. */
export function jobPercent(stages: ReadonlyArray<{ weight: number; progressPct: number; status: string }>): number {
  const total = stages.reduce((sum, s) => sum + s.weight, 0);
  if (total <= 0) return 0;
  const done = stages.reduce(
    (sum, s) => sum + s.weight * (s.status === "passed" || s.status === "skipped" ? 100 : Math.min(100, Math.max(0, s.progressPct))),
    0,
  );
  return Math.round((done / total) * 100) / 100;
}
