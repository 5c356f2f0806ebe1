// Data that nobody has mounted still counts: loop devices formatted with every kind the test
// machine can make (filesystems, LUKS, LVM PV, bcache, swap, md / ZFS / firmware-RAID / Ceph
// signatures, a partition table with partitions) are read over a real sshd and reported as
// usage at rest; a blank drive and an empty partition table are free. Data at rest needs an
// unlock grant; a mounted drive cannot be unlocked at all.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BurnInRig, ended, startBurnInRig, startJob, waitForJob, waitsBudget } from "../helpers/burn-in-host.js";
import { DATA_KINDS, type DataKind, hasTool } from "../helpers/data-at-rest.js";
import { gql } from "../helpers/graphql.js";
import { attachLoop, type LoopDevice, mountExt4 } from "../helpers/loop-devices.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { mapSmartctl } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();

type Usage = { kind: string; name: string; detail: string | null; active: boolean };
type DriveView = { id: string; serial: string; devicePath: string; inUse: boolean; usage: Usage[] };

/** The kinds this machine can make; under CI every one must be makeable (.ci/run installs the tools). */
function makeable(): DataKind[] {
  const missing = DATA_KINDS.filter((k) => !hasTool(k.tool));
  if (missing.length && process.env.CI) throw new Error(`CI needs ${missing.map((k) => k.tool).join(", ")} (.ci/run installs them)`);
  for (const k of missing) console.warn(`notice: ${k.tool} is missing here; the ${k.name} case is skipped (CI never skips it)`);
  return DATA_KINDS.filter((k) => hasTool(k.tool));
}

