import type { Host } from "../db/generated/sqlite/client.js";
import {
  HostBusyError,
  HostKeyMismatchError,
  HostKeyUntrustedError,
  HostUnreachableError,
  NotFoundError,
  ValidationError,
} from "../errors.js";
import type { InventoryProgress } from "../events/pubsub.js";
import { addHost, removeHost, trustHostKey, updateHost } from "../services/hosts.js";
import { uploadSshKey } from "../services/ssh-keys.js";
import { builder } from "./builder.js";
import { HOST_STATUSES, HOST_TRANSPORTS, HostStatusRef, HostTransportRef, oneOf } from "./enums.js";
import { boundedFirst, parseStoredJson } from "./field-helpers.js";

export const InventoryProgressRef = builder.objectRef<InventoryProgress>("InventoryProgress").implement({
  description: "An inventory of a host: where it is, and at its end what it found or why it failed.",
  fields: (t) => ({
    running: t.exposeBoolean("running"),
    startedAt: t.field({ type: "DateTime", resolve: (p) => new Date(p.startedAt) }),
    step: t.exposeString("step", { description: 'What it does now ("SMART of /dev/sdc (3 of 12)"), "done" or "failed".' }),
    done: t.exposeInt("done", { description: "Steps done (listing disks, pools, links, data at rest, then one per disk)." }),
    total: t.exposeInt("total"),
    found: t.exposeInt("found", { nullable: true, description: "At the end: drives seen." }),
    missing: t.exposeInt("missing", { nullable: true, description: "At the end: drives newly marked missing." }),
    error: t.exposeString("error", { nullable: true, description: "At the end: why it failed (the host's status says it too)." }),
  }),
});

export const HostRef = builder.prismaObject("Host", {
  // Select mode: a query loads only the columns its fields ask for (a stage's log stays on disk
  // unless someone asks for it).
  select: { id: true },
  description: "A machine that holds drives: this one (local), one reached over SSH, or the demo host.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    transport: t.field({
      type: HostTransportRef,
      select: { transport: true },
      resolve: (h) => oneOf(HOST_TRANSPORTS, h.transport, "transport"),
    }),
    address: t.exposeString("address", { nullable: true }),
    port: t.exposeInt("port"),
    username: t.exposeString("username", { nullable: true }),
    useSudo: t.exposeBoolean("useSudo"),
    fingerprint: t.exposeString("fingerprint", {
      nullable: true,
      description: "SHA256 fingerprint of the pinned host key (or of the first key seen, until trusted).",
    }),
    trusted: t.exposeBoolean("trusted"),
    offeredFingerprint: t.exposeString("offeredFingerprint", {
      nullable: true,
      description: "A different key the host presented after pinning; refused until the operator trusts it.",
    }),
    status: t.field({ type: HostStatusRef, select: { status: true }, resolve: (h) => oneOf(HOST_STATUSES, h.status, "host status") }),
    statusReason: t.exposeString("statusReason", { nullable: true, description: "Why the host is not ok; null when it is." }),
    skippedDevices: t.stringList({
      description: "Disks the last inventory saw but did not list, each with the reason.",
      select: { skippedDevices: true },
      resolve: (host) => {
        const list = parseStoredJson<unknown>(host.skippedDevices);
        return Array.isArray(list) ? list.map(String) : [];
      },
    }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime", nullable: true }),
    inventory: t.field({
      type: InventoryProgressRef,
      nullable: true,
      description: "The inventory running now on the Kiln instance that answers (others push theirs through hostUpdated).",
      select: { id: true },
      resolve: (host, _args, ctx) => ctx.inventory.current(host.id),
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    drives: t.relation("drives", {
      description: "The host's drives by device path (at most `first`, 1-1000).",
      args: { first: t.arg.int({ required: false, defaultValue: 500 }) },
      // Priced as the usual host (tens of drives), not the bound: a dashboard lists them all.
      complexity: { field: 1, multiplier: 10 },
      query: (args) => ({ orderBy: [{ devicePath: "asc" }, { serial: "asc" }], take: boundedFirst(args.first, 500, 1000) }),
    }),
  }),
});

builder.queryField("hosts", (t) =>
  t.prismaField({
    type: ["Host"],
    description: "Every host, by name.",
    resolve: (query, _root, _args, ctx) => ctx.db.host.findMany({ ...query, orderBy: { name: "asc" } }),
  }),
);

const HostInputRef = builder.inputType("HostInput", {
  description: "Connection settings of a host. For SSH: address, user and a key file or the agent.",
  fields: (t) => ({
    name: t.string({ required: true }),
    transport: t.string({ required: true, description: "local | ssh" }),
    address: t.string({ required: false }),
    port: t.int({ required: false, description: "Default 22." }),
    username: t.string({ required: false, description: "Default root. With a non-root user set useSudo." }),
    privateKeyPath: t.string({ required: false, description: "Absolute path of a private key file on the Kiln machine." }),
    passphraseEnv: t.string({ required: false, description: "Environment variable of the Kiln process holding the key's passphrase." }),
    useAgent: t.boolean({ required: false, description: "Authenticate through the SSH agent at $SSH_AUTH_SOCK." }),
    useSudo: t.boolean({ required: false, description: "Run commands through `sudo -n` (e.g. TrueNAS SCALE's admin user)." }),
  }),
});

