// A slow disk for tests, lifted on an event: a cgroup v1 blkio group whose processes read and
// write the given block devices at a set rate (the kernel's own throttle, so badblocks runs as
// Kiln starts it, with direct I/O, only slower). A test lets a scan run slowly until what it waits
// for has happened (a restart, a pause, a host going away), then lifts the limit and the scan
// ends at full speed. Measured here: a 64 MiB loop device at 8 MiB/s took 64 s for the 8 passes
// of `badblocks -w -c 64`; lifted in the second pass, the other six took 0.2 s.
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const BLKIO = "/sys/fs/cgroup/blkio";

export interface IoThrottle {
  /** Puts a process in the group: it and whatever it starts from now on (sshd's sessions) are limited. */
  add(pid: number): void;
  /** Reads and writes of `device` (a block device path) at most `bytesPerSecond` each; null lifts it. */
  limit(device: string, bytesPerSecond: number | null): void;
  /** Lifts every limit set. */
  lift(): void;
  /** Lifts every limit and removes the group (the processes in it go back to the root group). */
  remove(): void;
}

let groups = 0;

/** "MAJ:MIN" of a block device node. */
function majorMinor(device: string): string {
  const { rdev } = statSync(device);
  // Linux's dev_t: major in bits 8-19 (and 32-43), minor in bits 0-7 and 20-31.
  const major = ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & ~0xff);
  return `${major}:${minor}`;
}

export function ioThrottle(): IoThrottle {
  if (!existsSync(path.join(BLKIO, "blkio.throttle.read_bps_device"))) {
    throw new Error(`${BLKIO} (cgroup v1 blkio throttling) is not mounted: the tests that pace scans by I/O need it`);
  }
  const dir = path.join(BLKIO, `kiln-test-${process.pid}-${++groups}`);
  mkdirSync(dir, { recursive: true });
  const limited = new Set<string>();
  const write = (file: string, line: string) => writeFileSync(path.join(dir, file), `${line}\n`);
  const throttle: IoThrottle = {
    add(pid) {
      write("cgroup.procs", String(pid));
    },
    limit(device, bytesPerSecond) {
      const id = majorMinor(device);
      for (const file of ["blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device"]) write(file, `${id} ${bytesPerSecond ?? 0}`);
      if (bytesPerSecond === null) limited.delete(id);
      else limited.add(id);
    },
    lift() {
      for (const id of [...limited]) {
        for (const file of ["blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device"]) write(file, `${id} 0`);
        limited.delete(id);
      }
    },
    remove() {
      if (!existsSync(dir)) return;
      throttle.lift();
      for (const pid of readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
        try {
          writeFileSync(path.join(BLKIO, "cgroup.procs"), pid);
        } catch {
          // gone meanwhile
        }
      }
      try {
        rmdirSync(dir);
      } catch {
        // a process is still leaving it; the group is empty and harmless
      }
    },
  };
  return throttle;
}