describe.runIf(fixtures !== null)("data at rest on drives over SSH", () => {
  let rig: BurnInRig;
  const kinds = makeable();
  const made = new Map<string, LoopDevice>();
  const work = tempDir("kiln-at-rest-");
  let byDevice: Map<string, DriveView>;

  const drives = async () => {
    const r = await gql<{ drives: DriveView[] }>(
      rig.kiln.url,
      "{ drives { id serial devicePath inUse usage { kind name detail active } } }",
    );
    return new Map((r.data?.drives ?? []).map((d) => [d.devicePath, d]));
  };
  const grant = (driveId: string, serial: string) =>
    gql<{ grantUnlock: { __typename: string; message?: string; usage?: Usage[] } }>(
      rig.kiln.url,
      `mutation($d: ID!, $s: String!) { grantUnlock(driveId: $d, confirmSerial: $s, reason: "re-certify a returned drive", minutes: 30) {
        __typename ... on Error { message } ... on DriveInActiveUseError { usage { kind name active } } } }`,
      { d: driveId, s: serial },
    ).then((r) => r.data?.grantUnlock);

  beforeAll(async () => {
    rig = await startBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 1,
      sizeBytes: 64 * MiB,
      prepare: (host) => {
        // One mounted drive (active use) besides the kinds at rest.
        mountExt4(host.loops[0] as LoopDevice, path.join(work, "mnt"));
        for (const kind of kinds) {
          const loop = attachLoop(work, kind.name, (kind.sizeMiB ?? 128) * MiB);
          kind.make(loop.device);
          mapSmartctl(host.sshd.binDir, loop.device, path.join(fixtures as string, "smart-ata.json"), `AT-REST-${kind.name}`);
          made.set(kind.name, loop);
        }
      },
    });
    byDevice = await drives();
  }, 120_000);
  afterAll(() => rig?.stop());

  it("reports each kind of data at rest with its kind and detail, and counts blank drives as free", () => {
    const seen = kinds.map((k) => {
      const drive = byDevice.get(made.get(k.name)?.device as string);
      return { name: k.name, inUse: drive?.inUse, kinds: drive?.usage.map((u) => `${u.kind}${u.active ? "!" : ""}`) };
    });
    expect(seen).toEqual(kinds.map((k) => ({ name: k.name, inUse: k.expect !== null, kinds: k.expect ? [k.expect] : [] })));
    const ext4 = byDevice.get(made.get("ext4")?.device as string);
    expect(ext4?.usage[0]).toMatchObject({ name: made.get("ext4")?.device, detail: expect.stringMatching(/^ext4, uuid /), active: false });
    const gpt = byDevice.get(made.get("gpt-2-partitions")?.device as string);
    expect(gpt?.usage[0]?.detail).toBe("gpt partition table with 2 partitions");
  });

  it(
    "refuses to start on data at rest without a grant, and accepts the grant",
    async () => {
      const drive = byDevice.get(made.get("luks")?.device as string) as DriveView;
      const refused = await startJob(rig.kiln.url, [drive.id], "full");
      expect(refused.__typename).toBe("DriveInUseError");
      expect(refused.message).toMatch(/is in use \(luks .* \(crypto_LUKS, uuid .*\)\): Kiln will not write to it/);
      expect((await grant(drive.id, drive.serial))?.__typename).toBe("GrantUnlockSuccess");
      // An empty partition table is free: no grant needed, and precheck agrees.
      const empty = byDevice.get(made.get("gpt-empty")?.device as string) as DriveView;
      const started = await startJob(rig.kiln.url, [empty.id], "quick");
      expect(started.__typename).toBe("StartBurnInSuccess");
      const job = await waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
      expect(job.status, JSON.stringify(job)).toBe("passed");
    },
    waitsBudget(1),
  );

  it("cannot unlock a mounted drive: grantUnlock and startBurnIn say to unmount it first", async () => {
    const mounted = byDevice.get(rig.host.loops[0]?.device as string) as DriveView;
    expect(mounted.usage.filter((u) => u.active).map((u) => `${u.kind} ${u.name}`)).toEqual([`mount ${path.join(work, "mnt")}`]);
    const refused = await grant(mounted.id, mounted.serial);
    expect(refused).toMatchObject({ __typename: "DriveInActiveUseError", usage: [{ kind: "mount", active: true }] });
    expect(refused?.message).toMatch(/is in active use \(mount .*\): unmount \/ export it first/);
    expect(await rig.kiln.database.db.unlockGrant.count({ where: { driveId: mounted.id } })).toBe(0);
    const start = await startJob(rig.kiln.url, [mounted.id], "full");
    expect(start.__typename).toBe("DriveInActiveUseError");
    expect(await rig.kiln.database.db.burnInJob.count({ where: { driveId: mounted.id } })).toBe(0);
  });

  it(
    "runs the quick profile (SMART only, never writes) on a drive holding data and on a mounted one, with no grant",
    async () => {
      for (const drive of [
        byDevice.get(made.get("xfs")?.device as string),
        byDevice.get(rig.host.loops[0]?.device as string),
      ] as DriveView[]) {
        expect(drive.inUse).toBe(true);
        const started = await startJob(rig.kiln.url, [drive.id], "quick");
        expect(started.__typename, JSON.stringify(started)).toBe("StartBurnInSuccess");
        const job = await waitForJob(rig.kiln.url, started.data?.[0]?.id as string, ended);
        expect(job.status, JSON.stringify(job)).toBe("passed");
        const precheck = await rig.kiln.database.db.stage.findFirstOrThrow({ where: { jobId: job.id, name: "precheck" } });
        expect(precheck.log).toMatch(/drive is used or holds data \(.*\): this profile never writes to it/);
      }
      expect(await rig.kiln.database.db.unlockGrant.count({ where: { consumedByJobId: { not: null } } })).toBe(0);
    },
    waitsBudget(2),
  );

  it("keeps an unlock's reason to a sentence: 100 kB is refused naming the field, and nothing is granted", async () => {
    const drive = byDevice.get(made.get("ext4")?.device as string) as DriveView;
    const r = await gql<{ grantUnlock: { __typename: string; field?: string; message?: string } }>(
      rig.kiln.url,
      "mutation($d: ID!, $s: String!, $r: String!) { grantUnlock(driveId: $d, confirmSerial: $s, reason: $r, minutes: 30) { __typename ... on ValidationError { field message } } }",
      { d: drive.id, s: drive.serial, r: "x".repeat(100_000) },
    );
    expect(r.data?.grantUnlock).toEqual({
      __typename: "ValidationError",
      field: "reason",
      message: "reason: must be at most 500 characters (it was 100000)",
    });
    expect(await rig.kiln.database.db.unlockGrant.count({ where: { driveId: drive.id } })).toBe(0);
  });
});
