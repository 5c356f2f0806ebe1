// Stand-ins for tools that cannot run on test machines: smartctl cannot read loop devices, and
// there is no ZFS. They go first on the PATH of the test sshd's sessions and replay recorded
// output: smartctl answers per device from ../shared/fixtures/smartctl (mapped in smartctl.map),
// zpool prints zpool.status, hdparm -N answers from the loop device's size (hdparm.map: an HPA),
// and nvme and hdparm's sanitize commands play a drive's own sanitize (sanitize.map). Every call
// is appended to <tool>.calls so tests can tell what ran.
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";

const STAND_INS = path.join(import.meta.dirname, "stand-ins");

/**
 * `ownDir`: the directory of the test's loop device files. The sessions' lsblk and smartctl see,
 * of the machine's loop devices, only those backed by files under it: files running side by side
 * each get a host with their own disks.
 */
export function installStandIns(binDir: string, ownDir: string): void {
  for (const [name, file] of [
    ["smartctl", "smartctl.sh"],
    ["smartctl-replay.cjs", "smartctl-replay.cjs"],
    ["zpool", "zpool.sh"],
    ["hdparm", "hdparm.sh"],
    ["nvme", "nvme.sh"],
    ["sanitize-drive.cjs", "sanitize-drive.cjs"],
    ["lsblk", "lsblk-own.py"],
    ["lsblk-own", "lsblk-own.py"],
    ["own-loops.cjs", "own-loops.cjs"],
  ] as const) {
    copyFileSync(path.join(STAND_INS, file), path.join(binDir, name));
    chmodSync(path.join(binDir, name), 0o755);
  }
  writeFileSync(path.join(binDir, "smartctl.map"), "");
  writeFileSync(path.join(binDir, "lsblk.own"), `${realpathSync(ownDir)}\n`);
}

/**
 * smartctl.sh answers reads from copies of the replay's answers: whatever changes a control file
 * of the smartctl stand-in removes them (after the change, as the replay does).
 */
function changeSmartctl(binDir: string, change: () => void): void {
  change();
  // Moved aside first, in one step: a replay running beside the change may write a new copy into
  // the directory while it is being removed (rmSync then failed with ENOTEMPTY, CI of 2026-12-04).
  const cache = path.join(binDir, "smartctl-cache");
  const gone = `${cache}.gone-${process.pid}-${++removedCaches}`;
  try {
    renameSync(cache, gone);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  rmSync(gone, { recursive: true, force: true });
}
let removedCaches = 0;

/**
 * Make `device` answer with a recorded smartctl fixture (under another serial, if given); the last
 * mapping of a device is the one it answers with. A drive whose SMART changes is mapped to another
 * file: the stand-in's copies assume a fixture file never changes in place.
 */
export function mapSmartctl(binDir: string, device: string, fixturePath: string, serial?: string): void {
  changeSmartctl(binDir, () =>
    appendFileSync(path.join(binDir, "smartctl.map"), `${device} ${fixturePath}${serial ? ` ${serial}` : ""}\n`),
  );
}

/** Self-tests of the stand-in take this long. */
export function setSelfTestSeconds(binDir: string, seconds: number): void {
  changeSmartctl(binDir, () => writeFileSync(path.join(binDir, "selftest.seconds"), String(seconds)));
}

/** `hdparm -N` of this device says it has `nativeSectors` (more than it shows: an HPA), or does not answer. */
export function setNativeMaxSectors(binDir: string, device: string, nativeSectors: number | "none"): void {
  appendFileSync(path.join(binDir, "hdparm.map"), `${device} ${nativeSectors}\n`);
}

/**
 * This device is an NVMe or ATA drive whose own sanitize supports `methods` and takes `seconds`
 * (sanitize-drive.cjs): "frozen" (ATA: a freeze lock), "fail" (the drive reports it failed).
 */
export function setSanitize(
  binDir: string,
  device: string,
  drive: { commandSet: "nvme" | "ata"; methods: string[]; seconds: number; mode?: "frozen" | "fail" },
): void {
  appendFileSync(
    path.join(binDir, "sanitize.map"),
    `${device} ${drive.commandSet} ${drive.methods.join(",") || "-"} ${drive.seconds}${drive.mode ? ` ${drive.mode}` : ""}\n`,
  );
}

/** `smartctl -t` of this device fails to open it (exit 2), as when a drive drops off its bus. */
export function refuseSelfTests(binDir: string, device: string): void {
  changeSmartctl(binDir, () => appendFileSync(path.join(binDir, "selftest.refuse"), `${device}\n`));
}

/** Self-tests of this device end "Completed: read failure". */
export function failSelfTests(binDir: string, device: string): void {
  changeSmartctl(binDir, () => appendFileSync(path.join(binDir, "selftest.fail"), `${device}\n`));
}

/** This SAS device answers like smartctl before 7.4: a running self-test is logged, with no percent. */
export function legacyScsiSelfTests(binDir: string, device: string): void {
  changeSmartctl(binDir, () => appendFileSync(path.join(binDir, "selftest.scsi-legacy"), `${device}\n`));
}

/**
 * Stand-ins for a hostile host: lsblk that floods or answers with prepared text, and find (the
 * /dev/disk/by-id listing) with prepared lines. Without their control files they run the real tools.
 */
export function installHostileStandIns(binDir: string): void {
  for (const [name, file] of [
    ["lsblk", "lsblk.sh"],
    ["find", "find.sh"],
  ] as const) {
    copyFileSync(path.join(STAND_INS, file), path.join(binDir, name));
    chmodSync(path.join(binDir, name), 0o755);
  }
}

/** Put a stand-in badblocks (a shell script) first on the sessions' PATH. */
export function installBadblocks(binDir: string, script: string): void {
  writeFileSync(path.join(binDir, "badblocks"), script);
  chmodSync(path.join(binDir, "badblocks"), 0o755);
}

export function setZpoolStatus(binDir: string, text: string): void {
  writeFileSync(path.join(binDir, "zpool.status"), text);
}

export function standInCalls(binDir: string, tool: "smartctl" | "zpool" | "hdparm"): string[] {
  const file = path.join(binDir, `${tool}.calls`);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}
