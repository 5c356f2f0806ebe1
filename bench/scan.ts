// `npm run bench -- scan`: how fast Kiln's surface scans go on a device against the tools alone on
// the same device, and the CPU they cost. The device is a loop device in direct-I/O mode over a
// file on this machine's disk (the page cache out of the way), driven over the test harness's real
// sshd like a remote host. Each run writes the whole device and reads it all back:
//   dd          dd if=/dev/zero oflag=direct, then dd of=/dev/null iflag=direct (1 MiB blocks)
//   fio         fio alone: a sequential write then a read, 1 MiB, libaio, depth 8, direct, no verify
//   fio+verify  fio with Kiln's own command line (verify headers every 4 KiB, crc32c, JSON status)
//   kiln fio    a `standard` job's surface scan, run and followed by Kiln (the stage's own time)
//   kiln bb     a `full` job's badblocks scan: 4 patterns, 8 passes, reported per pass
// MB/s is bytes moved (written + read) over the run's time; CPU is the whole machine's busy time
// (/proc/stat, every process and the kernel) per GB moved, so Kiln's polling counts too. Needs root,
// sshd, fio, and ../shared/fixtures/smartctl. KILN_BENCH_SCAN_MIB: the device size (default 1024).
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fioArgv } from "../server/parsers/fio.js";
import { ended, startBurnInRig, startJob, waitForJob } from "../tests/helpers/burn-in-host.js";
import { smartctlFixtureDir } from "../tests/helpers/shared-fixtures.js";
import { tempDir } from "../tests/helpers/temp-db.js";

const MiB = 1 << 20;

export interface ScanRun {
  name: string;
  /** Bytes written plus bytes read. */
  bytes: number;
  seconds: number;
  mbps: number;
  cpuSecondsPerGB: number;
}

/** Busy and total jiffies of the whole machine. */
function cpuTicks(): { busy: number; total: number } {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] as string).trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

const TICKS_PER_SECOND = 100;

async function measure(name: string, bytes: number, run: () => Promise<number | undefined> | number | undefined): Promise<ScanRun> {
  const before = cpuTicks();
  const t0 = performance.now();
  const own = await run();
  const seconds = own ?? (performance.now() - t0) / 1000;
  const busySeconds = (cpuTicks().busy - before.busy) / TICKS_PER_SECOND;
  return { name, bytes, seconds, mbps: bytes / 1e6 / seconds, cpuSecondsPerGB: busySeconds / (bytes / 1e9) };
}

function sh(command: string, args: string[]): void {
  const r = spawnSync(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${r.stderr?.toString()}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function benchScan(rounds = 3): Promise<{ device: string; sizeBytes: number; runs: ScanRun[] }> {
  const fixtureDir = smartctlFixtureDir();
  if (!fixtureDir) throw new Error("bench scan: ../shared/fixtures/smartctl is needed (the test host's SMART)");
  const sizeBytes = Number(process.env.KILN_BENCH_SCAN_MIB ?? 1024) * MiB;
  const work = tempDir("kiln-bench-scan-");
  const rig = await startBurnInRig({
    fixtureDir,
    workDir: work,
    count: 1,
    sizeBytes,
    settings: { remoteWorkDir: path.join(work, "runs") },
  });
  try {
    const loop = rig.host.loops[0] as { device: string; file: string };
    // Allocate the backing file first (a sparse file's first write pays for its extents) and
    // put the loop device in direct-I/O mode: the disk is measured, not the page cache.
    execFileSync("fallocate", ["-l", String(sizeBytes), loop.file]);
    execFileSync("losetup", ["--direct-io=on", loop.device]);
    const device = loop.device;
    const both = 2 * sizeBytes;
    const runs: ScanRun[] = [];
    const fioBare = (rw: "write" | "read") => [
      `--filename=${device}`,
      `--rw=${rw}`,
      "--direct=1",
      "--ioengine=libaio",
      "--iodepth=8",
      "--bs=1M",
      `--size=${sizeBytes}`,
      "--name=bare",
      "--output=/dev/null",
    ];
    const kilnJob = async (profile: "standard" | "full") => {
      const id = (await startJob(rig.kiln.url, [rig.driveId(0)], profile)).data?.[0]?.id as string;
      const job = await waitForJob(rig.kiln.url, id, ended, 3_600_000);
      if (job.status !== "passed") throw new Error(`bench scan: the ${profile} job ended ${job.status}: ${job.errorText}`);
      const stage = await rig.kiln.database.db.stage.findFirstOrThrow({ where: { jobId: id, name: "surface_validate" } });
      return ((stage.finishedAt?.getTime() ?? 0) - (stage.startedAt?.getTime() ?? 0)) / 1000;
    };
    for (let round = 0; round < rounds; round++) {
      runs.push(
        await measure("dd", both, () => {
          sh("dd", ["if=/dev/zero", `of=${device}`, "bs=1M", `count=${sizeBytes / MiB}`, "oflag=direct"]);
          sh("dd", [`if=${device}`, "of=/dev/null", "bs=1M", `count=${sizeBytes / MiB}`, "iflag=direct"]);
          return undefined;
        }),
      );
      runs.push(
        await measure("fio", both, () => {
          sh("fio", fioBare("write"));
          sh("fio", fioBare("read"));
          return undefined;
        }),
      );
      runs.push(
        await measure("fio+verify", both, () => {
          const argv = fioArgv({
            device,
            toByte: sizeBytes,
            start: { phase: 1, fromByte: 0 },
            seed: 7,
            statusFile: path.join(work, "s.json"),
          });
          sh(argv[0] as string, argv.slice(1));
          return undefined;
        }),
      );
      // Kiln's runs: the scan stage's own time (the self-tests and checks around it are not the scan).
      runs.push(await measure("kiln fio", both, () => kilnJob("standard")));
      runs.push(await measure("kiln bb", 4 * both, () => kilnJob("full")));
    }
    const names = [...new Set(runs.map((r) => r.name))];
    const medians = names.map((name): ScanRun => {
      const of = runs.filter((r) => r.name === name);
      const seconds = median(of.map((r) => r.seconds));
      const bytes = of[0]?.bytes ?? 0;
      return { name, bytes, seconds, mbps: bytes / 1e6 / seconds, cpuSecondsPerGB: median(of.map((r) => r.cpuSecondsPerGB)) };
    });
    return { device, sizeBytes, runs: medians };
  } finally {
    await rig.stop();
  }
}
