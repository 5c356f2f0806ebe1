// The scope each root field needs: read (look), operate (run burn-ins), admin (hosts, keys,
// unlocks, settings, tokens, users, the audit log). A root field missing here needs admin: a new
// mutation is closed until someone decides who may call it (a test checks that every one is listed).
import type { Scope } from "./viewer.js";

export const ROOT_FIELD_SCOPES: Record<"Query" | "Mutation" | "Subscription", Record<string, Scope>> = {
  Query: {
    hosts: "read",
    drives: "read",
    drive: "read",
    jobs: "read",
    job: "read",
    settings: "read",
    me: "read",
    apiTokens: "read",
    users: "admin",
    auditEvents: "admin",
    verifyReport: "read",
    notificationChannels: "admin",
    notificationEvents: "read",
  },
  Mutation: {
    startBurnIn: "operate",
    cancelBurnIn: "operate",
    pauseBurnIn: "operate",
    continueBurnIn: "operate",
    resumeBurnIn: "operate",
    refreshInventory: "operate",
    addHost: "admin",
    uploadSshKey: "admin",
    updateHost: "admin",
    removeHost: "admin",
    trustHostKey: "admin",
    grantUnlock: "admin",
    revokeUnlock: "admin",
    setSetting: "admin",
    updateSettings: "admin",
    createApiToken: "read",
    revokeApiToken: "read",
    createUser: "admin",
    updateUser: "admin",
    changePassword: "read",
    signOutEverywhere: "read",
    addNotificationChannel: "admin",
    updateNotificationChannel: "admin",
    removeNotificationChannel: "admin",
    testNotificationChannel: "admin",
  },
  Subscription: {
    jobProgress: "read",
    jobUpdates: "read",
    driveUpdated: "read",
    hostUpdated: "read",
  },
};

export function scopeFor(root: "Query" | "Mutation" | "Subscription", field: string): Scope {
  if (field.startsWith("__")) return "read"; // __typename, introspection
  return ROOT_FIELD_SCOPES[root][field] ?? "admin";
}
