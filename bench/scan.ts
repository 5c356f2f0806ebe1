// `npm run bench -- scan`: how fast Kiln's surface scans go on a device against the tools alone on
// the same device, and the CPU they cost. The device is a loop device in direct-I/O mode over a
// file on this machine's disk (the page cache out of the way), driven over the test harness's real
// sshd like a remote host. Each run writes the whole device and reads it all back:
//   dd          dd if=/dev/zero oflag=direct, then dd of=/dev/null iflag=direct (1 MiB blocks)
//   fio         fio alone: a sequential write then a read, 1 MiB, libaio, depth 8, direct, no verify
//   fio io_uring  the same with io_uring
//   fio+verify  fio with Kiln's own command line (verify headers every 4 KiB, crc32c, JSON status)
//   kiln fio    a `standard` job's surface scan, run and followed by Kiln (the stage's own time)
//   kiln bb     a `full` job's badblocks scan: 4 patterns, 8 passes, reported per pass
// MB/s is bytes moved (written + read) over the run's time; CPU is the whole machine's busy time
// (/proc/stat, every process and the kernel) per GB moved, so Kiln's polling counts too. Kiln's
// scans also run on a 32 MiB device: the difference is the rate a large drive sees, without the
// fixed seconds of a scan's checks, start and last poll. Then the same at a hard drive's speed
// (the kernel's blkio throttle on the loop devices, KILN_BENCH_SCAN_DRIVE_MBPS, default 285 MB/s
// each way: a 7200 rpm drive's outer tracks): fio alone over the same sshd against Kiln's fio
// scan, where the disk, not the verify's checksums, is the limit. Needs root, sshd, fio, cgroup v1
// blkio and ../shared/fixtures/smartctl. KILN_BENCH_SCAN_MIB: the large device's size (default
// 8192).
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
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

