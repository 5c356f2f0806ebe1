// A storage host for burn-in tests: a real sshd on 127.0.0.1, loop devices on sparse files whose
// SMART is replayed from recorded SATA drives, and helpers to register it with a Kiln over HTTP.
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type Db, openDatabase } from "../../server/db/client.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { gql } from "./graphql.js";
import { ioThrottle } from "./io-throttle.js";
import { type ServingKiln, serveKiln } from "./kiln-process.js";
import { attachAliasingLoop, attachLoop, cleanupLoops, type LoopDevice } from "./loop-devices.js";
import { startSshd, type TestSshd } from "./sshd.js";
import { installStandIns, mapSmartctl, setSelfTestSeconds } from "./stand-ins.js";
import { migratedDataDir, removeTempDirs } from "./temp-db.js";

/** Recorded SATA drives with distinct serials (../shared/fixtures/smartctl). */
export const SATA_FIXTURES = ["smart-ata.json", "smart-ata2.json", "smart-megaraid0.json", "smart-ata-failed-scrutiny.json"] as const;

export interface BurnInHost {
  sshd: TestSshd;
  loops: LoopDevice[];
  /**
   * The host's disks made slow (a host started with `pacedDisks`): every loop device reads and
   * writes at most `bytesPerSecond` (null: full speed again) for whatever Kiln runs over this
   * sshd; `devices` limits it to those. A test holds a scan in its middle until its event has
   * happened, then lets it end at full speed, instead of slowing badblocks down for the whole scan.
   */
  pace(bytesPerSecond: number | null, devices?: readonly string[]): void;
  /** Ends sshd and the pacing group (the loop devices are the caller's: cleanupLoops). */
  stop(): Promise<void>;
}

export async function startBurnInHost(
  fixtureDir: string,
  workDir: string,
  count: number,
  sizeBytes: number,
  { pacedDisks = false, fakeCapacity }: Pick<RigOptions, "pacedDisks" | "fakeCapacity"> = {},
): Promise<BurnInHost> {
  const throttle = pacedDisks ? ioThrottle() : null;
  const sshd = await startSshd({}, throttle ? { ioThrottle: throttle } : {});
  installStandIns(sshd.binDir, workDir);
  setSelfTestSeconds(sshd.binDir, 2);
  const loops: LoopDevice[] = [];
  for (let i = 0; i < count; i++) {
    const loop =
      fakeCapacity?.index === i
        ? await attachAliasingLoop(workDir, `drive${i}`, fakeCapacity.realBytes, sizeBytes)
        : attachLoop(workDir, `drive${i}`, sizeBytes);
    // Past the recorded drives, the same recordings under serials of their own.
    const serial = i >= SATA_FIXTURES.length ? `KILN-TEST-${i}` : undefined;
    mapSmartctl(sshd.binDir, loop.device, path.join(fixtureDir, SATA_FIXTURES[i % SATA_FIXTURES.length] as string), serial);
    loops.push(loop);
  }
  return {
    sshd,
    loops,
    pace(bytesPerSecond, devices = loops.map((l) => l.device)) {
      if (!throttle) throw new Error("pace(): start the host with pacedDisks");
      for (const device of devices) throttle.limit(device, bytesPerSecond);
    },
    async stop() {
      throttle?.lift();
      await sshd.stop();
      throttle?.remove();
    },
  };
}

export interface BurnInRig {
  host: BurnInHost;
  kiln: RunningKiln;
  hostId: string;
  /** Drive ids and serials by device path, as the first inventory found them. */
  drives: Map<string, { id: string; serial: string }>;
  /** Drive id of the i-th loop device. */
  driveId(i: number): string;
  stop(): Promise<void>;
}

