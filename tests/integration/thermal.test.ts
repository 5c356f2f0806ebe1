// Thermal protection on the demo host (real badblocks on a file): a drive whose temperature is
// driven over the threshold is paused for heat after two readings and continued once it cools;
// the job's report lists the pause.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { readDemoState, writeDemoState } from "../../server/transport/demo-drives.js";
import { ended, setSettings, startJob, waitForJob, waitsBudget } from "../helpers/burn-in-host.js";
import { gql } from "../helpers/graphql.js";
import { removeTempDirs, tempDir } from "../helpers/temp-db.js";
import { processState, until } from "../helpers/wait.js";

describe("thermal protection on the demo host", () => {
  let kiln: RunningKiln;
  const dataDir = tempDir("kiln-heat-");

  beforeAll(async () => {
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", dataDir, "--demo"], { KILN_INVENTORY_INTERVAL: "0", KILN_AUTH: "off" }),
      () => {},
    );
    await setSettings(kiln.url, { pollSeconds: 0.5, temperaturePollSeconds: 1, thermalPauseAtC: 50, thermalResumeAtC: 40 });
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it(
    "pauses a hot drive's scan after two hot readings and continues it once the drive has cooled",
    async () => {
      const refused = await gql<{ setSetting: { __typename: string; message?: string } }>(
        kiln.url,
        'mutation { setSetting(key: "thermalResumeAtC", value: "50") { __typename ... on Error { message } } }',
      );
      expect(refused.data?.setSetting.message).toBe("value: thermalResumeAtC: resume (50 °C) must be below pause (50 °C)");
      const drive = await kiln.database.db.drive.findFirstOrThrow({ orderBy: { serial: "asc" } });
      const heat = async (celsius: number | undefined) => {
        const state = await readDemoState(dataDir, drive.serial);
        await writeDemoState(dataDir, drive.serial, { ...state, heatC: celsius });
      };
      const started = await startJob(kiln.url, [drive.id], "full", { readDelayFactor: 30 });
      const jobId = started.data?.[0]?.id as string;
      await waitForJob(kiln.url, jobId, (j) => (j.stages[2]?.surfaceScan?.phase ?? 0) >= 1);
      await heat(55);
      const db = kiln.database.db;
      const paused = await until("a pause for heat", async () => {
        const s = await db.stage.findFirstOrThrow({ where: { jobId, name: "surface_validate" } });
        return s.pauseReason === "heat" && s;
      });
      expect(processState(paused.remotePid as number)).toBe("T");
      await heat(35);
      await until(
        "the scan to continue",
        async () => (await db.stage.findFirstOrThrow({ where: { jobId, name: "surface_validate" } })).pausedAt === null,
      );
      await heat(undefined);
      const job = await waitForJob(kiln.url, jobId, ended, 240_000);
      expect(job.status).toBe("passed");
      expect(job.stages[2]?.log).toMatch(
        /\[PAUSED\] for heat: 5\d °C \(pause at 50 °C, continue at 40 °C\)[\s\S]*\[CONTINUED\] by thermal protection at 3\d °C/,
      );
      const report = (await (await fetch(`${kiln.url}/reports/${jobId}.json`)).json()) as {
        report: { stages: Array<{ name: string; pauses: Array<{ reason: string; temperatureC: number; continuedAt: string }> }> };
      };
      const scan = report.report.stages.find((s) => s.name === "surface_validate");
      expect(scan?.pauses).toEqual([expect.objectContaining({ reason: "heat", temperatureC: 55, continuedAt: expect.any(String) })]);
    },
    waitsBudget(3),
  );
});
