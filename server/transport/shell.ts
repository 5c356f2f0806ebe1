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

const DEVICE_PATTERNS = [/^\/dev\/disk\/by-id\/[A-Za-z0-9._:+@-]+$/, /^\/dev\/sd[a-z]{1,3}$/, /^\/dev\/nvme\d+n\d+$/, /^\/dev\/loop\d+$/];

/**
 * A path Kiln may hand to smartctl or badblocks: /dev/disk/by-id/..., /dev/sdX, /dev/nvmeXnY,
 * /dev/loopN, or (demo host) a file directly inside the demo drive directory. Anything else is
 * refused before any command runs.
 */
export function checkDevicePath(device: string, options: { demoDir?: string } = {}): string {
  if (DEVICE_PATTERNS.some((p) => p.test(device))) return device;
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