/** What a rig is built from: the host, what is done to it first, and Kiln's settings. */
export interface RigOptions {
  fixtureDir: string;
  workDir: string;
  count: number;
  sizeBytes: number;
  settings?: Record<string, number | string>;
  /** Runs on the host before Kiln first reads it (format or mount a drive, install stand-ins). */
  prepare?: (host: BurnInHost) => void;
  /** The host's disks can be slowed down (BurnInHost.pace); needs cgroup v1 blkio. */
  pacedDisks?: boolean;
  /** One drive that reports `sizeBytes` but holds only `realBytes` (attachAliasingLoop). */
  fakeCapacity?: { index: number; realBytes: number };
  /** Kiln's data directory (a benchmark outside vitest); by default a copy of the suite's migrated database. */
  dataDir?: string;
}

const RIG_ENV = { KILN_INVENTORY_INTERVAL: "0", KILN_AUTH: "off" };

async function joinRig(options: RigOptions, host: BurnInHost, kilnUrl: string) {
  const { hostId, drives } = await registerHost(kilnUrl, host);
  if (options.settings) await setSettings(kilnUrl, options.settings);
  return { hostId, drives, driveId: (i: number) => drives.get(host.loops[i]?.device as string)?.id as string };
}

/**
 * A burn-in host (real sshd, `count` loop devices) registered with an in-process Kiln on a fresh
 * SQLite file, with `settings` applied. `stop` ends everything and removes the temp dirs.
 */
export async function startBurnInRig(options: RigOptions): Promise<BurnInRig> {
  const host = await startBurnInHost(options.fixtureDir, options.workDir, options.count, options.sizeBytes, options);
  options.prepare?.(host);
  const kiln = await startKiln(loadConfig(["--port", "0", "--data", options.dataDir ?? migratedDataDir()], RIG_ENV), () => {});
  return {
    host,
    kiln,
    ...(await joinRig(options, host, kiln.url)),
    async stop() {
      await kiln.stop();
      await host.stop();
      cleanupLoops();
      removeTempDirs();
    },
  };
}

/** A rig whose Kiln is a `kiln serve` process of its own, which a test can kill and start again. */
export interface ServedBurnInRig extends Omit<BurnInRig, "kiln"> {
  /** The Kiln running now (a new one after `restart`). */
  kiln: ServingKiln;
  dataDir: string;
  /** Ends Kiln with `signal` and starts it again on the same data; `between` runs while it is down. */
  restart(signal: NodeJS.Signals, between?: () => void | Promise<void>): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The rig's database, opened for one look. */
  withDatabase<T>(look: (db: Db) => Promise<T>): Promise<T>;
}

export async function startServedBurnInRig(options: RigOptions): Promise<ServedBurnInRig> {
  const host = await startBurnInHost(options.fixtureDir, options.workDir, options.count, options.sizeBytes, options);
  options.prepare?.(host);
  const dataDir = migratedDataDir("kiln-rig-data-");
  const serve = () => serveKiln(["--port", "0", "--data", dataDir], RIG_ENV);
  const rig: ServedBurnInRig = {
    host,
    kiln: await serve(),
    dataDir,
    hostId: "",
    drives: new Map(),
    driveId: () => "",
    async restart(signal, between) {
      rig.kiln.child.kill(signal);
      const exit = await rig.kiln.exited;
      await between?.();
      rig.kiln = await serve();
      return exit;
    },
    async withDatabase(look) {
      const { db, close } = await openDatabase({ url: `file:${path.join(dataDir, "kiln.db")}` });
      try {
        return await look(db);
      } finally {
        await close();
      }
    },
    async stop() {
      rig.kiln.child.kill("SIGKILL");
      await rig.kiln.exited;
      await host.stop();
      cleanupLoops();
      removeTempDirs();
    },
  };
  Object.assign(rig, await joinRig(options, host, rig.kiln.url));
  return rig;
}

