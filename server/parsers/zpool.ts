// Parser for the text of `zpool status -P` (imported pools) and `zpool import` (pools that could
// be imported: their disks hold data even though nothing is mounted). Pure, no I/O.

export interface ZpoolDevice {
  /** As printed: a full path with -P (/dev/disk/by-partuuid/..., /dev/sda2) or a bare name. */
  path: string;
  state: string;
  /** The vdev it belongs to (mirror-0, raidz1-0...), or null when directly under the pool. */
  vdev: string | null;
  /** data | log | cache | spare | special | dedup */
  role: string;
}

export interface Zpool {
  name: string;
  state: string;
  /** From `zpool import`: the pool is not imported on this host but could be. */
  importable: boolean;
  id: string | null;
  devices: ZpoolDevice[];
}

const VDEV = /^(mirror|raidz[123]?|draid[123]?(?::\S+)?|replacing|spare)(-\d+)?$/;
const SECTION = new Set(["logs", "cache", "spares", "special", "dedup"]);
const ROLE: Record<string, string> = { logs: "log", cache: "cache", spares: "spare", special: "special", dedup: "dedup" };

export function parseZpoolStatus(text: string, options: { importable?: boolean } = {}): Zpool[] {
  const pools: Zpool[] = [];
  let pool: Zpool | null = null;
  let inConfig = false;
  let poolIndent = -1;
  let role = "data";
  let vdev: { name: string; indent: number } | null = null;
  for (const rawLine of text.replace(/\r/g, "").split("\n")) {
    const header = /^\s*(pool|state|id|action|status|config|errors|scan|see|remove):\s?(.*)$/.exec(rawLine);
    if (header && !(inConfig && header[1] !== "errors" && header[1] !== "pool")) {
      const [, key, value = ""] = header;
      if (key === "pool") {
        pool = { name: value.trim(), state: "UNKNOWN", importable: options.importable ?? false, id: null, devices: [] };
        pools.push(pool);
        inConfig = false;
      } else if (pool && key === "state") pool.state = value.trim();
      else if (pool && key === "id") pool.id = value.trim();
      else if (pool && key === "action" && /can be imported/i.test(value)) pool.importable = true;
      else if (key === "config") {
        inConfig = true;
        poolIndent = -1;
        role = "data";
        vdev = null;
      } else if (key === "errors") inConfig = false;
      continue;
    }
    if (!pool || !inConfig) continue;
    const line = rawLine.replace(/\t/g, "        ");
    const match = /^(\s*)(\S+)(?:\s+(\S+))?/.exec(line);
    if (!match?.[2] || match[2] === "NAME") continue;
    const indent = (match[1] ?? "").length;
    const name = match[2];
    const state = match[3] ?? "";
    if (poolIndent < 0) {
      // The first row of the config is the pool itself.
      poolIndent = indent;
      continue;
    }
    if (indent <= poolIndent) {
      if (SECTION.has(name)) {
        role = ROLE[name] ?? name;
        vdev = null;
      }
      continue;
    }
    if (VDEV.test(name)) {
      vdev = { name, indent };
      continue;
    }
    if (vdev && indent <= vdev.indent) vdev = null;
    pool.devices.push({ path: name, state, vdev: vdev?.name ?? null, role });
  }
  return pools;
}
