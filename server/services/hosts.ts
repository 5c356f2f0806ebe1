// Adding, changing, trusting and removing hosts. Validation happens here, at the edge of the
// domain, and every change is audited.
import { access, constants } from "node:fs/promises";
import { z } from "zod";
import type { Db } from "../db/client.js";
import type { Host } from "../db/generated/sqlite/client.js";
import { HostBusyError, HostKeyUntrustedError, NotFoundError, ValidationError } from "../errors.js";
import { audit } from "./audit.js";
import { type InventoryDeps, refreshInventory } from "./inventory.js";
import { resolveKeyPath } from "./ssh-keys.js";

export type HostDeps = InventoryDeps;

const hostName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "use letters, digits, '.', '_' and '-'");
// A DNS name or an IPv4/IPv6 address: nothing a shell or ssh option parser could misread.
const address = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(253)
  .regex(
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[?[0-9A-Fa-f:.]+\]?)$/,
    "is not a host name or IP address",
  );
const username = z
  .string()
  .trim()
  .regex(/^[a-z_][a-z0-9_.-]*\$?$/i, "is not a valid user name")
  .max(32);
// Only KILN_* variables: a host's key passphrase must not be a way to read any secret of the
// Kiln process's environment (DATABASE_URL, a cloud token) into an SSH handshake.
const envName = z.string().regex(/^KILN_[A-Z0-9_]+$/, "must name a KILN_* environment variable (e.g. KILN_NAS_KEY_PASSPHRASE)");

const hostInput = z.object({
  name: hostName,
  transport: z.enum(["local", "ssh"], { message: 'must be "local" or "ssh" (the demo host is made by kiln serve --demo)' }),
  address: address.nullish(),
  port: z.number().int().min(1, "must be 1-65535").max(65535, "must be 1-65535").nullish(),
  username: username.nullish(),
  privateKeyPath: z.string().trim().min(1).nullish(),
  passphraseEnv: envName.nullish(),
  useAgent: z.boolean().nullish(),
  useSudo: z.boolean().nullish(),
});

/** Raw input from the API; validated here. */
export type HostInput = Record<string, unknown>;

function validate<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ValidationError(issue?.path.join(".") || "input", issue?.message ?? "is invalid");
}

async function checkSshSettings(input: z.output<typeof hostInput>, keysDir: string): Promise<void> {
  if (input.transport !== "ssh") return;
  if (!input.address) throw new ValidationError("address", "is required for an SSH host");
  if (!input.privateKeyPath && !input.useAgent) throw new ValidationError("privateKeyPath", "give a private key file, or set useAgent");
  if (input.privateKeyPath) {
    input.privateKeyPath = await resolveKeyPath(keysDir, input.privateKeyPath);
    await access(input.privateKeyPath, constants.R_OK).catch(() => {
      throw new ValidationError("privateKeyPath", `${input.privateKeyPath} does not exist or Kiln cannot read it`);
    });
  }
}

async function hostOrThrow(db: Db, id: string): Promise<Host> {
  const host = await db.host.findUnique({ where: { id } });
  if (!host) throw new NotFoundError("host", id);
  return host;
}

async function assertNameFree(db: Db, name: string, exceptId?: string): Promise<void> {
  const other = await db.host.findUnique({ where: { name } });
  if (other && other.id !== exceptId) throw new ValidationError("name", `a host named "${name}" already exists`);
}

/**
 * Add a host. An SSH host is contacted once to learn its key: the key is recorded as untrusted
 * and nothing runs there until the operator trusts it.
 */
export async function addHost(deps: HostDeps, raw: HostInput, actor: string): Promise<Host> {
  const input = validate(hostInput, raw);
  await checkSshSettings(input, deps.registry.keysDir);
  await assertNameFree(deps.db, input.name);
  const host = await deps.db.$transaction(async (tx) => {
    const created = await tx.host.create({
      data: {
        name: input.name,
        transport: input.transport,
        address: input.transport === "ssh" ? input.address : null,
        port: input.port ?? 22,
        username: input.transport === "ssh" ? (input.username ?? "root") : null,
        privateKeyPath: input.privateKeyPath ?? null,
        passphraseEnv: input.passphraseEnv ?? null,
        useAgent: input.useAgent ?? false,
        useSudo: input.useSudo ?? false,
        // The local host needs no key; SSH hosts are trusted only by the operator.
        trusted: input.transport === "local",
        status: input.transport === "ssh" ? "untrusted" : "unknown",
      },
    });
    await audit(tx, {
      actor,
      action: "host.add",
      subjectType: "host",
      subjectId: created.id,
      details: { name: created.name, transport: created.transport },
    });
    return created;
  });
  await firstContact(deps, host);
  deps.pubsub.publish("hosts", { hostId: host.id, removed: false });
  return hostOrThrow(deps.db, host.id);
}