const HostUpdateRef = builder.inputType("HostUpdate", {
  description: "Fields to change; omitted fields keep their value. A new address or port needs the key trusted again.",
  fields: (t) => ({
    name: t.string({ required: false }),
    address: t.string({ required: false }),
    port: t.int({ required: false }),
    username: t.string({ required: false }),
    privateKeyPath: t.string({ required: false }),
    passphraseEnv: t.string({ required: false }),
    useAgent: t.boolean({ required: false }),
    useSudo: t.boolean({ required: false }),
  }),
});

interface InventoryAnswer {
  host: Host;
  progress: InventoryProgress;
  joined: boolean;
  outcome: { found: number; missing: number; skipped: string[] } | null;
}

const InventoryResultRef = builder.objectRef<InventoryAnswer>("Inventory").implement({
  description: "An inventory started (or joined), or with wait: true its outcome.",
  fields: (t) => ({
    host: t.field({ type: HostRef, resolve: (r) => r.host }),
    progress: t.field({ type: InventoryProgressRef, resolve: (r) => r.progress }),
    joined: t.exposeBoolean("joined", { description: "One was running already: this request joined it." }),
    found: t.int({ nullable: true, description: "With wait: drives seen now.", resolve: (r) => r.outcome?.found ?? null }),
    missing: t.int({ nullable: true, description: "With wait: drives newly marked missing.", resolve: (r) => r.outcome?.missing ?? null }),
    skipped: t.stringList({
      nullable: true,
      description: "With wait: disks seen but not inventoried, with the reason.",
      resolve: (r) => r.outcome?.skipped ?? null,
    }),
  }),
});

const nullsToUndefined = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v ?? undefined])) as { [K in keyof T]: Exclude<T[K], null> };

const SshKeyRef = builder.objectRef<{ name: string; path: string }>("SshKey").implement({
  fields: (t) => ({ name: t.exposeString("name"), path: t.exposeString("path") }),
});

builder.mutationField("uploadSshKey", (t) =>
  t.field({
    type: SshKeyRef,
    description: "Store a private key (PEM or OpenSSH) in Kiln's keys directory (0600) for hosts to use by its name.",
    args: { name: t.arg.string({ required: true }), privateKey: t.arg.string({ required: true }) },
    errors: { types: [ValidationError] },
    resolve: (_root, args, ctx) => uploadSshKey(ctx.db, ctx.registry.keysDir, args, ctx.actor),
  }),
);

builder.mutationField("addHost", (t) =>
  t.field({
    type: HostRef,
    description: "Add a host. An SSH host is contacted once to read its key, which stays untrusted until trustHostKey.",
    args: { input: t.arg({ type: HostInputRef, required: true }) },
    errors: { types: [ValidationError] },
    resolve: (_root, { input }, ctx) => addHost(ctx, nullsToUndefined(input), ctx.actor),
  }),
);

builder.mutationField("updateHost", (t) =>
  t.field({
    type: HostRef,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: HostUpdateRef, required: true }) },
    errors: { types: [ValidationError, NotFoundError] },
    resolve: (_root, { id, input }, ctx) => updateHost(ctx, String(id), nullsToUndefined(input), ctx.actor),
  }),
);

builder.mutationField("removeHost", (t) =>
  t.field({
    type: HostRef,
    description: "Remove a host and forget its drives' history. Refused while burn-ins are queued or running there.",
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError, HostBusyError] },
    resolve: (_root, { id }, ctx) => removeHost(ctx, String(id), ctx.actor),
  }),
);

builder.mutationField("trustHostKey", (t) =>
  t.field({
    type: HostRef,
    description:
      "Trust the host key Kiln was shown (compare it with the host's own first). Pins it for later connections, and reads the host's drives at once in the background (steps through hostUpdated).",
    args: { hostId: t.arg.id({ required: true }), fingerprint: t.arg.string({ required: true }) },
    errors: { types: [ValidationError, NotFoundError, HostKeyUntrustedError] },
    resolve: async (_root, { hostId, fingerprint }, ctx) => {
      const host = await trustHostKey(ctx, String(hostId), fingerprint, ctx.actor);
      // A host just trusted has never been read: its drives are read at once, in the background,
      // with its steps through hostUpdated (the screen showed "unknown · 0 drives" until Refresh).
      ctx.inventory.start(host.id, { operator: true }).done.catch(() => {});
      return host;
    },
  }),
);

builder.mutationField("refreshInventory", (t) =>
  t.field({
    type: InventoryResultRef,
    description:
      "Read the host's drives (lsblk, zpool, wipefs/partx, smartctl). Returns at once with the inventory running; its steps and end come through hostUpdated. wait: true answers with the outcome (or the host's typed error) instead.",
    args: { hostId: t.arg.id({ required: true }), wait: t.arg.boolean({ required: false, defaultValue: false }) },
    errors: { types: [NotFoundError, HostUnreachableError, HostKeyUntrustedError, HostKeyMismatchError] },
    resolve: async (_root, { hostId, wait }, ctx) => {
      const id = String(hostId);
      if (!(await ctx.db.host.findUnique({ where: { id }, select: { id: true } }))) throw new NotFoundError("host", id);
      const run = ctx.inventory.start(id, { operator: true });
      // Not waited for: its failure is written on the host and told through hostUpdated.
      if (!wait) run.done.catch(() => {});
      const outcome = wait ? await run.done : null;
      const host = await ctx.db.host.findUniqueOrThrow({ where: { id } });
      return { host, progress: { ...run.progress }, joined: run.joined, outcome };
    },
  }),
);