/** Give Kiln a private key (into its keys directory), as an operator would with uploadSshKey. */
export async function uploadKey(kilnUrl: string, keyFile: string, name: string): Promise<void> {
  const r = await gql<{ uploadSshKey: { __typename: string } }>(
    kilnUrl,
    "mutation($n: String!, $k: String!) { uploadSshKey(name: $n, privateKey: $k) { __typename ... on Error { message } } }",
    { n: name, k: readFileSync(keyFile, "utf8") },
  );
  expect(r.data?.uploadSshKey.__typename, JSON.stringify(r)).toBe("UploadSshKeySuccess");
}

/** Add the host to a running Kiln, trust its key, read its drives; returns drive ids by device. */
export async function registerHost(
  kilnUrl: string,
  host: BurnInHost,
  name = "bench",
): Promise<{ hostId: string; drives: Map<string, { id: string; serial: string }> }> {
  await uploadKey(kilnUrl, host.sshd.clientKeyPath, `${name}-key`);
  const added = await gql<{ addHost: { data: { id: string; fingerprint: string } } }>(
    kilnUrl,
    "mutation($input: HostInput!) { addHost(input: $input) { ... on AddHostSuccess { data { id fingerprint } } ... on Error { message } } }",
    {
      input: {
        name,
        transport: "ssh",
        address: host.sshd.host,
        port: host.sshd.port,
        username: "root",
        privateKeyPath: `${name}-key`,
      },
    },
  );
  const hostId = added.data?.addHost.data.id as string;
  expect(hostId, JSON.stringify(added)).toBeTruthy();
  await gql(kilnUrl, "mutation($id: ID!, $fp: String!) { trustHostKey(hostId: $id, fingerprint: $fp) { __typename } }", {
    id: hostId,
    fp: host.sshd.fingerprint(),
  });
  const refreshed = await gql<{ refreshInventory: { __typename: string } }>(
    kilnUrl,
    "mutation($id: ID!) { refreshInventory(hostId: $id, wait: true) { __typename ... on Error { message } } }",
    { id: hostId },
  );
  expect(refreshed.data?.refreshInventory.__typename, JSON.stringify(refreshed)).toBe("RefreshInventorySuccess");
  const listed = await gql<{ drives: Array<{ id: string; serial: string; devicePath: string }> }>(
    kilnUrl,
    "{ drives { id serial devicePath } }",
  );
  const drives = new Map((listed.data?.drives ?? []).map((d) => [d.devicePath, { id: d.id, serial: d.serial }]));
  return { hostId, drives };
}

export async function setSettings(kilnUrl: string, settings: Record<string, number | string>): Promise<void> {
  for (const [key, value] of Object.entries(settings)) {
    const r = await gql<{ setSetting: { __typename: string } }>(
      kilnUrl,
      "mutation($k: String!, $v: String!) { setSetting(key: $k, value: $v) { __typename ... on Error { message } } }",
      {
        k: key,
        v: JSON.stringify(value),
      },
    );
    expect(r.data?.setSetting.__typename, JSON.stringify(r)).toBe("SetSettingSuccess");
  }
}

export interface JobView {
  id: string;
  status: string;
  progressPct: number;
  errorText: string | null;
  verdict: { outcome: "passed" | "failed"; reasons: string[]; warnings: string[] } | null;
  resumedFromId: string | null;
  stages: Array<{
    name: string;
    status: string;
    errorText: string | null;
    log: string;
    surfaceScan: null | {
      phase: number;
      phasePct: number;
      badBlocks: number;
      badBlockList: number[];
      history: Array<{ phase: number; startedAt: string }>;
    };
  }>;
}

export const JOB_FIELDS =
  "id status progressPct errorText verdict { outcome reasons warnings } resumedFromId stages { name status errorText log surfaceScan { phase phasePct badBlocks badBlockList history { phase startedAt } } }";

/**
 * Queue a job. `confirmSsdWrite`: two of the recorded SATA drives are SSDs (smart-ata2, the
 * scrutiny one); a test's scan writes to their loop devices like any other (start-rules.test.ts
 * checks that Kiln asks first).
 */
