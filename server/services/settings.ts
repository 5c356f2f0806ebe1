// Operator settings: one JSON value per key in the Setting table, each validated, with a default.
import { z } from "zod";
import type { Db } from "../db/client.js";
import { SettingsRejectedError, ValidationError } from "../errors.js";
import { checkWorkDir } from "../transport/work-dir.js";
import { audit } from "./audit.js";

const SCHEMAS = {
  /** Burn-ins running at once, over all hosts. */
  maxConcurrentJobs: z.number().int().min(1).max(1000),
  /** Burn-ins running at once on one host. */
  maxJobsPerHost: z.number().int().min(1).max(256),
  /** A scan whose log and progress have not moved for this long is killed and marked unknown. */
  stuckMinutes: z.number().min(0.05).max(10_080),
  /** A job whose host stays unreachable this long turns unknown. */
  unreachableGraceMinutes: z.number().min(0.05).max(43_200),
  /** How often a running scan's log is read. */
  pollSeconds: z.number().min(0.1).max(600),
  /** Longest a stage's progress waits to be written to the database (phase changes, errors and ends are written at once; subscribers see every update). */
  progressWriteSeconds: z.number().min(1).max(600),
  /** Longest wait between self-test progress checks. */
  smartPollSeconds: z.number().min(0.5).max(3600),
  /** How often a drive under test has its temperature read. */
  temperaturePollSeconds: z.number().min(1).max(3600),
  /** Directory on hosts for detached runs (pid, log, exit files); see transport/work-dir.ts. */
  remoteWorkDir: z
    .string()
    .regex(/^\/[A-Za-z0-9._/-]+$/, "must be an absolute path of letters, digits, '.', '_', '-' and '/'")
    .refine((dir) => {
      try {
        checkWorkDir(dir);
        return true;
      } catch {
        return false;
      }
    }, 'must be a plain absolute path: no "." or ".." parts, no "//", not "/"'),
  /** A pooled SSH connection older than this is replaced, so a changed host key is noticed. */
  sshMaxConnectionMinutes: z.number().min(0.05).max(10_080),
  /** Longest wait for a host's disk and pool listing (lsblk, zpool): past it the host is "slow", not unreachable. */
  hostListSeconds: z.number().min(1).max(3600),
  /** Longest wait for one disk's SMART report or data-at-rest probe (smartctl -x, wipefs, partx). */
  hostSmartSeconds: z.number().min(1).max(3600),
  /** Longest wait for starting, polling or signalling a scan on a host, and any other command. */
  hostControlSeconds: z.number().min(1).max(3600),
  /** The UI shows a drive warm from this temperature (°C)... */
  temperatureWarmC: z.number().int().min(20).max(99),
  /** ...and hot from this one (above warm). */
  temperatureHotC: z.number().int().min(21).max(100),
  /** badblocks -c for jobs that do not give one; 0: about 1 MiB per request. */
  badblocksBlocksAtOnce: z.number().int().min(0).max(65_536),
  /** badblocks -p for jobs that do not give one; 0: badblocks' own (1). */
  badblocksPasses: z.number().int().min(0).max(16),
  /** badblocks -e for jobs that do not give one; 0: never stop early. */
  badblocksMaxBadBlocks: z.number().int().min(0).max(10_000_000),
  /** Pause a hard drive's surface scan when it reads at or above thermalPauseAtC twice in a row. */
  thermalProtection: z.boolean(),
  /** ...pause from this temperature (°C)... */
  thermalPauseAtC: z.number().int().min(30).max(100),
  /** ...and continue once it is back at or below this one. */
  thermalResumeAtC: z.number().int().min(20).max(99),
  /** A drive whose scan is slower than this percent of the median of its model's drives is warned about... */
  slowDrivePercent: z.number().min(1).max(99),
  /** ...when at least this many other drives of the model have been scanned. */
  slowDriveMinPeers: z.number().int().min(1).max(1000),
  /** Days a finished job keeps its stage logs, sample series, temperatures and raw SMART JSON; its summary, verdict and report stay. 0: forever. */
  retentionDays: z.number().int().min(0).max(36_500),
  /** The first retry of a notification that could not be delivered waits this long; each next one 4x longer. */
  notificationRetrySeconds: z.number().min(0.1).max(3600),
  /** Kiln's address as people reach it (https://kiln.example:4000), for links in notifications; empty: no links. */
  publicUrl: z
    .string()
    .max(200)
    .refine(
      (url) => url === "" || /^https?:\/\/[^\s/?#@]+(\/[^\s?#]*)?$/.test(url),
      "must be empty or an http(s) address without credentials",
    ),
} as const;

export type SettingKey = keyof typeof SCHEMAS;
export type Settings = { [K in SettingKey]: z.infer<(typeof SCHEMAS)[K]> };

export const DEFAULT_SETTINGS: Settings = {
  maxConcurrentJobs: 16,
  maxJobsPerHost: 8,
  stuckMinutes: 30,
  unreachableGraceMinutes: 360,
  pollSeconds: 2,
  progressWriteSeconds: 5,
  smartPollSeconds: 30,
  temperaturePollSeconds: 60,
  // Only root can create it: no other user of the host can prepare it for Kiln.
  remoteWorkDir: "/var/lib/kiln",
  sshMaxConnectionMinutes: 60,
  hostListSeconds: 60,
  hostSmartSeconds: 120,
  hostControlSeconds: 60,
  temperatureWarmC: 42,
  temperatureHotC: 48,
  badblocksBlocksAtOnce: 0,
  badblocksPasses: 0,
  badblocksMaxBadBlocks: 0,
  thermalProtection: true,
  thermalPauseAtC: 55,
  thermalResumeAtC: 45,
  slowDrivePercent: 70,
  slowDriveMinPeers: 3,
  retentionDays: 90,
  notificationRetrySeconds: 30,
  publicUrl: "",
};

/** The badblocks options a job gets from the settings when it does not give them (0: none). */
export function badblocksDefaults(settings: Settings): { blocksAtOnce?: number; passes?: number; maxBadBlocks?: number } {
  return {
    ...(settings.badblocksBlocksAtOnce ? { blocksAtOnce: settings.badblocksBlocksAtOnce } : {}),
    ...(settings.badblocksPasses ? { passes: settings.badblocksPasses } : {}),
    ...(settings.badblocksMaxBadBlocks ? { maxBadBlocks: settings.badblocksMaxBadBlocks } : {}),
  };
}

export function isSettingKey(key: string): key is SettingKey {
  // Own keys only: "__proto__" or "toString" are not settings.
  return Object.hasOwn(SCHEMAS, key);
}

export async function getSettings(db: Db): Promise<Settings> {
  const rows = await db.setting.findMany();
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const row of rows) {
    if (!isSettingKey(row.key)) continue;
    try {
      const parsed = SCHEMAS[row.key].safeParse(JSON.parse(row.value));
      if (parsed.success) settings[row.key] = parsed.data;
    } catch {
      // an unreadable value keeps the default
    }
  }
  return settings as Settings;
}

