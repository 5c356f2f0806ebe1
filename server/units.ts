// Sizes as people read them, for the web UI and the terminal client alike (no imports: the client
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
