// What startBurnIn asks of the operator before it writes, on the demo host (real badblocks on
// files): a write scan on a drive that reports itself as an SSD (0 rpm, or NVMe) is refused
// naming confirmSsdWrite, nothing is queued, and it is queued once
// confirmed; the profiles that never write need no confirmation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { gql } from "../helpers/graphql.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

describe("start rules", () => {
  let kiln: RunningKiln;
  const start = (driveIds: string[], profile: string, confirmSsdWrite?: boolean) =>
    gql<{ startBurnIn: { __typename: string; field?: string; message?: string; data?: Array<{ id: string }> } }>(
      kiln.url,
      `mutation($d: [ID!]!, $p: Profile!, $c: Boolean) { startBurnIn(driveIds: $d, profile: $p, confirmSsdWrite: $c) { __typename
        ... on ValidationError { field message } ... on StartBurnInSuccess { data { id } } } }`,
      { d: driveIds, p: profile, c: confirmSsdWrite ?? null },
    ).then((r) => r.data?.startBurnIn);

  beforeAll(async () => {
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], { KILN_INVENTORY_INTERVAL: "0", KILN_AUTH: "off" }),
      () => {},
    );
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it("refuses a full scan on drives that report themselves as SSDs until confirmed", async () => {
    const [ssd, nvme, hdd] = await kiln.database.db.drive.findMany({ orderBy: { serial: "asc" }, take: 3 });
    await kiln.database.db.drive.update({ where: { id: ssd?.id }, data: { rotationRate: 0 } });
    await kiln.database.db.drive.update({ where: { id: nvme?.id }, data: { busType: "nvme", rotationRate: null } });
    await kiln.database.db.drive.update({ where: { id: hdd?.id }, data: { rotationRate: 7200 } });
    const ids = [ssd?.id, nvme?.id, hdd?.id] as string[];
    const refused = await start(ids, "full");
    expect(refused).toEqual({
      __typename: "ValidationError",
      field: "confirmSsdWrite",
      message: `confirmSsdWrite: ${ssd?.serial}, ${nvme?.serial} report themselves as SSDs: a full scan writes every block 4 times and wears the flash; use the ssd or nvme profile, or set confirmSsdWrite to write anyway`,
    });
    expect(await kiln.database.db.burnInJob.count()).toBe(0);
    // The hard drive alone, and the SSD with a profile that never writes: no question asked.
    expect((await start([hdd?.id as string], "full"))?.__typename).toBe("StartBurnInSuccess");
    expect((await start([ssd?.id as string], "ssd"))?.__typename).toBe("StartBurnInSuccess");
    // Confirmed: queued.
    const confirmed = await start([nvme?.id as string], "full", true);
    expect(confirmed?.__typename).toBe("StartBurnInSuccess");
    expect(await kiln.database.db.burnInJob.count()).toBe(3);
    const audit = await kiln.database.db.auditEvent.findMany({ where: { action: "job.start" } });
    expect(audit).toHaveLength(3);
  });
});