export async function startJob(
  kilnUrl: string,
  driveIds: string[],
  profile: string,
  options: Record<string, number | string> = {},
  confirmSsdWrite = true,
): Promise<{ __typename: string; data?: JobView[]; message?: string } & Record<string, unknown>> {
  const r = await gql<{ startBurnIn: { __typename: string; data?: JobView[] } }>(
    kilnUrl,
    `mutation($ids: [ID!]!, $profile: Profile!, $options: BurnInOptions, $ssd: Boolean) { startBurnIn(driveIds: $ids, profile: $profile, options: $options, confirmSsdWrite: $ssd) { __typename
      ... on StartBurnInSuccess { data { ${JOB_FIELDS} } } ... on Error { message }
      ... on DriveInUseError { usage { kind name } } ... on UnlockRequiredError { reason } ... on ValidationError { field } } }`,
    { ids: driveIds, profile, options, ssd: confirmSsdWrite },
  );
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return r.data?.startBurnIn as { __typename: string; data?: JobView[] };
}

export async function getJob(kilnUrl: string, id: string): Promise<JobView> {
  const r = await gql<{ job: JobView }>(kilnUrl, `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, { id });
  return r.data?.job as JobView;
}

/** The longest a test waits for one change of a job, generous for a loaded 2-core machine. */
export const JOB_WAIT_MS = 120_000;

/**
 * A test's own time budget: `waits` waits for a job change of up to JOB_WAIT_MS each, plus a
 * minute for everything else. vitest's default (60 s) is shorter than a single such wait.
 */
export const waitsBudget = (waits: number): number => waits * JOB_WAIT_MS + 60_000;

/**
 * Read a job (over HTTP) until `predicate` holds: after each of its events (jobProgress over SSE,
 * as a dashboard follows it) and at least once a second, at most every 200 ms. Reading the whole
 * job costs the Kiln about 11 ms of CPU; a 200 ms poll of every waiting test was a tenth of the
 * suite's CPU on 2 cores. The events only wake the reader: `predicate` always sees the job as the
 * query returns it, stages and logs included, and a state no event announces is read within a second.
 */
export async function waitForJob(
  kilnUrl: string,
  id: string,
  predicate: (job: JobView) => boolean,
  timeoutMs = JOB_WAIT_MS,
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  const events = new JobEvents(kilnUrl, id);
  try {
    for (;;) {
      const readAt = Date.now();
      events.changed = false;
      const job = await getJob(kilnUrl, id);
      if (job && predicate(job)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} did not reach the expected state: ${JSON.stringify(job)}`);
      await events.next(readAt + 200, readAt + 1000);
    }
  } finally {
    events.close();
  }
}

/** Wakes a waiter when a job publishes an event. The stream ends with the job, or on any error. */
class JobEvents {
  changed = false;
  private wake: (() => void) | null = null;
  private readonly controller = new AbortController();

  constructor(kilnUrl: string, id: string) {
    const query = "subscription($id: ID!) { jobProgress(jobId: $id) { at } }";
    const url = `${kilnUrl}/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify({ id }))}`;
    void (async () => {
      const response = await fetch(url, { headers: { accept: "text/event-stream" }, signal: this.controller.signal });
      const reader = response.body?.getReader();
      if (!response.ok || !reader) return;
      for (;;) {
        const { done } = await reader.read();
        if (done) return;
        this.changed = true;
        this.wake?.();
      }
    })().catch(() => {});
  }

  /** Resolves at `latest`, or at `earliest` when an event came (or comes) before then. */
  async next(earliest: number, latest: number): Promise<void> {
    await sleepUntil(earliest);
    if (this.changed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, latest - Date.now()));
      this.wake = done;
    });
  }

  close(): void {
    this.controller.abort();
  }
}

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

export const ended = (job: JobView) => !["queued", "running"].includes(job.status);
