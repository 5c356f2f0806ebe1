// 24 simulated drives updating 10 times a second for 60 s, with the API read all along, on the
// default SQLite file; Kiln is killed with SIGKILL half-way and started again.
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../server/db/client.js";
import { setSetting } from "../../server/services/settings.js";
import { gql } from "../helpers/graphql.js";
import { runKiln, type ServingKiln, serveKiln } from "../helpers/kiln-process.js";
import { removeTempDirs, tempDir } from "../helpers/temp-db.js";

const DRIVES = 24;
const SECONDS = 60;
const HZ = 10;

describe("write load on SQLite", () => {
  const dataDir = tempDir("kiln-load-");
  const outputs: string[] = [];
  let kiln: ServingKiln | null = null;
  afterAll(() => {
    kiln?.child.kill("SIGKILL");
    removeTempDirs();
  });

  it(`keeps ${DRIVES} drives at ${HZ} Hz free of SQLITE_BUSY, and loses no job to kill -9`, async () => {
    expect((await runKiln(["migrate", "--data", dataDir])).code).toBe(0);
    const seeded = await openDatabase({ url: `file:${path.join(dataDir, "kiln.db")}` });
    const host = await seeded.db.host.create({ data: { name: "rack", transport: "local", trusted: true, status: "ok" } });
    const driveIds: string[] = [];
    for (let i = 0; i < DRIVES; i++) {
      const d = await seeded.db.drive.create({
        data: {
          hostId: host.id,
          serial: `SIM${String(i).padStart(4, "0")}`,
          devicePath: `/dev/sd${String.fromCharCode(97 + (i % 26))}`,
          sizeBytes: 4n << 40n,
        },
      });
      driveIds.push(d.id);
    }
    await setSetting(seeded.db, "maxConcurrentJobs", 64, "test");
    await setSetting(seeded.db, "maxJobsPerHost", 64, "test");
    await seeded.close();

    kiln = await serveKiln(["--port", "0", "--data", dataDir], { KILN_INVENTORY_INTERVAL: "0", KILN_AUTH: "off" });
    const started = await gql<{ startBurnIn: { __typename: string; data: Array<{ id: string }> } }>(
      kiln.url,
      "mutation($ids: [ID!]!, $o: BurnInOptions) { startBurnIn(driveIds: $ids, profile: simulate, options: $o) { __typename ... on StartBurnInSuccess { data { id } } } }",
      { ids: driveIds, o: { simulateSeconds: SECONDS, simulateHz: HZ } },
    );
    expect(started.data?.startBurnIn.__typename).toBe("StartBurnInSuccess");

    // The API is read all along, as a UI and integrations would.
    let reads = 0;
    const readErrors: string[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const url = kiln?.url;
        try {
          const r = await gql<{ jobs: { edges: unknown[] } }>(
            url as string,
            "{ jobs(first: 50) { edges { node { id status progressPct stages { status progressPct surfaceScan { phase phasePct } } } } } }",
          );
          if (r.errors) readErrors.push(JSON.stringify(r.errors));
          else reads += 1;
        } catch {
          // the process is down between the kill and the restart
        }
      }
    })();

    const average = async () => {
      const r = await gql<{ jobs: { edges: Array<{ node: { progressPct: number; status: string } }> } }>(
        kiln?.url as string,
        "{ jobs(first: 50) { edges { node { progressPct status } } } }",
      );
      const nodes = r.data?.jobs.edges.map((e) => e.node) ?? [];
      return { avg: nodes.reduce((s, n) => s + n.progressPct, 0) / Math.max(1, nodes.length), nodes };
    };
    // Half-way through, SIGKILL.
    for (;;) {
      const { avg } = await average();
      if (avg >= 50) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    kiln.child.kill("SIGKILL");
    await kiln.exited;
    outputs.push(kiln.output());

    const file = new Database(path.join(dataDir, "kiln.db"));
    expect(file.pragma("integrity_check", { simple: true })).toBe("ok");
    const rows = file.prepare("SELECT status, count(*) AS n FROM BurnInJob GROUP BY status").all();
    file.close();
    expect(rows).toEqual([{ status: "running", n: DRIVES }]);

    kiln = await serveKiln(["--port", "0", "--data", dataDir], { KILN_INVENTORY_INTERVAL: "0", KILN_AUTH: "off" });
    for (;;) {
      const { nodes } = await average();
      if (nodes.length === DRIVES && nodes.every((n) => n.status === "passed")) break;
      expect(nodes.filter((n) => n.status !== "running" && n.status !== "passed")).toEqual([]);
      await new Promise((r) => setTimeout(r, 500));
    }
    reading = false;
    await reader;
    kiln.child.kill("SIGTERM");
    await kiln.exited;
    outputs.push(kiln.output());

    expect(readErrors).toEqual([]);
    expect(reads).toBeGreaterThan(100);
    const all = outputs.join("\n");
    expect(all).not.toMatch(/SQLITE_BUSY|database is locked|timed out|Timed out/i);
    expect(all.match(/re-attaching to job/g)?.length).toBe(DRIVES);
  }, 240_000);
});
