// `kiln serve --demo`: the demo host with 4 sparse-file drives, visible through GraphQL.
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { setSetting } from "../../server/services/settings.js";
import { waitsBudget } from "../helpers/burn-in-host.js";
import { gql } from "../helpers/graphql.js";
import { subscribe } from "../helpers/sse.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

describe("demo host", () => {
  let kiln: RunningKiln;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = migratedDataDir();
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", dataDir, "--demo"], { KILN_INVENTORY_INTERVAL: "0", KILN_AUTH: "off" }),
      () => {},
    );
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  type Drive = {
    serial: string;
    model: string;
    devicePath: string;
    sizeBytes: number;
    temperatureC: number;
    smartHealth: string;
    inUse: boolean;
    rotationRate: number;
  };

  it("registers the demo host on first start with 4 drives of 256 MiB, distinct serials and models", async () => {
    const { data, errors } = await gql<{ hosts: Array<{ name: string; transport: string; status: string; drives: Drive[] }> }>(
      kiln.url,
      "{ hosts { name transport status drives { serial model devicePath sizeBytes temperatureC smartHealth inUse rotationRate } } }",
    );
    expect(errors).toBeUndefined();
    expect(data?.hosts).toHaveLength(1);
    const host = data?.hosts[0];
    expect(host).toMatchObject({ name: "demo", transport: "demo", status: "ok" });
    const drives = host?.drives ?? [];
    expect(drives).toHaveLength(4);
    expect(new Set(drives.map((d) => d.serial)).size).toBe(4);
    expect(new Set(drives.map((d) => d.model)).size).toBeGreaterThanOrEqual(3);
    for (const d of drives) {
      expect(d).toMatchObject({ sizeBytes: 256 * MiB, smartHealth: "passed", inUse: false });
      expect(d.temperatureC).toBeGreaterThanOrEqual(20);
      expect(d.temperatureC).toBeLessThanOrEqual(45);
      expect(d.devicePath.startsWith(`${dataDir}/demo/drives/`)).toBe(true);
      // Sparse: the full size on paper, (almost) nothing on disk.
      const file = statSync(d.devicePath);
      expect(file.size).toBe(256 * MiB);
      expect(file.blocks * 512).toBeLessThan(MiB);
    }
    expect(drives.some((d) => d.rotationRate === 0)).toBe(true);
  });

  it("keeps one demo host across restarts", async () => {
    await kiln.stop();
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", dataDir, "--demo"], { KILN_INVENTORY_INTERVAL: "0", KILN_AUTH: "off" }),
      () => {},
    );
    const { data } = await gql<{ hosts: Array<{ drives: Drive[] }> }>(kiln.url, "{ hosts { drives { serial } } }");
    expect(data?.hosts).toHaveLength(1);
    expect(data?.hosts[0]?.drives).toHaveLength(4);
  });

  it("refuses to add a host with a clear error naming the field", async () => {
    const add = (input: Record<string, unknown>) =>
      gql<{ addHost: { __typename: string; field?: string; message?: string } }>(
        kiln.url,
        "mutation($input: HostInput!) { addHost(input: $input) { __typename ... on ValidationError { field message } } }",
        { input },
      ).then((r) => r.data?.addHost);
    expect(await add({ name: "nas", transport: "ssh", privateKeyPath: "/nonexistent" })).toMatchObject({ field: "address" });
    expect(await add({ name: "nas", transport: "ssh", address: "nas.lan; rm -rf /", privateKeyPath: "/x" })).toMatchObject({
      field: "address",
      message: "address: is not a host name or IP address",
    });
    // Only keys in Kiln's own keys directory: not any file on the machine.
    for (const elsewhere of ["/etc/shadow", "/root/.ssh/id_ed25519", "../../etc/shadow", "/nonexistent/key"]) {
      expect(await add({ name: "nas", transport: "ssh", address: "nas.lan", privateKeyPath: elsewhere }), elsewhere).toMatchObject({
        field: "privateKeyPath",
        message: `privateKeyPath: must be a key in ${path.join(dataDir, "keys")} (upload it with uploadSshKey, or put it there)`,
      });
    }
    // Keys are uploaded into that directory, 0600, never over another one, and only if they look like keys.
    const upload = (name: string, privateKey: string) =>
      gql<{ uploadSshKey: { __typename: string; field?: string } }>(
        kiln.url,
        "mutation($n: String!, $k: String!) { uploadSshKey(name: $n, privateKey: $k) { __typename ... on ValidationError { field } } }",
        { n: name, k: privateKey },
      ).then((r) => r.data?.uploadSshKey);
    const pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
    expect(await upload("nas-key", pem)).toEqual({ __typename: "UploadSshKeySuccess" });
    expect(statSync(path.join(dataDir, "keys", "nas-key")).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dataDir, "keys")).mode & 0o777).toBe(0o700);
    expect(await upload("nas-key", pem.replace("AAAA", "BBBB"))).toEqual({ __typename: "ValidationError", field: "name" });
    expect(readFileSync(path.join(dataDir, "keys", "nas-key"), "utf8")).toBe(pem);
    expect(await upload("../escape", pem)).toEqual({ __typename: "ValidationError", field: "name" });
    expect(await upload("other", "root:x:0:0:root:/root:/bin/bash")).toEqual({ __typename: "ValidationError", field: "privateKey" });
    expect(await add({ name: "nas", transport: "ssh", address: "nas.lan", privateKeyPath: "missing-key" })).toMatchObject({
      field: "privateKeyPath",
      message: `privateKeyPath: ${path.join(dataDir, "keys", "missing-key")} does not exist or Kiln cannot read it`,
    });
    expect(await add({ name: "demo", transport: "local" })).toMatchObject({
      field: "name",
      message: 'name: a host named "demo" already exists',
    });
    expect(await add({ name: "x", transport: "demo" })).toMatchObject({ field: "transport" });
    expect(await add({ name: "nas", transport: "ssh", address: "nas.lan", port: 70000, useAgent: true })).toMatchObject({ field: "port" });
    // A passphrase variable may not be any secret of Kiln's environment.
    expect(await add({ name: "nas", transport: "ssh", address: "nas.lan", useAgent: true, passphraseEnv: "DATABASE_URL" })).toMatchObject({
      field: "passphraseEnv",
      message: "passphraseEnv: must name a KILN_* environment variable (e.g. KILN_NAS_KEY_PASSPHRASE)",
    });
    expect(await kiln.database.db.host.count()).toBe(1);
  });

  it(
    "runs at most maxJobsPerHost jobs on a host at once and starts queued ones in order as slots free",
    async () => {
      await setSetting(kiln.database.db, "maxJobsPerHost", 2, "test");
      const { data } = await gql<{ drives: Array<{ id: string }> }>(kiln.url, "{ drives { id } }");
      const ids = (data?.drives ?? []).map((d) => d.id);
      const started = await gql<{ startBurnIn: { data: Array<{ id: string }> } }>(
        kiln.url,
        "mutation($ids: [ID!]!) { startBurnIn(driveIds: $ids, profile: simulate, options: { simulateSeconds: 2, simulateHz: 5 }) { ... on StartBurnInSuccess { data { id } } } }",
        { ids },
      );
      const jobIds = started.data?.startBurnIn.data.map((j) => j.id) ?? [];
      expect(jobIds).toHaveLength(4);
      let most = 0;
      // Watch every change of every job until all have ended.
      const events = subscribe<{ jobId: string; status: string }>(kiln.url, "subscription { jobUpdates { jobId status } }");
      try {
        for (;;) {
          const jobs = await kiln.database.db.burnInJob.findMany({ where: { id: { in: jobIds } }, orderBy: { createdAt: "asc" } });
          most = Math.max(most, jobs.filter((j) => j.status === "running").length);
          if (jobs.every((j) => j.status === "passed")) {
            const starts = jobs.map((j) => j.startedAt?.getTime() ?? 0);
            expect([...starts].sort((a, b) => a - b)).toEqual(starts);
            // The third job started only once one of the first two had finished.
            const firstEnd = Math.min(jobs[0]?.finishedAt?.getTime() ?? 0, jobs[1]?.finishedAt?.getTime() ?? 0);
            expect(starts[2]).toBeGreaterThanOrEqual(firstEnd);
            break;
          }
          await events.until(() => true, 10_000).catch(() => {});
          events.events.length = 0;
        }
      } finally {
        events.close();
        await setSetting(kiln.database.db, "maxJobsPerHost", 8, "test");
      }
      expect(most).toBe(2);
    },
    waitsBudget(1),
  );

  it(
    "burns in all 4 demo drives at once with the quick profile: Kiln's SMART answers carry their self-tests",
    async () => {
      const { data } = await gql<{ drives: Array<{ id: string }> }>(kiln.url, "{ drives { id } }");
      const started = await gql<{ startBurnIn: { data: Array<{ id: string }> } }>(
        kiln.url,
        "mutation($ids: [ID!]!) { startBurnIn(driveIds: $ids, profile: quick) { ... on StartBurnInSuccess { data { id } } } }",
        { ids: (data?.drives ?? []).map((d) => d.id) },
      );
      const ids = started.data?.startBurnIn.data.map((j) => j.id) ?? [];
      expect(ids).toHaveLength(4);
      const events = subscribe<{ jobId: string; status: string }>(kiln.url, "subscription { jobUpdates { jobId status } }");
      try {
        const done = new Set<string>();
        while (done.size < 4) {
          const e = await events.until((x) => x.status !== "running" && ids.includes(x.jobId) && !done.has(x.jobId), 60_000);
          expect(e.status).toBe("passed");
          done.add(e.jobId);
        }
      } finally {
        events.close();
      }
      const jobs = await kiln.database.db.burnInJob.findMany({ where: { id: { in: ids } }, include: { stages: true } });
      for (const job of jobs) {
        expect(job.status).toBe("passed");
        expect(job.stages.find((st) => st.name === "smart_short")?.log).toMatch(/self-test log: Short offline: Completed without error/);
      }
    },
    waitsBudget(4),
  );

  it("estimates each profile on each drive from its size, its kind's speed curve and the self-test minutes its SMART states", async () => {
    const { data, errors } = await gql<{
      drives: Array<{
        serial: string;
        rotationRate: number;
        profileEstimates: Array<{ profile: string; seconds: number; parts: Array<{ stage: string; seconds: number }> }>;
      }>;
    }>(kiln.url, "{ drives { serial rotationRate profileEstimates { profile seconds parts { stage seconds } } } }");
    expect(errors).toBeUndefined();
    const hdd = data?.drives.find((d) => d.rotationRate === 7200);
    const byProfile = new Map(hdd?.profileEstimates.map((e) => [e.profile, e]));
    expect([...byProfile.keys()]).toEqual(["standard", "full", "quick", "ssd"]);
    // The demo drives state 1- and 2-minute self-tests in their SMART answers, which the quick
    // job above recorded.
    expect(byProfile.get("standard")?.parts.map((p) => p.stage)).toEqual([
      "precheck",
      "smart_short",
      "surface_validate",
      "smart_long",
      "final_check",
    ]);
    expect(byProfile.get("standard")?.parts.find((p) => p.stage === "smart_long")?.seconds).toBe(120);
    // fio's 2 passes against badblocks' 8, over the same 256 MiB (whole seconds: about 3 and 10).
    const scan = (profile: string) => byProfile.get(profile)?.parts.find((p) => p.stage === "surface_validate")?.seconds ?? Number.NaN;
    expect(scan("full") / scan("standard")).toBeGreaterThan(3);
    for (const e of byProfile.values()) expect(e.seconds).toBe(e.parts.reduce((sum, p) => sum + p.seconds, 0));
  });
});

