// Hosts over SSH against a real OpenSSH sshd on 127.0.0.1: host-key pinning, inventory of loop
// devices (SMART replayed from recorded drives), in-use detection, unreachable hosts.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { uploadKey } from "../helpers/burn-in-host.js";
import { gql } from "../helpers/graphql.js";
import { attachLoop, cleanupLoops, detachLoop, type LoopDevice, mountExt4, reattachLoop } from "../helpers/loop-devices.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { startSshd, type TestSshd } from "../helpers/sshd.js";
import { installStandIns, mapSmartctl, setZpoolStatus, standInCalls } from "../helpers/stand-ins.js";
import { migratedDataDir, removeTempDirs, tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();

const HOST_FIELDS = "id name status statusReason trusted fingerprint offeredFingerprint lastSeenAt";
const DRIVE_FIELDS = "id serial model devicePath sizeBytes temperatureC smartHealth inUse missing usage { kind name detail }";

type HostView = {
  id: string;
  status: string;
  statusReason: string | null;
  trusted: boolean;
  fingerprint: string | null;
  offeredFingerprint: string | null;
};
type DriveView = {
  id: string;
  serial: string;
  model: string;
  devicePath: string;
  sizeBytes: number;
  temperatureC: number;
  inUse: boolean;
  missing: boolean;
  usage: Array<{ kind: string; name: string }>;
};

describe.runIf(fixtures !== null)("SSH hosts against a real sshd", () => {
  let sshd: TestSshd;
  let kiln: RunningKiln;
  let hostId: string;
  const loops: Record<string, LoopDevice> = {};
  const work = tempDir("kiln-ssh-");

  const refresh = () =>
    gql<{ refreshInventory: Record<string, unknown> & { __typename: string } }>(
      kiln.url,
      `mutation($id: ID!) { refreshInventory(hostId: $id, wait: true) { __typename
        ... on RefreshInventorySuccess { data { found missing host { ${HOST_FIELDS} } } }
        ... on Error { message }
        ... on HostKeyMismatchError { expectedFingerprint offeredFingerprint }
        ... on HostKeyUntrustedError { fingerprint }
        ... on HostUnreachableError { reason } } }`,
      { id: hostId },
    ).then((r) => {
      expect(r.errors).toBeUndefined();
      return r.data?.refreshInventory as Record<string, unknown> & { __typename: string };
    });
  const host = () =>
    gql<{ hosts: HostView[] }>(kiln.url, `{ hosts { ${HOST_FIELDS} } }`).then(
      (r) => r.data?.hosts.find((h) => h.id === hostId) as HostView,
    );
  const drives = () => gql<{ drives: DriveView[] }>(kiln.url, `{ drives { ${DRIVE_FIELDS} } }`).then((r) => r.data?.drives ?? []);
  const sessions = () => (sshd.log().match(/Starting session: command/g) ?? []).length;
  const authAttempts = () => (sshd.log().match(/(Accepted|Postponed|Failed) publickey/g) ?? []).length;

  beforeAll(async () => {
    sshd = await startSshd();
    installStandIns(sshd.binDir, work);
    loops.free = attachLoop(work, "free", 64 * MiB);
    loops.mounted = attachLoop(work, "mounted", 64 * MiB);
    loops.zfs = attachLoop(work, "zfs", 64 * MiB);
    mapSmartctl(sshd.binDir, loops.free.device, path.join(fixtures as string, "smart-ata.json"));
    mapSmartctl(sshd.binDir, loops.mounted.device, path.join(fixtures as string, "smart-nvme.json"));
    mapSmartctl(sshd.binDir, loops.zfs.device, path.join(fixtures as string, "smart-scsi.json"));
    mountExt4(loops.mounted, path.join(work, "mnt"));
    setZpoolStatus(
      sshd.binDir,
      `  pool: tank\n state: ONLINE\nconfig:\n\n\tNAME        STATE     READ WRITE CKSUM\n\ttank        ONLINE       0     0     0\n\t  ${loops.zfs.device}  ONLINE       0     0     0\n\nerrors: No known data errors\n`,
    );
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir()], { KILN_INVENTORY_INTERVAL: "0", KILN_AUTH: "off" }),
      () => {},
    );
  });

  afterAll(async () => {
    await kiln?.stop();
    await sshd?.stop();
    cleanupLoops();
    removeTempDirs();
  });

  it("first contact records the host key as untrusted and runs nothing", async () => {
    await uploadKey(kiln.url, sshd.clientKeyPath, "nas-key");
    const { data, errors } = await gql<{ addHost: { __typename: string; data: HostView } }>(
      kiln.url,
      `mutation($input: HostInput!) { addHost(input: $input) { __typename ... on AddHostSuccess { data { ${HOST_FIELDS} } } ... on ValidationError { field message } } }`,
      {
        input: { name: "nas", transport: "ssh", address: sshd.host, port: sshd.port, username: "root", privateKeyPath: "nas-key" },
      },
    );
    expect(errors).toBeUndefined();
    expect(data?.addHost.__typename).toBe("AddHostSuccess");
    const added = data?.addHost.data as HostView;
    hostId = added.id;
    expect(added).toMatchObject({ status: "untrusted", trusted: false, fingerprint: sshd.fingerprint() });
    // Refused before authenticating: no key was offered, no session opened, no tool ran.
    expect(authAttempts()).toBe(0);
    expect(sessions()).toBe(0);
    expect(standInCalls(sshd.binDir, "smartctl")).toEqual([]);
    const again = await refresh();
    expect(again).toMatchObject({ __typename: "HostKeyUntrustedError", fingerprint: sshd.fingerprint() });
    expect(sessions()).toBe(0);
  });

  it("refuses to trust a fingerprint other than the one the host presented", async () => {
    const { data } = await gql<{ trustHostKey: { __typename: string; field?: string; message: string } }>(
      kiln.url,
      `mutation($id: ID!, $fp: String!) { trustHostKey(hostId: $id, fingerprint: $fp) { __typename ... on ValidationError { field message } } }`,
      { id: hostId, fp: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
    );
    expect(data?.trustHostKey).toMatchObject({ __typename: "ValidationError", field: "fingerprint" });
    expect((await host()).trusted).toBe(false);
  });

  it("after trust, inventory lists the drives with model, serial, size and temperature", async () => {
    const { data } = await gql<{ trustHostKey: { __typename: string } }>(
      kiln.url,
      `mutation($id: ID!, $fp: String!) { trustHostKey(hostId: $id, fingerprint: $fp) { __typename } }`,
      { id: hostId, fp: sshd.fingerprint() },
    );
    expect(data?.trustHostKey.__typename).toBe("TrustHostKeySuccess");
    const result = await refresh();
    expect(result.__typename).toBe("RefreshInventorySuccess");
    expect((result.data as { found: number }).found).toBe(3);
    expect(await host()).toMatchObject({ status: "ok", trusted: true });
    const bySerial = Object.fromEntries((await drives()).map((d) => [d.serial, d]));
    expect(bySerial["9RK1XXXX"]).toMatchObject({
      model: "WDC WD140EDFZ-11A0VA0",
      devicePath: loops.free?.device,
      sizeBytes: 64 * MiB,
      temperatureC: 32,
    });
    expect(bySerial.BTNH93710FS91P0B).toMatchObject({ model: "INTEL SSDPEKNW010T8", temperatureC: 36 });
    expect(bySerial.Z1Z5DWJK0000XXXXXXXX).toMatchObject({ model: "SEAGATE ST4000NM0043", temperatureC: 34 });
  });

  it("marks a mounted drive and a ZFS pool member as in use, and a free one as free", async () => {
    const bySerial = Object.fromEntries((await drives()).map((d) => [d.serial, d]));
    expect(bySerial["9RK1XXXX"]).toMatchObject({ inUse: false, usage: [] });
    expect(bySerial.BTNH93710FS91P0B?.inUse).toBe(true);
    // Mounted (active use), and the ext4 signature wipefs finds on the device itself (data at rest).
    expect(bySerial.BTNH93710FS91P0B?.usage.map(({ kind, name }) => ({ kind, name }))).toEqual([
      { kind: "mount", name: path.join(work, "mnt") },
      { kind: "filesystem", name: loops.mounted?.device },
    ]);
    expect(bySerial.Z1Z5DWJK0000XXXXXXXX?.inUse).toBe(true);
    expect(bySerial.Z1Z5DWJK0000XXXXXXXX?.usage.map(({ kind, name }) => ({ kind, name }))).toEqual([{ kind: "zfs", name: "tank" }]);
  });

  it("keeps a drive that moved to another device name, and marks a vanished one missing", async () => {
    const before = Object.fromEntries((await drives()).map((d) => [d.serial, d]));
    const oldLoop = loops.free as LoopDevice;
    // Its file on a second loop device first, then the first one detached: the drive comes back
    // under another number whatever other tests attach and detach meanwhile.
    const moved = reattachLoop(oldLoop);
    detachLoop(oldLoop);
    expect(moved.device).not.toBe(oldLoop.device);
    mapSmartctl(sshd.binDir, moved.device, path.join(fixtures as string, "smart-ata.json"));
    detachLoop(loops.zfs as LoopDevice);
    expect((await refresh()).__typename).toBe("RefreshInventorySuccess");
    const after = Object.fromEntries((await drives()).map((d) => [d.serial, d]));
    expect(after["9RK1XXXX"]).toMatchObject({ id: before["9RK1XXXX"]?.id, devicePath: moved.device, missing: false });
    expect(after.Z1Z5DWJK0000XXXXXXXX).toMatchObject({ id: before.Z1Z5DWJK0000XXXXXXXX?.id, missing: true });
    loops.free = moved;
  });

  it("refuses a regenerated host key with HostKeyMismatch, before any authentication", async () => {
    const pinned = sshd.fingerprint();
    const drivesBefore = await drives();
    await sshd.regenerateHostKey();
    await kiln.registry.closeAll(); // drop the pooled connection, as a reboot of the host would
    const attempts = authAttempts();
    const result = await refresh();
    expect(result).toMatchObject({
      __typename: "HostKeyMismatchError",
      expectedFingerprint: pinned,
      offeredFingerprint: sshd.fingerprint(),
    });
    expect(authAttempts()).toBe(attempts);
    expect(await host()).toMatchObject({ status: "key_mismatch", fingerprint: pinned, offeredFingerprint: sshd.fingerprint() });
    // Its drives keep their last known state.
    expect(await drives()).toEqual(drivesBefore);
    // A burn-in there is refused with the same answer, both fingerprints included.
    const start = await gql<{ startBurnIn: Record<string, unknown> }>(
      kiln.url,
      `mutation($ids: [ID!]!) { startBurnIn(driveIds: $ids, profile: quick) { __typename
        ... on HostKeyMismatchError { expectedFingerprint offeredFingerprint } } }`,
      { ids: [drivesBefore[0]?.id] },
    );
    expect(start.data?.startBurnIn).toEqual({
      __typename: "HostKeyMismatchError",
      expectedFingerprint: pinned,
      offeredFingerprint: sshd.fingerprint(),
    });
    // The operator checks the new key and trusts it: work resumes.
    const { data } = await gql<{ trustHostKey: { __typename: string } }>(
      kiln.url,
      `mutation($id: ID!, $fp: String!) { trustHostKey(hostId: $id, fingerprint: $fp) { __typename } }`,
      { id: hostId, fp: sshd.fingerprint() },
    );
    expect(data?.trustHostKey.__typename).toBe("TrustHostKeySuccess");
    expect((await refresh()).__typename).toBe("RefreshInventorySuccess");
  });

  it("marks a host whose sshd was killed unreachable, keeps its drives, and recovers when it returns", async () => {
    const drivesBefore = await drives();
    await sshd.stop();
    const down = await refresh();
    expect(down).toMatchObject({ __typename: "HostUnreachableError", reason: "refused" });
    const h = await host();
    expect(h.status).toBe("unreachable");
    expect(h.statusReason).toMatch(/refused/);
    expect(await drives()).toEqual(drivesBefore);
    await sshd.start();
    expect(await refresh()).toMatchObject({ __typename: "RefreshInventorySuccess" });
    expect((await host()).status).toBe("ok");
  });

  it("refuses to remove a host with a running burn-in, and removes it otherwise", async () => {
    const drive = (await drives()).find((d) => d.serial === "9RK1XXXX") as DriveView;
    const job = await kiln.database.db.burnInJob.create({
      data: { driveId: drive.id, serial: drive.serial, profile: "full", status: "running" },
    });
    const remove = () =>
      gql<{ removeHost: { __typename: string; activeJobs?: number } }>(
        kiln.url,
        `mutation($id: ID!) { removeHost(id: $id) { __typename ... on HostBusyError { activeJobs } } }`,
        { id: hostId },
      );
    expect((await remove()).data?.removeHost).toEqual({ __typename: "HostBusyError", activeJobs: 1 });
    await kiln.database.db.burnInJob.update({ where: { id: job.id }, data: { status: "cancelled" } });
    expect((await remove()).data?.removeHost.__typename).toBe("RemoveHostSuccess");
    const actions = (await kiln.database.db.auditEvent.findMany({ where: { subjectId: hostId }, orderBy: { at: "asc" } })).map(
      (e) => e.action,
    );
    expect(actions).toEqual(["host.add", "host.trust_key", "host.trust_key", "host.remove"]);
  });
});
