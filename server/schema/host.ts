import { builder } from "./builder.js";

builder.prismaObject("Host", {
  description: "A machine that holds drives: this one (local), one reached over SSH, or the demo host.",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    transport: t.exposeString("transport", { description: "local | ssh | demo" }),
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
    status: t.exposeString("status", { description: "unknown | ok | untrusted | unreachable | key_mismatch" }),
    statusReason: t.exposeString("statusReason", { nullable: true }),
    lastSeenAt: t.expose("lastSeenAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    drives: t.relation("drives", { query: { orderBy: [{ devicePath: "asc" }, { serial: "asc" }] } }),
  }),
});

builder.queryField("hosts", (t) =>
  t.prismaField({
    type: ["Host"],
    description: "Every host, by name.",
    resolve: (query, _root, _args, ctx) => ctx.db.host.findMany({ ...query, orderBy: { name: "asc" } }),
  }),
);
