// The Transport contract on the local machine and over a real sshd: commands, detached runs that
// outlive the connection, log reads from an offset, liveness by identity, kills, refusals.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsumedBytes } from "../../server/runner/stages/detached-scan.js";
import { readSmartReport } from "../../server/services/inventory.js";
import { LocalHost, LocalRunner } from "../../server/transport/local.js";
import { PosixHost } from "../../server/transport/posix-host.js";
import { SshRunner } from "../../server/transport/ssh.js";
import { type Transport, TransportError, UnsafeArgumentError } from "../../server/transport/types.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";
import { removeTempDirs, tempDir } from "../helpers/temp-db.js";

let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  removeTempDirs();
});

const sshHost = (): PosixHost =>
  new PosixHost(
    new SshRunner({
      host: sshd.host,
      port: sshd.port,
      username: "root",
      privateKeyPath: sshd.clientKeyPath,
      pinnedFingerprint: sshd.fingerprint(),
    }),
    { kind: "ssh" },
  );
const localHost = () => new LocalHost();
/** The shell-only path (what a sudo host uses) on this machine. */
const localShell = () => new PosixHost(new LocalRunner(), { kind: "local" });

const modeOf = (file: string) => statSync(file).mode & 0o777;

/** Prints "line N" every 100 ms, 30 times. */
const TICKER = ["sh", "-c", 'i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done'];

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe.each([
  ["local", localHost],
  ["local (shell only)", localShell],
  ["ssh", sshHost],
] as const)("%s transport", (_kind, make) => {
  let transport: Transport;
  beforeAll(() => {
    transport = make();
  });
  afterAll(async () => {
    await transport.close();
  });

  it("runs a program with its arguments passed through unchanged, with output and exit code", async () => {
    const tricky = `it's "quoted" $HOME; $(touch /tmp/kiln-should-not-exist) \`id\``;
    const result = await transport.exec(["printf", "%s|", tricky, "two words"]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(`${tricky}|two words|`);
    expect(existsSync("/tmp/kiln-should-not-exist")).toBe(false);
    expect((await transport.exec(["sh", "-c", "exit 3"])).code).toBe(3);
  });

  it("says a missing program is missing", async () => {
    await expect(transport.exec(["kiln-no-such-tool", "--version"])).rejects.toMatchObject({ reason: "command_missing" });
  });

  it("times a hung command out", async () => {
    await expect(transport.exec(["sleep", "5"], { timeoutMs: 300 })).rejects.toMatchObject({ reason: "command_timeout" });
  });

  it("abandons a command whose output passes its limit, and the command ends", async () => {
    const marker = path.join(tempDir(), "printed-everything");
    const tag = `kiln-flood-${Math.random().toString(36).slice(2)}`;
    // 50 MB to print; the limit is 1 MiB. The tag in the script finds the process afterwards.
    const flood = ["sh", "-c", `head -c 50000000 /dev/zero && touch ${marker}; : ${tag}`];
    const error = await transport.exec(flood, { maxStdoutBytes: 1 << 20 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({
      reason: "output_too_large",
      message: expect.stringMatching(/^sh: the host printed more than 1048576 bytes/),
    });
    await until("the flooding command to end", async () => {
      try {
        execFileSync("pgrep", ["-f", tag]);
        return false;
      } catch {
        return true;
      }
    });
    expect(existsSync(marker)).toBe(false);
  });

  it("runs detached work in a private directory (0700, files 0600) and removes it afterwards", async () => {
    const base = path.join(tempDir(), "kiln");
    const proc = await transport.startDetached(["sh", "-c", "echo hello"], { workDir: base, job: "job1", stage: "scan" });
    expect(proc.dir).toBe(`${base}/job1/scan`);
    await until("the exit code", async () => (await transport.readExitCode(proc.exitPath)) !== null);
    for (const dir of [base, `${base}/job1`, proc.dir]) expect(modeOf(dir), dir).toBe(0o700);
    expect(modeOf(proc.logPath)).toBe(0o600);
    expect((await transport.readLog(proc.logPath, 0)).data.toString()).toBe("hello\n");
    await transport.removeRun(proc);
    expect(existsSync(`${base}/job1`)).toBe(false);
    expect(existsSync(base)).toBe(true);
  });

  it("refuses a work directory someone else could have prepared, before starting anything", async () => {
    const root = tempDir();
    const refused = async (base: string, why: RegExp) => {
      const error = await transport
        .startDetached(["touch", path.join(root, "ran")], { workDir: base, job: "job1", stage: "scan" })
        .catch((e) => e);
      expect(error, base).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ reason: "unsafe_work_dir", message: expect.stringMatching(why) });
      expect(existsSync(path.join(root, "ran"))).toBe(false);
    };
    // A symlink to a directory Kiln would otherwise accept.
    mkdirSync(path.join(root, "real"), { mode: 0o700 });
    symlinkSync(path.join(root, "real"), path.join(root, "link"));
    await refused(path.join(root, "link"), /link is a symbolic link; nothing was started/);
    expect(readdirSync(path.join(root, "real"))).toEqual([]);
    // Made by another user (nobody, uid 65534), as on a shared /var/tmp.
    mkdirSync(path.join(root, "theirs"), { mode: 0o700 });
    chownSync(path.join(root, "theirs"), 65534, 65534);
    await refused(path.join(root, "theirs"), /theirs belongs to uid 65534, not to uid 0 that Kiln runs as/);
    // Kiln's, but anyone may write to it.
    mkdirSync(path.join(root, "open"));
    chmodSync(path.join(root, "open"), 0o777);
    await refused(path.join(root, "open"), /open is writable by group or others \(mode 777\)/);
    // Kiln's, but inside a directory anyone may rename things in (no sticky bit).
    mkdirSync(path.join(root, "shared"));
    chmodSync(path.join(root, "shared"), 0o777);
    await refused(path.join(root, "shared", "kiln"), /shared is writable by others without the sticky bit \(mode 777\)/);
    // A job directory planted inside by another user.
    mkdirSync(path.join(root, "ok", "job1"), { recursive: true, mode: 0o700 });
    chownSync(path.join(root, "ok", "job1"), 65534, 65534);
    await refused(path.join(root, "ok"), /job1 belongs to uid 65534/);
  });

  it("kills a detached process group and confirms it is gone", async () => {
    const proc = await transport.startDetached(["sleep", "60"], { workDir: tempDir(), job: "job", stage: "run" });
    expect(await transport.processState(proc)).toBe("alive");
    const started = Date.now();
    expect(await transport.killGroup(proc)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await transport.processState(proc)).toBe("gone");
    // The wrapper died with it: no exit code is written for a killed group.
    expect(await transport.readExitCode(proc.exitPath)).toBeNull();
  });

  it("records a command that ends at once (badblocks refusing a device) and reads its exit code", async () => {
    // The shell reaps a quick child while it runs a command substitution: its identity was read
    // after it was gone and the start failed ("could not start"), 32 times in 50 with `true`.
    // `false` is a shell builtin: no exec, so it ends as soon as it is forked.
    const workDir = tempDir();
    for (let i = 0; i < 20; i++) {
      const proc = await transport.startDetached(["false"], { workDir, job: `job${i}`, stage: "run" });
      expect(proc.pid, `start ${i}`).toBeGreaterThan(0);
      await until(`exit of start ${i}`, async () => (await transport.readExitCode(proc.exitPath)) !== null);
      expect(await transport.readExitCode(proc.exitPath), `start ${i}`).toBe(1);
      expect(await transport.processState(proc)).toBe("gone");
    }
  });

  it("does not take another process under a reused pid for ours", async () => {
    const proc = await transport.startDetached(["sleep", "60"], { workDir: tempDir(), job: "job", stage: "run" });
    expect(await transport.processState({ ...proc, startTime: String(Number(proc.startTime) + 1) })).toBe("gone");
    expect(await transport.processState({ ...proc, bootId: "00000000-0000-0000-0000-000000000000" })).toBe("gone");
    await transport.killGroup(proc);
  });

  it("follows a stage's earlier start that still runs instead of starting it twice, and starts afresh once it is dead", async () => {
    // The Kiln that started it died (or lost the job) before recording it: the next start of the
    // same stage must not run a second command on the same drive.
    const location = { workDir: tempDir(), job: "job", stage: "scan" };
    const first = await transport.startDetached(["sleep", "60"], location);
    const again = await transport.startDetached(["sleep", "60"], location);
    expect(again).toMatchObject({ adopted: true, pid: first.pid, pgid: first.pgid, startTime: first.startTime });
    expect(first.adopted).toBeUndefined();
    expect(await transport.processState(first)).toBe("alive");
    // Killed with its wrapper (no exit code written): nothing to follow, a new run starts.
    await transport.killGroup(first);
    const fresh = await transport.startDetached(["sleep", "60"], location);
    expect(fresh.adopted).toBeUndefined();
    expect(fresh.pid).not.toBe(first.pid);
    expect(await transport.processState(fresh)).toBe("alive");
    await transport.killGroup(fresh);
  });
});

describe("detached runs over SSH", () => {
  it("keep running after the connection is closed, and their log can be read from an offset afterwards", async () => {
    const first = sshHost();
    const proc = await first.startDetached(TICKER, { workDir: tempDir(), job: "job", stage: "detached" });
    await until("the first lines", async () => (await first.readLog(proc.logPath, 0)).data.toString().includes("line 3"));
    const head = await first.readLog(proc.logPath, 0);
    await first.close();

    // A new connection, as after a Kiln restart.
    const second = sshHost();
    try {
      expect(await second.processState(proc)).toBe("alive");
      // Exit code 0 is falsy: wrap it so the wait ends when the file appears.
      const { code } = await until("the exit code", async () => {
        const exit = await second.readExitCode(proc.exitPath);
        return exit === null ? null : { code: exit };
      });
      expect(code).toBe(0);
      const rest = await second.readLog(proc.logPath, head.nextOffset);
      const all = head.data.toString() + rest.data.toString();
      expect(all.split("\n").filter(Boolean)).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i + 1}`));
      expect(rest.nextOffset).toBe(Buffer.byteLength(all));
      expect(await second.processState(proc)).toBe("gone");
    } finally {
      await second.close();
    }
  });
});

describe("scan polls over SSH, one script per host", () => {
  it("answers 12 scans' log reads and liveness checks with one channel, each with its own bytes", async () => {
    const host = sshHost();
    try {
      const workDir = tempDir();
      // Binary-looking logs of different lengths (badblocks redraws its line with backspaces).
      const procs = [];
      for (let i = 0; i < 12; i++) {
        const text = `scan ${i}\b\b\r${"x".repeat(i * 37)}\n`;
        procs.push(await host.startDetached(["printf", "%b", text], { workDir, job: `job${i}`, stage: "scan" }));
      }
      const alive = await host.startDetached(["sleep", "60"], { workDir, job: "alive", stage: "scan" });
      for (const proc of procs) await until(`exit of ${proc.dir}`, async () => (await host.readExitCode(proc.exitPath)) !== null);
      const scriptsBefore = host.polls.scripts;
      const [chunks, states] = await Promise.all([
        Promise.all(procs.map((p, i) => host.readLog(p.logPath, i % 3, 4096))),
        Promise.all([alive, ...procs.slice(0, 3)].map((p) => host.processState(p))),
      ]);
      expect(host.polls.scripts - scriptsBefore).toBe(1);
      for (const [i, chunk] of chunks.entries()) {
        const whole = Buffer.from(`scan ${i}\b\b\r${"x".repeat(i * 37)}\n`, "latin1");
        expect(chunk.data.equals(whole.subarray(i % 3)), `scan ${i}`).toBe(true);
        expect(chunk.nextOffset).toBe(whole.length);
      }
      expect(states).toEqual(["alive", "gone", "gone", "gone"]);
      // A read from the end gets nothing; a log that is not there is said to be missing, alone.
      const [atEnd, missing] = await Promise.allSettled([
        host.readLog(procs[0]?.logPath ?? "", chunks[0]?.nextOffset ?? 0),
        host.readLog(`${workDir}/no-such/log`, 0),
      ]);
      expect(atEnd).toMatchObject({ status: "fulfilled", value: { data: Buffer.alloc(0) } });
      expect(missing).toMatchObject({ status: "rejected", reason: { message: expect.stringMatching(/does not exist on the host/) } });
      // Commands on the same beat (temperature readings) share one script too, exit codes kept.
      const before = host.polls.scripts;
      const [printed, failed, missingCommand] = await Promise.allSettled([
        host.execPolled(["printf", "%s", 'it\'s "quoted"; $(no)'], 1000),
        host.execPolled(["sh", "-c", "printf partial; exit 3"], 1000),
        host.execPolled(["kiln-no-such-command"], 1000),
      ]);
      expect(host.polls.scripts - before).toBe(1);
      expect(printed).toMatchObject({ status: "fulfilled", value: { code: 0 } });
      expect(printed.status === "fulfilled" && printed.value.stdout.toString()).toBe(`it's "quoted"; $(no)`);
      expect(failed.status === "fulfilled" && [failed.value.code, failed.value.stdout.toString()]).toEqual([3, "partial"]);
      expect(missingCommand).toMatchObject({ status: "rejected", reason: { reason: "command_missing" } });
      await host.killGroup(alive);
    } finally {
      await host.close();
    }
  });
});

