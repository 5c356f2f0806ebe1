// Runs sh scripts on a host over SSH (ssh2). The only file that imports ssh2.
//
// One connection per host, reused for every channel, with keepalives; a dropped connection is
// re-made on the next use, with exponential backoff between failed attempts. The host key is
// pinned: an unpinned or different key ends the handshake before any credential is sent.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Client, ClientChannel, ConnectConfig } from "ssh2";
import { BoundedOutput } from "./bounded-output.js";
import { commandTimedOut, DEFAULT_COMMAND_TIMEOUTS, type ExecOptions, type ExecResult, type ShellRunner, TransportError } from "./types.js";

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKeyPath?: string | null;
  passphrase?: string | null;
  useAgent?: boolean;
  /** The trusted key's fingerprint; null until the operator trusts one (nothing runs before). */
  pinnedFingerprint: string | null;
  readyTimeoutMs?: number;
  /**
   * A connection older than this is replaced before its next command: the host key is checked at
   * every handshake only, so a changed key is noticed within this time even while Kiln stays
   * connected. Read at each use (a setting). Default one hour.
   */
  maxConnectionAgeMs?: () => number;
}

const DEFAULT_MAX_CONNECTION_AGE_MS = 60 * 60_000;

/** OpenSSH's SHA256 fingerprint of a host key blob, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

// OpenSSH allows 10 sessions per connection by default; stay under it.
const MAX_CHANNELS = 8;
const BACKOFF_MAX_MS = 30_000;

let channelsOpened = 0;

/** Exec channels opened by this process so far, on all hosts (the SSH runner bench reads it). */
export function sshChannelsOpened(): number {
  return channelsOpened;
}

export class SshRunner implements ShellRunner {
  private client: Client | null = null;
  private connectedAt = 0;
  /** Commands running per connection, so a replaced connection ends only once they are done. */
  private readonly running = new Map<Client, number>();
  private readonly retired = new Set<Client>();
  private connecting: Promise<Client> | null = null;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: TransportError | null = null;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** The fingerprint the host presented at the last handshake (trusted or not). */
  presentedFingerprint: string | null = null;

  constructor(private readonly target: SshTarget) {}

  /** Forget earlier failures: an operator asked for this, try now. */
  resetBackoff(): void {
    this.failures = 0;
    this.nextAttemptAt = 0;
  }

  async run(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    try {
      return await this.runOnce(script, options);
    } catch (error) {
      if (!(error instanceof ConnectionDropped)) throw error;
      // The pooled connection had dropped before its "close" arrived (a host restarting, sshd
      // killed): the command never started, so it is safe to run it on a new connection, whose
      // handshake then says what is wrong with the host (refused, unreachable, a new key).
      if (this.client === error.client) this.client = null;
      return this.runOnce(script, options);
    }
  }

  private async runOnce(script: string, options: ExecOptions): Promise<ExecResult> {
    const client = await this.connection();
    this.running.set(client, (this.running.get(client) ?? 0) + 1);
    try {
      await this.acquireChannel();
      try {
        return await this.execOn(client, script, options);
      } finally {
        this.releaseChannel();
      }
    } finally {
      this.doneWith(client);
    }
  }

  /** Stop using a connection: new commands get a new one (a new handshake, a new key check). */
  private retire(client: Client): void {
    if (this.client === client) this.client = null;
    if (this.running.get(client)) this.retired.add(client);
    else client.end();
  }

  private doneWith(client: Client): void {
    const left = (this.running.get(client) ?? 1) - 1;
    if (left > 0) {
      this.running.set(client, left);
      return;
    }
    this.running.delete(client);
    if (this.retired.delete(client)) client.end();
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    await new Promise<void>((resolve) => {
      client.once("close", () => resolve());
      client.end();
      setTimeout(resolve, 2_000).unref();
    });
  }