/** Inventory right away: for SSH hosts this records the host key; errors stay on the host's status. */
async function firstContact(deps: HostDeps, host: Host): Promise<void> {
  try {
    await refreshInventory(deps, host.id, { operator: true });
  } catch {
    // The failure is recorded on the host (status, reason, fingerprint); addHost still succeeds.
  }
}

export async function updateHost(deps: HostDeps, id: string, raw: HostInput, actor: string): Promise<Host> {
  const host = await hostOrThrow(deps.db, id);
  if (host.transport === "demo") throw new ValidationError("id", "the demo host cannot be changed");
  const merged = validate(hostInput, {
    name: host.name,
    transport: host.transport,
    address: host.address,
    port: host.port,
    username: host.username,
    privateKeyPath: host.privateKeyPath,
    passphraseEnv: host.passphraseEnv,
    useAgent: host.useAgent,
    useSudo: host.useSudo,
    ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  });
  await checkSshSettings(merged, deps.registry.keysDir);
  await assertNameFree(deps.db, merged.name, id);
  // A new address means a new machine: its key must be seen and trusted again.
  const moved = merged.address !== host.address || (merged.port ?? 22) !== host.port;
  const updated = await deps.db.$transaction(async (tx) => {
    const changed = await tx.host.update({
      where: { id },
      data: {
        name: merged.name,
        transport: merged.transport,
        address: merged.address ?? null,
        port: merged.port ?? 22,
        username: merged.username ?? null,
        privateKeyPath: merged.privateKeyPath ?? null,
        passphraseEnv: merged.passphraseEnv ?? null,
        useAgent: merged.useAgent ?? false,
        useSudo: merged.useSudo ?? false,
        ...(moved && merged.transport === "ssh"
          ? { trusted: false, fingerprint: null, offeredFingerprint: null, status: "untrusted" }
          : {}),
      },
    });
    await audit(tx, { actor, action: "host.update", subjectType: "host", subjectId: id, details: { changed: Object.keys(raw), moved } });
    return changed;
  });
  await deps.registry.forget(id);
  if (moved) await firstContact(deps, updated);
  deps.pubsub.publish("hosts", { hostId: id, removed: false });
  return hostOrThrow(deps.db, id);
}

export async function removeHost(deps: HostDeps, id: string, actor: string): Promise<Host> {
  const host = await hostOrThrow(deps.db, id);
  const active = await deps.db.burnInJob.count({ where: { drive: { hostId: id }, status: { in: ["queued", "running"] } } });
  if (active > 0) throw new HostBusyError(id, active);
  await deps.db.$transaction(async (tx) => {
    await tx.host.delete({ where: { id } });
    await audit(tx, { actor, action: "host.remove", subjectType: "host", subjectId: id, details: { name: host.name } });
  });
  await deps.registry.forget(id);
  deps.pubsub.publish("hosts", { hostId: id, removed: true });
  return host;
}

/**
 * Trust a host key. The fingerprint must be the one Kiln saw (first contact, or the different key
 * a host offered later): the operator confirms what they checked, they cannot type in another.
 */
export async function trustHostKey(deps: HostDeps, id: string, fingerprint: string, actor: string): Promise<Host> {
  const host = await hostOrThrow(deps.db, id);
  if (host.transport !== "ssh") throw new ValidationError("hostId", "only SSH hosts have host keys");
  const wanted = fingerprint.trim();
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(wanted))
    throw new ValidationError("fingerprint", 'must look like "SHA256:" followed by 43 base64 characters');
  const seen = [host.offeredFingerprint, host.trusted ? null : host.fingerprint].filter((f): f is string => Boolean(f));
  if (seen.length === 0) {
    if (host.trusted && host.fingerprint === wanted) return host;
    throw new HostKeyUntrustedError(id, null);
  }
  if (!seen.includes(wanted)) {
    throw new ValidationError("fingerprint", `does not match the key the host presented (${seen.join(" or ")})`);
  }
  await deps.db.$transaction(async (tx) => {
    await tx.host.update({
      where: { id },
      data: { fingerprint: wanted, trusted: true, offeredFingerprint: null, status: "unknown", statusReason: null },
    });
    await audit(tx, {
      actor,
      action: "host.trust_key",
      subjectType: "host",
      subjectId: id,
      details: { fingerprint: wanted, previous: host.trusted ? host.fingerprint : null },
    });
  });
  await deps.registry.forget(id);
  deps.pubsub.publish("hosts", { hostId: id, removed: false });
  return hostOrThrow(deps.db, id);
}