describe("scan polls from a host that lies", () => {
  it("refuses the whole poll when the host's answer breaks the framing, and reads again once it does not", async () => {
    const host = sshHost();
    const liar = path.join(sshd.binDir, "wc");
    try {
      const proc = await host.startDetached(["printf", "%s", "one line of log"], { workDir: tempDir(), job: "job", stage: "scan" });
      await until("the exit code", async () => (await host.readExitCode(proc.exitPath)) !== null);
      // A host whose wc claims far more bytes than the log holds: the header promises bytes the
      // body does not have, so the next header is not where it must be.
      writeFileSync(liar, "#!/bin/sh\necho 9999\n", { mode: 0o755 });
      const alive = await host.startDetached(["sleep", "60"], { workDir: tempDir(), job: "alive", stage: "scan" });
      const answers = await Promise.allSettled([host.readLog(proc.logPath, 0, 4096), host.processState(alive)]);
      for (const answer of answers) {
        expect(answer).toMatchObject({
          status: "rejected",
          reason: { message: expect.stringMatching(/output Kiln cannot read.*nothing of it was used/) },
        });
      }
      rmSync(liar);
      expect((await host.readLog(proc.logPath, 0, 4096)).data.toString()).toBe("one line of log");
      expect(await host.processState(alive)).toBe("alive");
      await host.killGroup(alive);
    } finally {
      rmSync(liar, { force: true });
      await host.close();
    }
  });
});

