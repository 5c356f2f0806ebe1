// The demo host: this machine, with drives that are sparse files under the data directory.
// badblocks and every other program run for real on the files; smartctl, lsblk and zpool are
// answered by Kiln, since a file has no SMART data, no udev entry and no pool.
import path from "node:path";
import {
  DEMO_DRIVES,
  type DemoDrive,
  type DemoPace,
  demoDriveDir,
  demoLsblkJson,
  demoSmartctlJson,
  readDemoState,
  WATCHABLE_DEMO_PACE,
  writeDemoState,
} from "./demo-drives.js";
import { LocalHost } from "./local.js";
import { checkDevicePath } from "./shell.js";
import type { CommandTimeouts, DetachedProcess, ExecOptions, ExecResult } from "./types.js";
import type { RunLocation } from "./work-dir.js";

const ok = (stdout: string, code = 0): ExecResult => ({ code, signal: null, stdout: Buffer.from(stdout), stderr: "" });

export class DemoTransport extends LocalHost {
  constructor(
    private readonly dataDir: string,
    private readonly now: () => number = Date.now,
    timeouts?: () => CommandTimeouts,
    private readonly pace: DemoPace = WATCHABLE_DEMO_PACE,
  ) {
    super({ kind: "demo", timeouts });
  }

  /**
   * Demo drives are paced (KILN_DEMO_PACE; by default a full burn-in takes one to three minutes,
   * long enough to watch): badblocks' -c and -d (a job's own -d is kept), fio's rate. Their runs live under the data directory,
   * which whoever runs `npm start` can write to.
   */
  override startDetached(argv: readonly string[], location: RunLocation): Promise<DetachedProcess> {
    const here = { ...location, workDir: path.join(this.dataDir, "demo", "runs") };
    if (argv[0] === "fio") {
      // Its drives are files: buffered I/O (direct I/O depends on the data directory's filesystem).
      const paced = argv.map((a) => (a === "--direct=1" ? "--direct=0" : a));
      if (this.pace.fioMiBps !== null) paced.splice(1, 0, `--rate=${this.pace.fioMiBps}m`);
      return super.startDetached(paced, here);
    }
    if (argv[0] !== "badblocks") return super.startDetached(argv, here);
    const paced = [...argv];
    const c = paced.indexOf("-c");
    if (c >= 0 && this.pace.blocksAtOnce !== null) paced[c + 1] = String(this.pace.blocksAtOnce);
    if (!paced.includes("-d") && this.pace.readDelayFactor > 0) paced.splice(1, 0, "-d", String(this.pace.readDelayFactor));
    return super.startDetached(paced, here);
  }

  get demoDriveDir(): string {
    return demoDriveDir(this.dataDir);
  }

  // The demo's smartctl answers in-process: nothing to batch.
  override execPolled(argv: readonly string[], maxStdoutBytes: number): Promise<ExecResult> {
    return this.exec(argv, { maxStdoutBytes });
  }

  override async exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    const [program, ...args] = argv;
    if (program === "lsblk") {
      // `lsblk ... DEVICE` lists that device only, as the real one does.
      const device = args.at(-1)?.startsWith("/") ? checkDevicePath(args.at(-1) as string, { demoDir: this.demoDriveDir }) : null;
      const all = demoLsblkJson(this.dataDir);
      const listed = (all.blockdevices as Array<{ path: string }>).filter((d) => device === null || d.path === device);
      if (device !== null && listed.length === 0)
        return { code: 32, signal: null, stdout: Buffer.alloc(0), stderr: `lsblk: ${device}: not a block device` };
      return ok(JSON.stringify({ blockdevices: listed }));
    }
    if (program === "zpool") return ok("", 0);
    if (program === "smartctl") return this.smartctl(args);
    if (program === "hdparm" && args[0] === "-N" && args.length === 2) return this.maxSectors(args[1] as string);
    return super.exec(argv, options);
  }

  /** `hdparm -N`: the demo drives have no host protected area. */
  private maxSectors(device: string): ExecResult {
    checkDevicePath(device, { demoDir: this.demoDriveDir });
    const drive = DEMO_DRIVES.find((d) => this.pathOf(d) === device);
    if (!drive) return { code: 2, signal: null, stdout: Buffer.alloc(0), stderr: `${device}: No such file or directory` };
    const sectors = drive.sizeBytes / 512;
    return ok(`\n${device}:\n max sectors   = ${sectors}/${sectors}, HPA is disabled\n`);
  }

  private async smartctl(args: string[]): Promise<ExecResult> {
    if (args.includes("--scan") || args.includes("--scan-open")) {
      const devices = DEMO_DRIVES.map((d) => ({ name: this.pathOf(d), info_name: this.pathOf(d), type: "sat", protocol: "ATA" }));
      return ok(JSON.stringify({ json_format_version: [1, 0], devices }));
    }
    const device = args.at(-1) ?? "";
    checkDevicePath(device, { demoDir: this.demoDriveDir });
    const drive = DEMO_DRIVES.find((d) => this.pathOf(d) === device);
    if (!drive)
      return ok(
        JSON.stringify({ smartctl: { exit_status: 2, messages: [{ string: `${device}: No such device`, severity: "error" }] } }),
        2,
      );
    const state = await readDemoState(this.dataDir, drive.serial);
    const testIndex = args.indexOf("-t");
    if (testIndex >= 0) {
      const kind = args[testIndex + 1] === "long" ? "extended" : "short";
      state.selfTests.push({ kind, startedAt: this.now(), lifetimeHours: drive.powerOnHours });
      state.selfTests = state.selfTests.slice(-20);
      await writeDemoState(this.dataDir, drive.serial, state);
      return ok(
        JSON.stringify({ smartctl: { exit_status: 0 }, ata_smart_data: { self_test: { status: { value: 249, string: "in progress" } } } }),
      );
    }
    if (args.includes("-X")) {
      // Abort: forget a test still running.
      state.selfTests = state.selfTests.filter((t) => this.now() - t.startedAt >= this.pace.selfTestSeconds[t.kind] * 1000);
      await writeDemoState(this.dataDir, drive.serial, state);
      return ok("{}");
    }
    return ok(JSON.stringify(demoSmartctlJson(drive, device, state, this.now(), this.pace.selfTestSeconds)));
  }

  private pathOf(drive: DemoDrive): string {
    return path.join(this.demoDriveDir, `${drive.serial}.img`);
  }
}
