// A real OpenSSH sshd on 127.0.0.1 and a free port, with its own host key, an authorized client
// key and an environment of its own (PATH with stand-in tools first). Root login by key only:
// loop devices need root. .ci/run installs openssh-server when it is missing.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { IoThrottle } from "./io-throttle.js";
import { tempDir } from "./temp-db.js";

export interface TestSshd {
  host: string;
  port: number;
  username: string;
  /** Client private key authorized for `username`. */
  clientKeyPath: string;
  /** SHA256:... of the current host key, as ssh-keygen prints it. */
  fingerprint(): string;
  /** Directory put first on PATH of every session (stand-in tools go here). */
  binDir: string;
  dir: string;
  /** Everything sshd logged (LogLevel VERBOSE). */
  log(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop accepting connections; connections made before stay up (each has its own sshd). */
  stopListener(): Promise<void>;
  /** Make a new host key (as after a reinstall) and restart. */
  regenerateHostKey(): Promise<void>;
  /**
   * Make a new host key and restart the listener only: connections made before stay up with
   * the old key (as when a host's key is replaced while Kiln stays connected).
   */
  replaceHostKeyKeepingConnections(): Promise<void>;
}

const SSHD = "/usr/sbin/sshd";

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * `ioThrottle`: every sshd started (and so every command Kiln runs on this host) goes into that
 * group, from before it accepts a connection.
 */
export async function startSshd(env: Record<string, string> = {}, options: { ioThrottle?: IoThrottle } = {}): Promise<TestSshd> {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install -y openssh-server (.ci/run does this)`);
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = tempDir("kiln-sshd-");
  const binDir = path.join(dir, "bin");
  mkdirSync(binDir);
  const hostKey = path.join(dir, "host_ed25519");
  const clientKeyPath = path.join(dir, "client_ed25519");
  const keygen = (file: string) => {
    rmSync(file, { force: true });
    rmSync(`${file}.pub`, { force: true });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
  };
  keygen(hostKey);
  keygen(clientKeyPath);
  writeFileSync(path.join(dir, "authorized_keys"), readFileSync(`${clientKeyPath}.pub`));
  const port = await freePort();
  const setEnv = Object.entries({
    PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    // bash reads ~/.bashrc for a command sshd runs unless it is a nested shell (SHLVL 1 makes it
    // one). The test machine's root .bashrc runs `pyenv init`: 360 ms before every command, which
    // made each exec over this sshd 20-100 times slower than the command itself. A storage host's
    // rc files are its own; these tests measure Kiln.
    SHLVL: "1",
    ...env,
  })
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  writeFileSync(
    path.join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "PermitRootLogin prohibit-password",
      // Logins under /tmp (mode 1777) are refused with StrictModes yes.
      "StrictModes no",
      "LogLevel VERBOSE",
      `SetEnv ${setEnv}`,
      "",
    ].join("\n"),
  );
  let child: ChildProcess | null = null;
  let output = "";

  const sshd: TestSshd = {
    host: "127.0.0.1",
    port,
    username: "root",
    clientKeyPath,
    binDir,
    dir,
    fingerprint: () =>
      execFileSync("ssh-keygen", ["-lf", `${hostKey}.pub`])
        .toString()
        .split(" ")[1] as string,
    log: () => output,
    async start() {
      const from = output.length;
      child = spawn(SSHD, ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
      if (options.ioThrottle && child.pid !== undefined) options.ioThrottle.add(child.pid);
      child.stderr?.on("data", (d: Buffer) => {
        output += d.toString();
      });
      // Ready when the port accepts connections.
      for (let i = 0; i < 100; i++) {
        if (/Server listening on/.test(output.slice(from))) return;
        if (child.exitCode !== null) throw new Error(`sshd exited: ${output}`);
        await sleep(50);
      }
      throw new Error(`sshd did not start: ${output}`);
    },
    async stop() {
      const running = child;
      child = null;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      // Its per-connection children first, so open connections drop as when a host goes down.
      try {
        execFileSync("pkill", ["-KILL", "-P", String(running.pid)]);
      } catch {
        // no open connections
      }
      running.kill("SIGKILL");
      await exited;
    },
    async regenerateHostKey() {
      await sshd.stop();
      keygen(hostKey);
      await sshd.start();
    },
    async stopListener() {
      const running = child;
      child = null;
      if (running && running.exitCode === null) {
        const exited = new Promise((resolve) => running.once("exit", resolve));
        running.kill("SIGTERM"); // the listener; each connection has its own sshd process
        await exited;
      }
    },
    async replaceHostKeyKeepingConnections() {
      await sshd.stopListener();
      keygen(hostKey);
      await sshd.start();
    },
  };
  await sshd.start();
  return sshd;
}