describe("device paths", () => {
  it("refuses a device path with shell metacharacters before any command runs on the host", async () => {
    const transport = sshHost();
    try {
      await transport.exec(["true"]); // connection up, so a refusal is not just a failure to connect
      const sessionsBefore = (sshd.log().match(/Starting session: command/g) ?? []).length;
      for (const bad of [
        "/dev/sda; touch /tmp/kiln-pwned",
        "/dev/sdb$(reboot)",
        "../../etc/passwd",
        "/dev/sda1",
        "/tmp/x.img",
        "/dev/disk/by-id/ata-X Y",
      ]) {
        await expect(readSmartReport(transport, bad)).rejects.toBeInstanceOf(UnsafeArgumentError);
      }
      await expect(readSmartReport(transport, "/dev/sda;id")).rejects.toThrow(
        /devicePath: "\/dev\/sda;id" is not a device Kiln will touch/,
      );
      expect((sshd.log().match(/Starting session: command/g) ?? []).length).toBe(sessionsBefore);
      expect(existsSync("/tmp/kiln-pwned")).toBe(false);
    } finally {
      await transport.close();
    }
  });

  it("accepts the device names Kiln tests", async () => {
    const { checkDevicePath } = await import("../../server/transport/shell.js");
    for (const ok of [
      "/dev/sda",
      "/dev/sdaa",
      "/dev/nvme0n1",
      "/dev/loop7",
      "/dev/disk/by-id/ata-WDC_WD140EDFZ-11A0VA0_9RK1XXXX",
      "/dev/disk/by-id/wwn-0x5000cca290c1a2b3",
    ]) {
      expect(checkDevicePath(ok)).toBe(ok);
    }
    expect(checkDevicePath("/srv/kiln/demo/drives/KDEMO-A1001.img", { demoDir: "/srv/kiln/demo/drives" })).toBe(
      "/srv/kiln/demo/drives/KDEMO-A1001.img",
    );
    expect(() => checkDevicePath("/srv/kiln/demo/other/KDEMO-A1001.img", { demoDir: "/srv/kiln/demo/drives" })).toThrow(
      UnsafeArgumentError,
    );
  });
});

