// Loop devices on sparse files (root only), detached again after the test.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";

export interface LoopDevice {
  device: string;
  file: string;
}

const attached: LoopDevice[] = [];
const mounts: string[] = [];
/** FUSE file systems under loop devices: unmounted once the loop devices are detached. */
const fuseMounts: Array<{ mountPoint: string; daemon: ChildProcess }> = [];

/** `losetup -f --show FILE`; tried again when another test took the same free device first. */
function setUpLoop(file: string): string {
  for (let attempt = 1; ; attempt++) {
    try {
      return execFileSync("losetup", ["-f", "--show", file], { stdio: ["ignore", "pipe", "pipe"] })
        .toString()
        .trim();
    } catch (error) {
      if (attempt >= 20) throw error;
      execFileSync("sleep", ["0.1"]);
    }
  }
}

export function attachLoop(dir: string, name: string, sizeBytes: number): LoopDevice {
  const file = path.join(dir, `${name}.img`);
  execFileSync("truncate", ["-s", String(sizeBytes), file]);
  const loop = { device: setUpLoop(file), file };
  attached.push(loop);
  return loop;
}

const ALIASING_DRIVE = path.join(import.meta.dirname, "stand-ins", "aliasing-drive.py");

/**
 * A loop device of `reportedBytes` that holds only `realBytes` (a fake-capacity drive): a FUSE
 * file (stand-ins/aliasing-drive.py) whose bytes past the real size wrap onto the first ones.
 * Needs /dev/fuse and Debian's python3-fusepy.
 */
export async function attachAliasingLoop(dir: string, name: string, realBytes: number, reportedBytes: number): Promise<LoopDevice> {
  const backing = path.join(dir, `${name}.real`);
  const mountPoint = path.join(dir, `${name}.fuse`);
  execFileSync("truncate", ["-s", String(realBytes), backing]);
  mkdirSync(mountPoint, { recursive: true });
  const daemon = spawn("/usr/bin/python3", [ALIASING_DRIVE, backing, mountPoint, String(reportedBytes)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let said = "";
  daemon.stderr?.on("data", (d) => {
    said += d;
  });
  await new Promise<void>((resolve, reject) => {
    daemon.stdout?.on("data", (d) => String(d).includes("ready") && resolve());
    daemon.on("exit", (code) => reject(new Error(`aliasing-drive.py exited ${code} before mounting: ${said}`)));
  });
  fuseMounts.push({ mountPoint, daemon });
  const file = path.join(mountPoint, "drive.img");
  const loop = { device: setUpLoop(file), file };
  attached.push(loop);
  return loop;
}

export function detachLoop(loop: LoopDevice): void {
  execFileSync("losetup", ["-d", loop.device]);
  attached.splice(attached.indexOf(loop), 1);
}

/** Re-attach a file under whatever loop number is free (a disk that moved to another name). */
export function reattachLoop(loop: LoopDevice): LoopDevice {
  const device = setUpLoop(loop.file);
  const moved = { device, file: loop.file };
  attached.push(moved);
  return moved;
}

export function mountExt4(loop: LoopDevice, mountPoint: string): void {
  execFileSync("mkfs.ext4", ["-q", "-F", loop.device]);
  mkdirSync(mountPoint, { recursive: true });
  execFileSync("mount", [loop.device, mountPoint]);
  mounts.push(mountPoint);
}

export function cleanupLoops(): void {
  for (const mountPoint of mounts.splice(0)) {
    try {
      execFileSync("umount", [mountPoint]);
    } catch {
      // already gone
    }
  }
  for (const loop of attached.splice(0)) {
    try {
      execFileSync("losetup", ["-d", loop.device]);
    } catch {
      // already detached
    }
  }
  for (const { mountPoint, daemon } of fuseMounts.splice(0)) {
    try {
      execFileSync("umount", [mountPoint]);
    } catch {
      // The loop device still holds it (its detach is deferred): end the daemon, unmount lazily.
      daemon.kill("SIGKILL");
      execFileSync("umount", ["-l", mountPoint], { stdio: "ignore" });
    }
  }
}