/** Runs a tool to its end without blocking this process (the Kiln under test runs in it too). */
async function sh(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let said = "";
  child.stderr.on("data", (d) => {
    said += d;
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(" ")}: exit ${code}: ${said}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** The small device: Kiln's fixed cost of a scan (checks, start, the poll that sees the end). */
const SMALL_BYTES = 32 * MiB;

export interface ScanBench {
  device: string;
  sizeBytes: number;
  runs: ScanRun[];
  /** Kiln's scans as they go on a large drive: the rate between the small and the large device. */
  marginal: Array<{ name: string; mbps: number; cpuSecondsPerGB: number; fixedSeconds: number }>;
  /** The throttle of the drive-speed runs, bytes per second each way. */
  driveBytesPerSecond: number;
}

export async function benchScan(rounds = 3): Promise<ScanBench> {
  const fixtureDir = smartctlFixtureDir();
  if (!fixtureDir) throw new Error("bench scan: ../shared/fixtures/smartctl is needed (the test host's SMART)");
  const sizeBytes = Number(process.env.KILN_BENCH_SCAN_MIB ?? 8192) * MiB;
  const work = tempDir("kiln-bench-scan-");
  const rig = await startBurnInRig({
    fixtureDir,
    workDir: work,
    count: 2,
    sizeBytes,
    dataDir: tempDir("kiln-bench-scan-data-"),
    settings: { remoteWorkDir: path.join(work, "runs") },
    pacedDisks: true,
    // Allocate the backing files (a sparse file's first write pays for its extents), make the
    // second device small, and put both in direct-I/O mode: the disk is measured, not the page cache.
    prepare: (host) => {
      for (const [i, loop] of host.loops.entries()) {
        const bytes = i === 0 ? sizeBytes : SMALL_BYTES;
        execFileSync("truncate", ["-s", String(bytes), loop.file]);
        execFileSync("fallocate", ["-l", String(bytes), loop.file]);
        execFileSync("losetup", ["-c", loop.device]);
        execFileSync("losetup", ["--direct-io=on", loop.device]);
      }
    },
  });
  try {
    const device = (rig.host.loops[0] as { device: string }).device;
    const both = 2 * sizeBytes;
    const runs: ScanRun[] = [];
    const fioBare = (rw: "write" | "read", engine: "libaio" | "io_uring" = "libaio") => [
      `--filename=${device}`,
      `--rw=${rw}`,
      "--direct=1",
      `--ioengine=${engine}`,
      "--iodepth=8",
      "--bs=1M",
      `--size=${sizeBytes}`,
      "--name=bare",
      "--output=/dev/null",
    ];
    const kilnJob = async (profile: "standard" | "full", drive: number) => {
      const id = (await startJob(rig.kiln.url, [rig.driveId(drive)], profile)).data?.[0]?.id as string;
      const job = await waitForJob(rig.kiln.url, id, ended, 3_600_000);
      if (job.status !== "passed") throw new Error(`bench scan: the ${profile} job ended ${job.status}: ${job.errorText}`);
      const stage = await rig.kiln.database.db.stage.findFirstOrThrow({ where: { jobId: id, name: "surface_validate" } });
      return ((stage.finishedAt?.getTime() ?? 0) - (stage.startedAt?.getTime() ?? 0)) / 1000;
    };
    for (let round = 0; round < rounds; round++) {
      runs.push(
        await measure("dd", both, async () => {
          await sh("dd", ["if=/dev/zero", `of=${device}`, "bs=1M", `count=${sizeBytes / MiB}`, "oflag=direct"]);
          await sh("dd", [`if=${device}`, "of=/dev/null", "bs=1M", `count=${sizeBytes / MiB}`, "iflag=direct"]);
          return undefined;
        }),
      );
      runs.push(
        await measure("fio", both, async () => {
          await sh("fio", fioBare("write"));
          await sh("fio", fioBare("read"));
          return undefined;
        }),
      );
      // What io_uring would give the same plain pass (Kiln's command line uses libaio).
      runs.push(
        await measure("fio io_uring", both, async () => {
          await sh("fio", fioBare("write", "io_uring"));
          await sh("fio", fioBare("read", "io_uring"));
          return undefined;
        }),
      );
      runs.push(
        await measure("fio+verify", both, async () => {
          const argv = fioArgv({
            device,
            toByte: sizeBytes,
            start: { phase: 1, fromByte: 0 },
            seed: 7,
            statusFile: path.join(work, "s.json"),
          });
          await sh(argv[0] as string, argv.slice(1));
          return undefined;
        }),
      );
      // Kiln's runs: the scan stage's own time (the self-tests and checks around it are not the scan).
      runs.push(await measure("kiln fio", both, () => kilnJob("standard", 0)));
      runs.push(await measure("kiln fio small", 2 * SMALL_BYTES, () => kilnJob("standard", 1)));
      runs.push(await measure("kiln bb", 4 * both, () => kilnJob("full", 0)));
      runs.push(await measure("kiln bb small", 8 * SMALL_BYTES, () => kilnJob("full", 1)));
    }
    // At a hard drive's speed: fio alone goes through the same sshd as Kiln (its sessions are in the
    // throttled group), so both are held to the same rate.
    const driveBytesPerSecond = Number(process.env.KILN_BENCH_SCAN_DRIVE_MBPS ?? 285) * 1e6;
    const sshd = rig.host.sshd;
    const overSsh = (args: string[]) =>
      sh("ssh", [
        ...["-i", sshd.clientKeyPath, "-p", String(sshd.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
        ...["-o", "LogLevel=ERROR", `${sshd.username}@${sshd.host}`, args.join(" ")],
      ]);
    rig.host.pace(driveBytesPerSecond);
    try {
      for (let round = 0; round < rounds; round++) {
        runs.push(
          await measure("fio @drive", both, async () => {
            await overSsh(["fio", ...fioBare("write")]);
            await overSsh(["fio", ...fioBare("read")]);
            return undefined;
          }),
        );
        runs.push(await measure("kiln fio @drive", both, () => kilnJob("standard", 0)));
        runs.push(await measure("kiln fio @drive small", 2 * SMALL_BYTES, () => kilnJob("standard", 1)));
      }
    } finally {
      rig.host.pace(null);
    }
    const names = [...new Set(runs.map((r) => r.name))];
    const medians = names.map((name): ScanRun => {
      const of = runs.filter((r) => r.name === name);
      const seconds = median(of.map((r) => r.seconds));
      const bytes = of[0]?.bytes ?? 0;
      return { name, bytes, seconds, mbps: bytes / 1e6 / seconds, cpuSecondsPerGB: median(of.map((r) => r.cpuSecondsPerGB)) };
    });
    const marginal = ["kiln fio", "kiln bb", "kiln fio @drive"].map((name) => {
      const big = medians.find((r) => r.name === name) as ScanRun;
      const small = medians.find((r) => r.name === `${name} small`) as ScanRun;
      const bytes = big.bytes - small.bytes;
      const seconds = big.seconds - small.seconds;
      const cpu = (big.cpuSecondsPerGB * big.bytes - small.cpuSecondsPerGB * small.bytes) / 1e9;
      const mbps = bytes / 1e6 / seconds;
      // What the small run took beyond moving its bytes at that rate.
      return { name, mbps, cpuSecondsPerGB: cpu / (bytes / 1e9), fixedSeconds: small.seconds - small.bytes / 1e6 / mbps };
    });
    return { device, sizeBytes, runs: medians, marginal, driveBytesPerSecond };
  } finally {
    await rig.stop();
  }
}