describe("SSH failures", () => {
  it("reports a refused key as an authentication failure", async () => {
    const other = path.join(tempDir(), "other_key");
    const { execFileSync } = await import("node:child_process");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const runner = new SshRunner({
      host: sshd.host,
      port: sshd.port,
      username: "root",
      privateKeyPath: other,
      pinnedFingerprint: sshd.fingerprint(),
    });
    await expect(runner.run("true")).rejects.toMatchObject({ reason: "auth_failed" });
    await runner.close();
  });

  it("replaces a pooled connection after its maximum age, so a host key changed meanwhile is noticed", async () => {
    const own = await startSshd();
    let maxAgeMs = 60 * 60_000;
    const runner = new SshRunner({
      host: own.host,
      port: own.port,
      username: "root",
      privateKeyPath: own.clientKeyPath,
      pinnedFingerprint: own.fingerprint(),
      maxConnectionAgeMs: () => maxAgeMs,
    });
    try {
      expect((await runner.run("echo before")).stdout.toString()).toBe("before\n");
      await own.replaceHostKeyKeepingConnections();
      // The connection made before the change still works: on its own it would never see the new key.
      expect((await runner.run("echo still")).stdout.toString()).toBe("still\n");
      maxAgeMs = 0; // the connection is now past its maximum age
      await expect(runner.run("true")).rejects.toMatchObject({
        reason: "host_key_changed",
        details: { fingerprint: own.fingerprint() },
      });
    } finally {
      await runner.close();
      await own.stop();
    }
  });

  it("re-connects when its pooled connection dropped before saying so, and reports a stopped sshd as refused", async () => {
    const own = await startSshd();
    const runner = new SshRunner({
      host: own.host,
      port: own.port,
      username: "root",
      privateKeyPath: own.clientKeyPath,
      pinnedFingerprint: own.fingerprint(),
    });
    // The socket is gone but ssh2 has not emitted "close" yet: the window in which a host's
    // sshd has just been killed. (Reached into on purpose: no public API can time it.)
    const dropPooledSocket = () => (runner as unknown as { client: { destroy(): void } }).client.destroy();
    try {
      expect((await runner.run("echo before")).stdout.toString()).toBe("before\n");
      dropPooledSocket();
      expect((await runner.run("echo again")).stdout.toString()).toBe("again\n");
      // sshd stops listening (the pooled connection stays up, so the runner still holds it), then
      // that connection drops: the retry's new handshake finds the port closed.
      await own.stopListener();
      dropPooledSocket();
      await expect(runner.run("true")).rejects.toMatchObject({ reason: "refused" });
      await own.stop();
      await own.start();
      runner.resetBackoff();
      expect((await runner.run("echo back")).stdout.toString()).toBe("back\n");
    } finally {
      await runner.close();
      await own.stop();
    }
  });

  it("reports a closed port as refused, and backs off before trying again", async () => {
    const runner = new SshRunner({
      host: "127.0.0.1",
      port: 1,
      username: "root",
      privateKeyPath: sshd.clientKeyPath,
      pinnedFingerprint: sshd.fingerprint(),
    });
    const first = await runner.run("true").catch((e: TransportError) => e);
    expect(first).toBeInstanceOf(TransportError);
    expect((first as TransportError).reason).toBe("refused");
    // Within the backoff the same error comes back without a new attempt.
    expect(await runner.run("true").catch((e: TransportError) => e)).toBe(first);
    runner.resetBackoff();
    expect(await runner.run("true").catch((e: TransportError) => e)).not.toBe(first);
  });
});

