// Kiln's CPU and memory per running scan: the runner follows N scans whose badblocks output grows
// once a second (written by a separate process, so only Kiln's own work is measured), on the
// default SQLite file. Reported as the slope over N = 0 / 50 / 200.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";
import { openDatabase } from "../server/db/client.js";
import { migrateDatabase } from "../server/db/migrations.js";
import { createKilnPubSub } from "../server/events/pubsub.js";
import { NotificationDispatcher } from "../server/notify/dispatcher.js";
import { NotificationWatcher } from "../server/notify/watcher.js";
import { JobRunner } from "../server/runner/runner.js";
import { remoteFields } from "../server/runner/stages/detached-scan.js";
import { HostRegistry } from "../server/services/host-registry.js";
import { LocalHost } from "../server/transport/local.js";
import { sshChannelsOpened } from "../server/transport/ssh.js";
import { startSshd } from "../tests/helpers/sshd.js";
import { removeTempDirs } from "../tests/helpers/temp-db.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

// A stand-in for N badblocks processes: appends one progress redraw per second to each log.
const WRITER = `
const fs = require("node:fs");
const logs = JSON.parse(process.argv[1]);
const bs = "\\b".repeat(42);
let t = 0;
for (const l of logs) fs.appendFileSync(l, "Checking for bad blocks in read-write mode\\nFrom block 0 to 4882812499\\nTesting with pattern 0xaa: ");
setInterval(() => {
  t += 1;
  const pct = (t * 0.01).toFixed(2).padStart(6);
  for (const l of logs) fs.appendFileSync(l, pct + "% done, " + Math.floor(t / 60) + ":" + String(t % 60).padStart(2, "0") + " elapsed. (0/0/0 errors)" + bs);
}, 1000);
`;

export interface CostSample {
  scans: number;
  /** SSH hosts the scans ran on (0: the local host). */
  hosts: number;
  /** SSH exec channels opened per second (0 on the local host). */
  channelsPerSec: number;
  cpuPctOfCore: number;
  rssMiB: number;
  heapMiB: number;
}

/**
 * `sshHosts` 0: the scans run on the local host. Otherwise on that many SSH hosts (host records
 * that all reach the test harness's real sshd on 127.0.0.1, each with its own connection), the
 * scans spread evenly over them.
 */
export async function measure(scans: number, seconds: number, sshHosts = 0): Promise<CostSample> {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-bench-"));
  const url = `file:${path.join(dir, "kiln.db")}`;
  await migrateDatabase({ url });
  const database = await openDatabase({ url });
  const { db } = database;
  const sshd = sshHosts > 0 ? await startSshd() : null;
  const hosts = [];
  for (let h = 0; h < Math.max(1, sshHosts); h++) {
    hosts.push(
      await db.host.create({
        data: sshd
          ? {
              name: `bench-ssh-${h}`,
              transport: "ssh",
              address: sshd.host,
              port: sshd.port,
              username: "root",
              privateKeyPath: sshd.clientKeyPath,
              fingerprint: sshd.fingerprint(),
              trusted: true,
              status: "ok",
            }
          : { name: "bench", transport: "local", trusted: true, status: "ok" },
      }),
    );
  }
  const local = new LocalHost();
  const logs: string[] = [];
  for (let i = 0; i < scans; i++) {
    const host = hosts[i % hosts.length] as (typeof hosts)[number];
    const drive = await db.drive.create({
      data: { hostId: host.id, serial: `B${i}`, devicePath: `/dev/sd${String.fromCharCode(97 + (i % 26))}`, sizeBytes: 20n * 10n ** 12n },
    });
    // A real detached process per scan (so liveness checks are real), its log fed by the writer.
    const proc = await local.startDetached(["sleep", "3600"], { workDir: path.join(dir, "runs"), job: `job${i}`, stage: "scan" });
    logs.push(proc.logPath);
    await db.burnInJob.create({
      data: {
        driveId: drive.id,
        serial: drive.serial,
        profile: "full",
        status: "running",
        stages: {
          create: [
            {
              name: "surface_validate",
              position: 0,
              weight: 1,
              status: "running",
              startedAt: new Date(),
              bbPhase: 1,
              bbPhasePct: 0,
              bbBlockSize: 4096,
              bbBlocksAtOnce: 256,
              ...remoteFields(proc),
            },
          ],
        },
      },
    });
  }
  const writer: ChildProcess = spawn(process.execPath, ["-e", WRITER, JSON.stringify(logs)], { stdio: "ignore" });
  const registry = new HostRegistry({ dataDir: dir });
  const pubsub = createKilnPubSub();
  const runner = new JobRunner({ db, registry, pubsub, instanceId: "bench", singleInstance: true, log: () => {} });
  // What kiln serve runs beside the runner on every job event: the notification watcher (with no
  // channel configured, as most events find none). KILN_BENCH_WATCHER=0 leaves it out (an A/B).
  const dispatcher = new NotificationDispatcher(db);
  const watcher = process.env.KILN_BENCH_WATCHER === "0" ? null : new NotificationWatcher(db, pubsub, dispatcher);
  watcher?.start();
  await runner.start();
  await sleep(5000); // warm-up: re-attach, first reads
  gc();
  const cpu0 = process.cpuUsage();
  const channels0 = sshChannelsOpened();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const elapsedMs = performance.now() - t0;
  const channels = sshChannelsOpened() - channels0;
  gc();
  const memory = process.memoryUsage();
  const sample = {
    scans,
    hosts: sshHosts,
    cpuPctOfCore: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
    rssMiB: memory.rss / 2 ** 20,
    heapMiB: memory.heapUsed / 2 ** 20,
    channelsPerSec: channels / (elapsedMs / 1000),
  };
  writer.kill("SIGKILL");
  await runner.stop();
  await watcher?.stop();
  await dispatcher.stop();
  for (const job of await db.stage.findMany()) {
    if (job.remotePgid) {
      try {
        process.kill(-job.remotePgid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  await registry.closeAll();
  await database.close();
  await sshd?.stop();
  removeTempDirs();
  rmSync(dir, { recursive: true, force: true });
  return sample;
}

// Run as a script: one measurement in a fresh process, printed as JSON (RSS is per process).
if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  const scans = Number(process.argv[2] ?? 0);
  const seconds = Number(process.argv[3] ?? 20);
  const sshHosts = Number(process.argv[4] ?? 0);
  console.log(JSON.stringify(await measure(scans, seconds, sshHosts)));
  process.exit(0);
}
