// One Transport per host, kept while the host's connection settings stay the same (so an SSH
// host keeps one connection for all its channels).
import type { Host } from "../db/generated/sqlite/client.js";
import { DemoTransport } from "../transport/demo.js";
import type { DemoPace } from "../transport/demo-drives.js";
import { LocalHost } from "../transport/local.js";
import { PosixHost } from "../transport/posix-host.js";
import { SshRunner } from "../transport/ssh.js";
import type { CommandTimeouts, Transport } from "../transport/types.js";
import { DEFAULT_SETTINGS, type Settings } from "./settings.js";
import { keysDirOf } from "./ssh-keys.js";

export type HostRecord = Pick<
  Host,
  | "id"
  | "transport"
  | "address"
  | "port"
  | "username"
  | "privateKeyPath"
  | "passphraseEnv"
  | "useAgent"
  | "useSudo"
  | "fingerprint"
  | "trusted"
>;

interface Entry {
  key: string;
  transport: Transport;
  ssh: SshRunner | null;
}

export class HostRegistry {
  private readonly entries = new Map<string, Entry>();
  /** From the sshMaxConnectionMinutes setting (applySettings); read by every SSH connection at use. */
  private sshMaxConnectionMs = DEFAULT_SETTINGS.sshMaxConnectionMinutes * 60_000;
  /** From the host*Seconds settings; read by every host's commands at use. */
  private timeouts: CommandTimeouts = timeoutsOf(DEFAULT_SETTINGS);
  private readonly currentTimeouts = () => this.timeouts;

  constructor(private readonly options: { dataDir: string; env?: NodeJS.ProcessEnv; demoPace?: DemoPace }) {}

  /** Where the private keys of SSH hosts must be (services/ssh-keys.ts). */
  get keysDir(): string {
    return keysDirOf(this.options.dataDir);
  }

  transportFor(host: HostRecord): Transport {
    const key = JSON.stringify([
      host.transport,
      host.address,
      host.port,
      host.username,
      host.privateKeyPath,
      host.passphraseEnv,
      host.useAgent,
      host.useSudo,
      host.trusted ? host.fingerprint : null,
    ]);
    const existing = this.entries.get(host.id);
    if (existing?.key === key) return existing.transport;
    if (existing) void existing.transport.close();
    const entry = this.create(host, key);
    this.entries.set(host.id, entry);
    return entry.transport;
  }

  /** Take up changed settings (at start and after every setSetting). */
  applySettings(settings: Pick<Settings, "sshMaxConnectionMinutes" | "hostListSeconds" | "hostSmartSeconds" | "hostControlSeconds">): void {
    this.sshMaxConnectionMs = settings.sshMaxConnectionMinutes * 60_000;
    this.timeouts = timeoutsOf(settings);
  }

  /** An operator asked: retry a failing SSH host now instead of after its backoff. */
  retryNow(hostId: string): void {
    this.entries.get(hostId)?.ssh?.resetBackoff();
  }

  async forget(hostId: string): Promise<void> {
    const entry = this.entries.get(hostId);
    this.entries.delete(hostId);
    await entry?.transport.close();
  }

  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((e) => e.transport.close()));
  }

  private create(host: HostRecord, key: string): Entry {
    switch (host.transport) {
      case "local":
        return { key, transport: new LocalHost({ kind: "local", sudo: host.useSudo, timeouts: this.currentTimeouts }), ssh: null };
      case "demo":
        return {
          key,
          transport: new DemoTransport(this.options.dataDir, Date.now, this.currentTimeouts, this.options.demoPace),
          ssh: null,
        };
      case "ssh": {
        const env = this.options.env ?? process.env;
        const ssh = new SshRunner({
          host: host.address ?? "",
          port: host.port,
          username: host.username ?? "root",
          privateKeyPath: host.privateKeyPath,
          passphrase: host.passphraseEnv ? (env[host.passphraseEnv] ?? null) : null,
          useAgent: host.useAgent,
          // Nothing runs on a host whose key the operator has not trusted.
          pinnedFingerprint: host.trusted ? host.fingerprint : null,
          maxConnectionAgeMs: () => this.sshMaxConnectionMs,
        });
        return { key, transport: new PosixHost(ssh, { kind: "ssh", sudo: host.useSudo, timeouts: this.currentTimeouts }), ssh };
      }
      default:
        throw new Error(`host ${host.id} has an unknown transport "${host.transport}"`);
    }
  }
}

function timeoutsOf(settings: Pick<Settings, "hostListSeconds" | "hostSmartSeconds" | "hostControlSeconds">): CommandTimeouts {
  return {
    listMs: settings.hostListSeconds * 1000,
    smartMs: settings.hostSmartSeconds * 1000,
    controlMs: settings.hostControlSeconds * 1000,
  };
}
