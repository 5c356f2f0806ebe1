// Sizes the tests use for drives and files, and latencies as Kiln shows them.

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** "85 µs", "4.2 ms", "12 ms", "1.3 s" as ms (server/units.ts formatMs, read back). */
export function msOf(text: string): number {
  const match = /^(\d+(?:\.\d)?) (µs|ms|s)$/.exec(text.trim());
  if (!match) throw new Error(`not a latency: "${text}"`);
  return Number(match[1]) * { µs: 0.001, ms: 1, s: 1000 }[match[2] as "µs" | "ms" | "s"];
}
