// Sizes and latencies as people read them, for the web UI and the terminal client alike (no imports: the client
// bundle takes it as it is).

/** 4000787030016 -> "4.0 TB" (decimal units, as drives are sold); null -> "?". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null) return "?";
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
}

/** A latency in ms as people read it: "850 µs", "4.2 ms", "12 ms", "1.3 s", "42 s" (at most 6 characters below 1000 s). */
export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}
