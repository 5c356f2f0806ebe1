// `hdparm -N <device>`: an ATA drive's current and native max sectors. A current max below the
// native one is a host protected area (HPA) or a DCO-reduced size: capacity that no write to the
// device reaches. Pure: no I/O.

export interface MaxSectors {
  /** Sectors the device shows now. */
  current: number;
  /** Sectors the drive has. */
  native: number;
}

/**
 * The max sectors hdparm printed, or null when the drive did not answer (a USB bridge or a
 * controller that does not pass the command through, a SAS or NVMe drive).
 *   /dev/sdb:
 *    max sectors   = 976771055/976773168, HPA is enabled
 */
export function parseHdparmMaxSectors(text: string): MaxSectors | null {
  const m = /^\s*max sectors\s*=\s*(\d+)\/(\d+)/m.exec(text);
  if (!m) return null;
  const current = Number(m[1]);
  const native = Number(m[2]);
  if (!Number.isSafeInteger(current) || !Number.isSafeInteger(native) || current <= 0 || native <= 0) return null;
  return { current, native };
}
