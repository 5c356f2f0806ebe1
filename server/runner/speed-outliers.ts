// A drive that passes but scans far slower than others of its model is suspect (a weak head, a
// drive remapping in silence, a bad cable or port). Its scan's average MB/s is compared with the
// median of its peers: drives of the same model, from its batch and from history.
export interface SlowDriveRule {
  /** Slower than this percent of the peers' median is slow. */
  percent: number;
  /** Fewer peers than this: no comparison (a median of two says little). */
  minPeers: number;
}

export const DEFAULT_SLOW_DRIVE_RULE: SlowDriveRule = { percent: 70, minPeers: 3 };

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The warning for a slow drive, or null (fast enough, or too few peers to say). */
export function slowDriveWarning(
  own: number,
  peers: readonly number[],
  model: string,
  rule: SlowDriveRule = DEFAULT_SLOW_DRIVE_RULE,
): string | null {
  const valid = peers.filter((p) => Number.isFinite(p) && p > 0);
  if (!Number.isFinite(own) || own <= 0 || valid.length < rule.minPeers) return null;
  const m = median(valid);
  if (own >= (m * rule.percent) / 100) return null;
  return `slow drive: its scan averaged ${own.toFixed(1)} MB/s, ${Math.round((own / m) * 100)}% of the median ${m.toFixed(1)} MB/s of ${valid.length} other ${model} drives (under ${rule.percent}%): check the drive, its cable and port`;
}

/** A scan's average MB/s: each pattern is written and read once over the whole drive. */
export function scanMbps(sizeBytes: number, patterns: number, passes: number, seconds: number): number | null {
  if (!(sizeBytes > 0) || !(patterns > 0) || !(seconds > 0)) return null;
  return Math.round(((sizeBytes * 2 * patterns * Math.max(1, passes)) / seconds / 1e6) * 10) / 10;
}