describe("a progress file's consumed part, freed on the host", () => {
  it.each([
    ["over SSH", sshHost],
    ["on this machine", localHost],
  ])("%s: punches out what was read, keeps the size and the rest, and stops trying where it cannot", async (_, make) => {
    const host = make();
    try {
      const file = path.join(tempDir("kiln-free-"), "status.json");
      const text = Buffer.alloc(256 * 1024, "x");
      writeFileSync(file, text);
      const allocated = () => statSync(file).blocks * 512;
      expect(allocated()).toBeGreaterThanOrEqual(text.length);
      const lines: string[] = [];
      const consumed = new ConsumedBytes(host, file, (line) => lines.push(line), 64 * 1024);
      // Under the step: nothing freed yet.
      await consumed.free(60 * 1024);
      expect(consumed.freedBytes).toBe(0);
      // Down to a whole 4 KiB of what was consumed.
      await consumed.free(200 * 1024 + 100);
      expect(consumed.freedBytes).toBe(200 * 1024);
      expect(statSync(file).size).toBe(text.length);
      expect(allocated()).toBeLessThanOrEqual(text.length - 200 * 1024);
      const after = readFileSync(file);
      expect(after.subarray(0, 200 * 1024).every((b) => b === 0)).toBe(true);
      expect(after.subarray(200 * 1024).toString()).toBe("x".repeat(56 * 1024));
      expect(lines).toEqual([]);

      // A file that cannot be punched (gone here): said once, never tried again.
      const missing = new ConsumedBytes(host, path.join(path.dirname(file), "gone.json"), (line) => lines.push(line), 4096);
      await missing.free(8192);
      await missing.free(64 * 1024);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^cannot free the consumed part of \S+gone\.json on the host \(.*No such file.*\): it keeps growing/);
    } finally {
      await host.close();
    }
  });
});