  private connection(): Promise<Client> {
    const maxAge = this.target.maxConnectionAgeMs?.() ?? DEFAULT_MAX_CONNECTION_AGE_MS;
    if (this.client && Date.now() - this.connectedAt > maxAge) this.retire(this.client);
    if (this.client) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    if (Date.now() < this.nextAttemptAt && this.lastError) return Promise.reject(this.lastError);
    this.connecting = this.connect().then(
      (client) => {
        this.connecting = null;
        this.failures = 0;
        this.lastError = null;
        this.client = client;
        this.connectedAt = Date.now();
        client.on("close", () => {
          closedClients.add(client);
          if (this.client === client) this.client = null;
        });
        return client;
      },
      (error: TransportError) => {
        this.connecting = null;
        this.failures += 1;
        this.lastError = error;
        this.nextAttemptAt = Date.now() + Math.min(BACKOFF_MAX_MS, 1000 * 2 ** (this.failures - 1));
        throw error;
      },
    );
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    const t = this.target;
    let rejection: TransportError | null = null;
    const config: ConnectConfig = {
      host: t.host,
      port: t.port,
      username: t.username,
      readyTimeout: t.readyTimeoutMs ?? 15_000,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      hostVerifier: (key: Buffer) => {
        const fingerprint = fingerprintOf(key);
        this.presentedFingerprint = fingerprint;
        if (!t.pinnedFingerprint) {
          rejection = new TransportError(
            "host_key_untrusted",
            `host key ${fingerprint} is not trusted yet: check it and trust it before Kiln runs anything there`,
            { fingerprint },
          );
          return false;
        }
        if (fingerprint !== t.pinnedFingerprint) {
          rejection = new TransportError(
            "host_key_changed",
            `host key changed: expected ${t.pinnedFingerprint}, the host offered ${fingerprint}; refused before authenticating`,
            { fingerprint, expectedFingerprint: t.pinnedFingerprint },
          );
          return false;
        }
        return true;
      },
    };
    if (t.privateKeyPath) {
      try {
        config.privateKey = await readFile(t.privateKeyPath);
      } catch (error) {
        throw new TransportError("auth_failed", `cannot read private key ${t.privateKeyPath}: ${(error as NodeJS.ErrnoException).code}`);
      }
      if (t.passphrase) config.passphrase = t.passphrase;
    }
    if (t.useAgent) {
      if (!process.env.SSH_AUTH_SOCK) throw new TransportError("auth_failed", "useAgent is set but SSH_AUTH_SOCK is not");
      config.agent = process.env.SSH_AUTH_SOCK;
    }
    if (!config.privateKey && !config.agent) throw new TransportError("auth_failed", "no private key or agent configured for this host");

    // ssh2 (and its crypto) loads with the first SSH host, not with every Kiln.
    const { Client } = await import("ssh2");
    return new Promise((resolve, reject) => {
      const client = new Client();
      let settled = false;
      client.once("ready", () => {
        settled = true;
        resolve(client);
      });
      client.on("error", (error: Error & { level?: string; code?: string }) => {
        if (settled) return; // a later error ends the connection; "close" clears it
        settled = true;
        client.end();
        reject(rejection ?? classify(error, t));
      });
      client.once("close", () => {
        if (settled) return;
        settled = true;
        reject(rejection ?? new TransportError("unreachable", `connection to ${t.host}:${t.port} closed during the handshake`));
      });
      try {
        client.connect(config);
      } catch (error) {
        settled = true;
        reject(new TransportError("auth_failed", `ssh: ${(error as Error).message}`));
      }
    });
  }

  private execOn(client: Client, script: string, options: ExecOptions): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const started = (error: Error | undefined, stream: ClientChannel) => {
        if (error) {
          // The connection closed while the channel was being opened ("No response from server",
          // after its "close"): the command never started, so it may run on a new connection.
          if (closedClients.has(client)) reject(new ConnectionDropped(client));
          else reject(new TransportError("failed", `ssh exec: ${error.message}`));
          return;
        }
        const output = new BoundedOutput(options);
        let code: number | null = null;
        let signal: string | null = null;
        let abandoned: TransportError | null = null;
        // Closing the channel ends the remote command too (SIGPIPE on its next write). The caller
        // is answered at once: a host that stopped answering may never confirm the close.
        const abandon = (reason: TransportError) => {
          if (abandoned) return;
          abandoned = reason;
          clearTimeout(timer);
          reject(reason);
          stream.close();
        };
        const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUTS.controlMs;
        const timer = setTimeout(() => abandon(commandTimedOut(timeoutMs)), timeoutMs);
        stream.on("data", (chunk: Buffer) => {
          if (!output.stdout(chunk)) abandon(output.tooLarge());
        });
        stream.stderr.on("data", (chunk: Buffer) => output.stderrChunk(chunk));
        stream.on("exit", (exitCode: number | null, exitSignal?: string) => {
          code = exitCode;
          signal = exitSignal ?? null;
        });
        stream.on("close", () => {
          clearTimeout(timer);
          if (!abandoned) resolve(output.result(code, signal));
        });
      };
      try {
        channelsOpened += 1;
        client.exec(script, started);
      } catch {
        // ssh2 throws "Not connected" when the socket is gone: nothing was sent.
        reject(new ConnectionDropped(client));
      }
    });
  }

  private acquireChannel(): Promise<void> {
    if (this.active < MAX_CHANNELS) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private releaseChannel(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}

/** Connections whose socket closed (ssh2 emits "close" before it fails their pending channel opens). */
const closedClients = new WeakSet<Client>();

/** A pooled connection found closed before a command could be sent on it. */
class ConnectionDropped extends Error {
  constructor(readonly client: Client) {
    super("the SSH connection dropped before the command was sent");
  }
}

function classify(error: Error & { level?: string; code?: string }, t: SshTarget): TransportError {
  const where = `${t.host}:${t.port}`;
  if (error.code === "ECONNREFUSED") return new TransportError("refused", `${where} refused the connection (is sshd running?)`);
  if (error.code === "EHOSTUNREACH" || error.code === "ENETUNREACH" || error.code === "ENOTFOUND" || error.code === "EAI_AGAIN") {
    return new TransportError("unreachable", `${where} cannot be reached (${error.code})`);
  }
  if (error.level === "client-timeout" || error.code === "ETIMEDOUT")
    return new TransportError("timeout", `${where} did not answer in time`);
  if (error.level === "client-authentication") {
    return new TransportError("auth_failed", `${t.username}@${where} refused Kiln's key (authentication failed)`);
  }
  if (/passphrase|private key|Cannot parse privateKey/i.test(error.message)) {
    return new TransportError("auth_failed", `private key: ${error.message}`);
  }
  return new TransportError("unreachable", `${where}: ${error.message}`);
}
