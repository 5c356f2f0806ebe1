import { DEMO_DRIVES, ensureDemoDriveFiles } from "../transport/demo-drives.js";
import { audit } from "./audit.js";
import { type InventoryDeps, refreshInventory } from "./inventory.js";

export const DEMO_HOST_NAME = "demo";

export async function ensureDemoHost(deps: InventoryDeps, dataDir: string): Promise<string> {
  await ensureDemoDriveFiles(dataDir);
  let host = await deps.db.host.findFirst({ where: { transport: "demo" } });
  if (!host) host = await createDemoHost(deps);
  await refreshInventory(deps, host.id);
  return host.id;
}

/** The demo host's row; two instances starting at once on one database make it once. */
async function createDemoHost(deps: InventoryDeps) {
  try {
    return await deps.db.$transaction(async (tx) => {
      const created = await tx.host.create({
        data: { name: DEMO_HOST_NAME, transport: "demo", trusted: true, status: "unknown" },
      });
      await audit(tx, {
        actor: "kiln",
        action: "host.add",
        subjectType: "host",
        subjectId: created.id,
        details: { name: created.name, transport: "demo", drives: DEMO_DRIVES.length },
      });
      return created;
    });
  } catch (error) {
    if ((error as { code?: string }).code !== "P2002") throw error;
    return deps.db.host.findFirstOrThrow({ where: { transport: "demo" } });
  }
}
