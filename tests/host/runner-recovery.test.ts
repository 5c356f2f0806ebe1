// Kiln killed with SIGKILL in the middle of three surface scans over SSH, started again: the
// scans went on without it, Kiln re-attaches to each (no second badblocks), and a scan whose
// process vanished meanwhile turns unknown and can be resumed from its unfinished pattern.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ended, getJob, type ServedBurnInRig, startJob, startServedBurnInRig, waitForJob, waitsBudget } from "../helpers/burn-in-host.js";
import { gql } from "../helpers/graphql.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";
import { until } from "../helpers/wait.js";

const fixtures = smartctlFixtureDir();

function badblocksFor(device: string): number[] {
  try {
    return execFileSync("pgrep", ["-f", `^badblocks .*${device} `])
      .toString()
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

describe.runIf(fixtures !== null)("Kiln restarts during burn-ins", () => {
  let rig: ServedBurnInRig;
  const work = tempDir("kiln-recovery-");

  beforeAll(async () => {
    rig = await startServedBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 3,
      sizeBytes: 64 * MiB,
      pacedDisks: true,
      settings: { pollSeconds: 0.2, progressWriteSeconds: 1, remoteWorkDir: path.join(work, "runs") },
    });
  });
  afterAll(async () => {
    for (const loop of rig?.host.loops ?? []) for (const pid of badblocksFor(loop.device)) execFileSync("kill", ["-9", String(pid)]);
    await rig?.stop();
  });

  it(
    "re-attaches to 3 scans after kill -9; one whose process vanished meanwhile is unknown, and resumes from its pattern",
    async () => {
      const host = rig.host;
      const ids = host.loops.map((_, i) => rig.driveId(i));
      // 8 s a pass (64 s a scan) until Kiln has re-attached: time to kill it in the middle.
      host.pace(8 * MiB);
      const started = await startJob(rig.kiln.url, ids, "full");
      expect(started.__typename).toBe("StartBurnInSuccess");
      const jobIds = (started.data ?? []).map((j) => j.id);
      for (const id of jobIds) await waitForJob(rig.kiln.url, id, (j) => (j.stages[2]?.surfaceScan?.phase ?? 0) >= 2, 90_000);

      // What Kiln knew when it was killed.
      const before = await rig.withDatabase((db) => db.stage.findMany({ where: { jobId: { in: jobIds }, name: "surface_validate" } }));
      await rig.restart("SIGKILL", async () => {
        for (const s of before) expect(badblocksFor(host.loops[jobIds.indexOf(s.jobId)]?.device as string)).toEqual([s.remotePid]);
        // While Kiln is down, the third scan's process group is killed (as by a host reboot): no exit code.
        const victim = before.find((s) => s.jobId === jobIds[2]);
        // Stopped first, then at full speed (a process waiting on throttled I/O would die only once
        // that is done), then killed: unthrottled and running, the rest of a 64 MiB scan can end
        // before the kill on a loaded machine, and its wrapper writes exit 0.
        execFileSync("kill", ["-STOP", "--", `-${victim?.remotePgid}`]);
        host.pace(null, [host.loops[2]?.device as string]);
        execFileSync("kill", ["-KILL", "--", `-${victim?.remotePgid}`]);
        // kill returns once the signal is sent; the process is gone a moment later (in CI once it
        // was still listed when looked at at once).
        await until("the killed badblocks to be gone", () => badblocksFor(host.loops[2]?.device as string).length === 0, 30_000);
        expect(badblocksFor(host.loops[2]?.device as string)).toEqual([]);
        const exitPath = victim?.remoteExitPath as string;
        expect(existsSync(exitPath), existsSync(exitPath) ? `exit ${readFileSync(exitPath, "utf8")}` : "").toBe(false);
      });
      expect(rig.kiln.output()).toMatch(/re-attaching to job/);
      // Never a second badblocks for a drive while the first runs.
      for (const [i, s] of before.entries())
        expect(badblocksFor(host.loops[i]?.device as string).filter((p) => p !== s.remotePid)).toEqual([]);
      host.pace(null);

      for (const id of jobIds.slice(0, 2)) {
        const job = await waitForJob(rig.kiln.url, id, ended, 180_000);
        expect(job.status, JSON.stringify(job)).toBe("passed");
        const stage = before.find((s) => s.jobId === id);
        const scan = job.stages[2]?.surfaceScan;
        expect(scan?.history.map((h) => h.phase)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        // The phases seen before the kill keep their first timestamps.
        const earlier = JSON.parse(stage?.bbPhaseHistory as string) as Record<string, string>;
        for (const [phase, at] of Object.entries(earlier)) expect(scan?.history.find((h) => h.phase === Number(phase))?.startedAt).toBe(at);
        expect(job.stages[2]?.log).toContain(`re-attaching to badblocks pid ${stage?.remotePid}`);
        // One badblocks start; its run directory was removed once the log was read to the end.
        expect((job.stages[2]?.log.match(/started badblocks/g) ?? []).length).toBe(1);
        expect(existsSync(path.join(work, "runs", id))).toBe(false);
      }

      const lost = await waitForJob(rig.kiln.url, jobIds[2] as string, ended, 60_000);
      expect(lost.status, JSON.stringify(lost, null, 1)).toBe("unknown");
      expect(lost.errorText).toMatch(/gone and left no exit code/);
      expect(lost.stages[2]?.log).toContain("[INTERRUPTED]");
      const phaseAtLoss = lost.stages[2]?.surfaceScan?.phase as number;
      expect(phaseAtLoss).toBeGreaterThanOrEqual(2);

      const resumed = await gql<{ resumeBurnIn: { __typename: string; data?: { id: string; resumedFromId: string } } }>(
        rig.kiln.url,
        "mutation($id: ID!) { resumeBurnIn(jobId: $id) { __typename ... on ResumeBurnInSuccess { data { id resumedFromId } } ... on Error { message } } }",
        { id: jobIds[2] },
      );
      expect(resumed.data?.resumeBurnIn.__typename, JSON.stringify(resumed)).toBe("ResumeBurnInSuccess");
      const second = await waitForJob(rig.kiln.url, resumed.data?.resumeBurnIn.data?.id as string, ended, 180_000);
      expect(second.status, JSON.stringify(second)).toBe("passed");
      expect(second.resumedFromId).toBe(jobIds[2]);
      const pattern = ["0xaa", "0x55", "0xff", "0x00"][Math.ceil(phaseAtLoss / 2) - 1] as string;
      const rest = ["0xaa", "0x55", "0xff", "0x00"].slice(Math.ceil(phaseAtLoss / 2) - 1);
      const scanStage = second.stages.find((s) => s.name === "surface_validate");
      expect(scanStage?.log).toContain(rest.map((p) => `-t ${p}`).join(" "));
      const firstPhase = 2 * ["0xaa", "0x55", "0xff", "0x00"].indexOf(pattern) + 1;
      expect(scanStage?.surfaceScan?.history.map((h) => h.phase)).toEqual(Array.from({ length: 9 - firstPhase }, (_, i) => firstPhase + i));
      expect(second.stages.map((s) => s.name)).toEqual(["precheck", "surface_validate", "smart_long", "final_check"]);
      // The first part stays in history, linked to the second.
      const first = await getJob(rig.kiln.url, jobIds[2] as string);
      expect(first.status).toBe("unknown");
    },
    waitsBudget(8),
  );

  it(
    "stops on SIGTERM within 10 s and leaves a running scan running",
    async () => {
      rig.host.pace(8 * MiB);
      const started = await startJob(rig.kiln.url, [rig.driveId(0)], "full");
      const id = started.data?.[0]?.id as string;
      await waitForJob(rig.kiln.url, id, (j) => (j.stages[2]?.surfaceScan?.phase ?? 0) >= 2, 90_000);
      const t0 = Date.now();
      const { code } = await rig.restart("SIGTERM", () => {
        expect(Date.now() - t0).toBeLessThan(10_000);
        expect(badblocksFor(rig.host.loops[0]?.device as string)).toHaveLength(1);
      });
      expect(code).toBe(0);
      rig.host.pace(null);
      const job = await waitForJob(rig.kiln.url, id, ended, 180_000);
      expect(job.status).toBe("passed");
    },
    waitsBudget(3),
  );
});
