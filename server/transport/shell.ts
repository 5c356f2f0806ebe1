// Building shell commands safely: every argument single-quoted, device paths checked first.
import path from "node:path";
import { UnsafeArgumentError } from "./types.js";

/** One argument for POSIX sh, quoted so the shell reads it back unchanged. */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) throw new UnsafeArgumentError("argument", "contains a NUL byte");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new UnsafeArgumentError("command", "is empty");
  return argv.map(shellQuote).join(" ");
}

// "." and ".." fit the by-id pattern's characters but would lead out of /dev/disk/by-id.
const hasDotSegment = (p: string) => p.split("/").some((s) => s === "." || s === "..");

const PARTITION_PATTERNS = [/^\/dev\/sd[a-z]{1,3}\d+$/, /^\/dev\/nvme\d+n\d+p\d+$/, /^\/dev\/loop\d+p\d+$/];

/** A partition Kiln may read signatures from (never write): /dev/sdXN, /dev/nvmeXnYpZ, /dev/loopNpM. */
export function checkPartitionPath(device: string): string {
  if (PARTITION_PATTERNS.some((p) => p.test(device))) return device;
  throw new UnsafeArgumentError("partitionPath", `"${device}" is not a partition path Kiln reads`);
}

const DEVICE_PATTERNS = [/^\/dev\/disk\/by-id\/[A-Za-z0-9._:+@-]+$/, /^\/dev\/sd[a-z]{1,3}$/, /^\/dev\/nvme\d+n\d+$/, /^\/dev\/loop\d+$/];

/**
 * A path Kiln may hand to smartctl or badblocks: /dev/disk/by-id/..., /dev/sdX, /dev/nvmeXnY,
 * /dev/loopN, or (demo host) a file directly inside the demo drive directory. Anything else is
 * refused before any command runs.
 */
export function checkDevicePath(device: string, options: { demoDir?: string } = {}): string {
  if (DEVICE_PATTERNS.some((p) => p.test(device)) && !hasDotSegment(device)) return device;
  if (options.demoDir) {
    const resolved = path.resolve(device);
    if (
      resolved === device &&
      path.dirname(resolved) === path.resolve(options.demoDir) &&
      /^[A-Za-z0-9._-]+\.img$/.test(path.basename(resolved))
    ) {
      return device;
    }
  }
  throw new UnsafeArgumentError(
    "devicePath",
    `"${device}" is not a device Kiln will touch (allowed: /dev/disk/by-id/..., /dev/sdX, /dev/nvmeXnY, /dev/loopN${options.demoDir ? ", a demo drive file" : ""})`,
  );
}