export async function setSetting(db: Db, key: string, value: unknown, actor: string): Promise<Settings> {
  if (!isSettingKey(key)) throw new ValidationError("key", `unknown setting "${key}" (known: ${Object.keys(SCHEMAS).join(", ")})`);
  const parsed = SCHEMAS[key].safeParse(value);
  if (!parsed.success) throw new ValidationError(`value`, `${key}: ${parsed.error.issues[0]?.message ?? "is invalid"}`);
  if (key === "temperatureWarmC" || key === "temperatureHotC") {
    const next = { ...(await getSettings(db)), [key]: parsed.data };
    if (next.temperatureWarmC >= next.temperatureHotC) {
      throw new ValidationError("value", `${key}: warm (${next.temperatureWarmC} °C) must be below hot (${next.temperatureHotC} °C)`);
    }
  }
  if (key === "thermalPauseAtC" || key === "thermalResumeAtC") {
    const next = { ...(await getSettings(db)), [key]: parsed.data };
    if (next.thermalResumeAtC >= next.thermalPauseAtC) {
      throw new ValidationError("value", `${key}: resume (${next.thermalResumeAtC} °C) must be below pause (${next.thermalPauseAtC} °C)`);
    }
  }
  await db.$transaction(async (tx) => {
    const previous = await tx.setting.findUnique({ where: { key } });
    await tx.setting.upsert({
      where: { key },
      create: { key, value: JSON.stringify(parsed.data) },
      update: { value: JSON.stringify(parsed.data) },
    });
    await audit(tx, {
      actor,
      action: "setting.change",
      subjectType: "setting",
      subjectId: key,
      details: { from: previous ? JSON.parse(previous.value) : null, to: parsed.data },
    });
  });
  return getSettings(db);
}