describe("the demo host's standard profile", () => {
  let kiln: RunningKiln;
  beforeAll(async () => {
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], {
        KILN_INVENTORY_INTERVAL: "0",
        KILN_AUTH: "off",
        KILN_DEMO_PACE: "fast",
      }),
      () => {},
    );
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  // At full speed the pass ends before fio writes its first status report (its status file does
  // not exist yet when the runner first reads it): that is a pass still starting, not a lost scan.
  it(
    "runs fio on a demo drive to passed, every 4 KiB marked with its offset",
    async () => {
      const drives = await gql<{ drives: Array<{ id: string; devicePath: string; rotationRate: number }> }>(
        kiln.url,
        "{ drives { id devicePath rotationRate } }",
      );
      const drive = drives.data?.drives.find((d) => d.rotationRate > 0);
      const started = await gql<{ startBurnIn: { data?: Array<{ id: string }> } }>(
        kiln.url,
        "mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: standard) { ... on StartBurnInSuccess { data { id } } ... on Error { message } } }",
        { d: [drive?.id] },
      );
      const id = started.data?.startBurnIn.data?.[0]?.id as string;
      expect(id, JSON.stringify(started)).toBeTruthy();
      const events = subscribe<{ status: string }>(kiln.url, "subscription($id: ID!) { jobProgress(jobId: $id) { status } }", { id });
      try {
        await events.until((e) => !["queued", "running"].includes(e.status), 120_000);
      } finally {
        events.close();
      }
      const job = await gql<{
        job: {
          status: string;
          errorText: string | null;
          stages: Array<{ name: string; surfaceScan: { engine: string; phase: number; phasePct: number } | null }>;
        };
      }>(kiln.url, "query($id: ID!) { job(id: $id) { status errorText stages { name surfaceScan { engine phase phasePct } } } }", { id });
      expect(job.data?.job.status, JSON.stringify(job.data?.job)).toBe("passed");
      expect(job.data?.job.stages.find((s) => s.name === "surface_validate")?.surfaceScan).toEqual({
        engine: "fio",
        phase: 2,
        phasePct: 100,
      });
      // fio's verify header (magic 0xacca) with its own offset, at the first and the last 4 KiB.
      const file = readFileSync(drive?.devicePath as string);
      for (const at of [0, file.length - 4096]) {
        expect(file.readUInt16LE(at)).toBe(0xacca);
        expect(Number(file.readBigUInt64LE(at + 16))).toBe(at);
      }
    },
    waitsBudget(1),
  );
});