/** The pairs that must keep their order: the first below the second. */
const ORDERED_PAIRS: Array<[SettingKey, SettingKey, string]> = [
  ["temperatureWarmC", "temperatureHotC", "warm must be below hot"],
  ["thermalResumeAtC", "thermalPauseAtC", "resume must be below pause"],
];

/**
 * Change several settings at once, all or none: every value is checked (each against its rule,
 * and the pairs against each other as they will be), and any problem refuses them all, each
 * problem naming its setting. Only the settings whose value changes are written and audited.
 */
export async function updateSettings(db: Db, input: Record<string, unknown>, actor: string): Promise<Settings> {
  const problems: Array<{ field: string; message: string }> = [];
  const given: Partial<Record<SettingKey, unknown>> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    if (!isSettingKey(key)) {
      problems.push({ field: key, message: "is not a setting" });
      continue;
    }
    const parsed = SCHEMAS[key].safeParse(value);
    if (parsed.success) given[key] = parsed.data;
    else problems.push({ field: key, message: describeIssue(parsed.error.issues[0]) });
  }
  const current = await getSettings(db);
  const next = { ...current, ...given } as Settings;
  for (const [low, high, rule] of ORDERED_PAIRS) {
    if (!(low in given) && !(high in given)) continue;
    if ((next[low] as number) >= (next[high] as number) && !problems.some((p) => p.field === low || p.field === high)) {
      problems.push({ field: low in given ? low : high, message: `${rule} (${next[low]} against ${next[high]})` });
    }
  }
  if (problems.length) {
    // In the settings' own order, whatever order they came in.
    const order = Object.keys(SCHEMAS);
    const rank = (field: string) => (order.includes(field) ? order.indexOf(field) : order.length);
    throw new SettingsRejectedError(problems.sort((a, b) => rank(a.field) - rank(b.field)));
  }
  const changed = (Object.keys(given) as SettingKey[]).filter((key) => JSON.stringify(given[key]) !== JSON.stringify(current[key]));
  if (changed.length === 0) return current;
  await db.$transaction(async (tx) => {
    for (const key of changed) {
      const value = JSON.stringify(given[key]);
      await tx.setting.upsert({ where: { key }, create: { key, value }, update: { value } });
      await audit(tx, {
        actor,
        action: "setting.change",
        subjectType: "setting",
        subjectId: key,
        details: { from: current[key], to: given[key] },
      });
    }
  });
  return getSettings(db);
}

/** A zod issue in an operator's words: "at least 21", "a whole number". */
function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "is invalid";
  const chars = "origin" in issue && issue.origin === "string" ? " characters" : "";
  if (issue.code === "too_small") return `must be at least ${String(issue.minimum)}${chars}`;
  if (issue.code === "too_big") return `must be at most ${String(issue.maximum)}${chars}`;
  if (issue.code === "invalid_type") {
    if (issue.expected === "int") return "must be a whole number";
    if (issue.expected === "boolean") return "must be on or off";
    return `must be a ${issue.expected}`;
  }
  return issue.message;
}
