// A host that answers with too much, or with something Kiln cannot use, over a real sshd: Kiln's
// memory stays bounded, the command is abandoned, the host is marked with the reason, and its
// drives keep their last known state. A by-id name from the host passes the device-path check.
// A busy host whose command outlasts its timeout (a setting) is slow, not unreachable; an
// inventory runs in the background and tells its steps through hostUpdated.
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BurnInRig, SATA_FIXTURES, startBurnInRig } from "../helpers/burn-in-host.js";
import { gql } from "../helpers/graphql.js";
import { attachLoop, detachLoop } from "../helpers/loop-devices.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import { subscribe } from "../helpers/sse.js";
import { installHostileStandIns, mapSmartctl } from "../helpers/stand-ins.js";
import { tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";
import { until } from "../helpers/wait.js";

const fixtures = smartctlFixtureDir();

describe.runIf(fixtures !== null)("a hostile host", () => {
  let rig: BurnInRig;
  const work = tempDir("kiln-hostile-");
  const control = (file: string) => path.join(rig.host.sshd.binDir, file);

  const refresh = () =>
    gql<{ refreshInventory: { __typename: string; reason?: string; message?: string } }>(
      rig.kiln.url,
      "mutation($id: ID!) { refreshInventory(hostId: $id, wait: true) { __typename ... on Error { message } ... on HostUnreachableError { reason } } }",
      { id: rig.hostId },
    ).then((r) => r.data?.refreshInventory);
  const state = () =>
    gql<{
      hosts: Array<{ id: string; status: string; statusReason: string | null; skippedDevices: string[] }>;
      drives: Array<{ serial: string; missing: boolean; byIdPath: string | null }>;
    }>(rig.kiln.url, "{ hosts { id status statusReason skippedDevices } drives { serial missing byIdPath } }").then((r) => ({
      host: r.data?.hosts.find((h) => h.id === rig.hostId),
      drives: r.data?.drives ?? [],
    }));

  beforeAll(async () => {
    rig = await startBurnInRig({
      fixtureDir: fixtures as string,
      workDir: work,
      count: 1,
      sizeBytes: 64 * MiB,
      prepare: (host) => installHostileStandIns(host.sshd.binDir),
    });
  });
  afterAll(() => rig?.stop());

  it("abandons a 300 MB lsblk answer at 16 MiB: memory stays bounded, the host says why, its drives stay", async () => {
    writeFileSync(control("lsblk.flood"), String(300_000_000));
    try {
      const rssBefore = process.memoryUsage().rss;
      const result = await refresh();
      const grown = process.memoryUsage().rss - rssBefore;
      expect(result).toMatchObject({ __typename: "HostUnreachableError", reason: "output_too_large" });
      expect(result?.message).toMatch(/^lsblk: the host printed more than 16777216 bytes: command abandoned$/);
      // Kiln keeps at most the limit, not the 300 MB (it grew by about 1 GB before the limit).
      expect(grown).toBeLessThan(200 * MiB);
      const { host: h, drives } = await state();
      expect(h).toMatchObject({ status: "error", statusReason: expect.stringMatching(/^output_too_large: lsblk: /) });
      expect(drives).toEqual([expect.objectContaining({ missing: false })]);
    } finally {
      rmSync(control("lsblk.flood"));
    }
  });

  it("marks the host when its answer cannot be parsed: JSON nested 10,000 deep, or not JSON", async () => {
    for (const [answer, why] of [
      [
        `{"blockdevices": [${'{"name":"sda","type":"disk","children":['.repeat(10_000)}${"]}".repeat(10_000)}]}`,
        /JSON nested deeper than 64 levels/,
      ],
      ["NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS\nsda 8:0 0 1T 0 disk", /not valid JSON/],
    ] as const) {
      writeFileSync(control("lsblk.out"), answer);
      const result = await refresh();
      expect(result).toMatchObject({ __typename: "HostUnreachableError", reason: "bad_output", message: expect.stringMatching(why) });
      const { host: h, drives } = await state();
      expect(h).toMatchObject({ status: "error", statusReason: expect.stringMatching(why) });
      expect(drives).toEqual([expect.objectContaining({ missing: false })]);
    }
    rmSync(control("lsblk.out"));
    expect((await refresh())?.__typename).toBe("RefreshInventorySuccess");
    expect((await state()).host).toMatchObject({ status: "ok" });
  });

  it("lists neither of two disks that report the same serial: it could not tell which one a job writes", async () => {
    const twin = attachLoop(work, "twin", 64 * MiB);
    // Behind some USB bridges every disk reports the bridge's serial.
    mapSmartctl(rig.host.sshd.binDir, twin.device, path.join(fixtures as string, SATA_FIXTURES[0]));
    try {
      expect((await refresh())?.__typename).toBe("RefreshInventorySuccess");
      const { host: h, drives } = await state();
      expect(drives).toEqual([expect.objectContaining({ missing: true })]);
      // The host answered: it is ok, with no warning text; the disks it did not list say why.
      expect(h).toMatchObject({ status: "ok", statusReason: null });
      // Each names the other, whichever of the two lsblk listed first.
      const original = rig.host.loops[0]?.device as string;
      expect(h?.skippedDevices).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`^${twin.device}: reports serial \\S+ like ${original}; Kiln cannot tell them apart$`)),
          expect.stringMatching(new RegExp(`^${original}: reports serial \\S+ like ${twin.device}; Kiln cannot tell them apart$`)),
        ]),
      );
    } finally {
      detachLoop(twin);
    }
    expect((await refresh())?.__typename).toBe("RefreshInventorySuccess");
    expect((await state()).drives).toEqual([expect.objectContaining({ missing: false })]);
  });

  it("calls a host slow, not unreachable, when a command outlasts its setting; refreshes in the background with its steps told", async () => {
    const setSetting = (key: string, value: string) =>
      gql(rig.kiln.url, "mutation($k: String!, $v: String!) { setSetting(key: $k, value: $v) { __typename } }", { k: key, v: value });
    await setSetting("hostListSeconds", "1");
    writeFileSync(control("lsblk.sleep"), "3");
    try {
      // Waited for: the typed answer says which setting bounds the command.
      const slow = await refresh();
      expect(slow).toMatchObject({
        __typename: "HostUnreachableError",
        reason: "command_timeout",
        message: "lsblk: a command did not finish within 1 s (the limit is the hostListSeconds setting)",
      });
      const { host: h, drives } = await state();
      expect(h).toMatchObject({ status: "slow", statusReason: expect.stringMatching(/^command_timeout: lsblk: /) });
      expect(drives).toEqual([expect.objectContaining({ missing: false })]);

      // A busy host given the time it needs answers; the mutation does not wait for it.
      await setSetting("hostListSeconds", "30");
      const events = subscribe<{
        hostId: string;
        inventory: { running: boolean; step: string; done: number; total: number; found: number | null } | null;
      }>(rig.kiln.url, "subscription { hostUpdated { hostId inventory { running step done total found } } }");
      // Open once it carries an event: one published until it arrives.
      await until("the subscription open", () => {
        rig.kiln.pubsub.publish("hosts", { hostId: "probe", removed: true });
        return events.events.some((e) => e.hostId === "probe");
      });
      const started = await gql<{ refreshInventory: { __typename: string; data: { joined: boolean; progress: { running: boolean } } } }>(
        rig.kiln.url,
        "mutation($id: ID!) { refreshInventory(hostId: $id) { __typename ... on RefreshInventorySuccess { data { joined progress { running } } } } }",
        { id: rig.hostId },
      );
      // At once, while lsblk still sleeps on the host.
      expect(started.data?.refreshInventory).toEqual({
        __typename: "RefreshInventorySuccess",
        data: { joined: false, progress: { running: true } },
      });
      const again = await gql<{ refreshInventory: { data: { joined: boolean } } }>(
        rig.kiln.url,
        "mutation($id: ID!) { refreshInventory(hostId: $id) { ... on RefreshInventorySuccess { data { joined } } } }",
        { id: rig.hostId },
      );
      expect(again.data?.refreshInventory.data.joined).toBe(true);
      const end = await events.until((e) => e.hostId === rig.hostId && e.inventory?.running === false, 120_000);
      events.close();
      expect(end.inventory).toMatchObject({ step: "done", found: 1 });
      // Steps as they came (a dashboard's stream keeps the newest per host twice a second: quick
      // steps may be folded into later ones); the slow lsblk is seen.
      const steps = events.events.filter((e) => e.hostId === rig.hostId && e.inventory?.running).map((e) => e.inventory?.step ?? "");
      expect(steps[0]).toBe("listing disks (lsblk)");
      for (const step of steps)
        expect(step).toMatch(
          /^(starting|listing disks \(lsblk\)|listing pools \(zpool\)|listing \/dev\/disk\/by-id|data at rest \(wipefs, partx\)|SMART of \S+ \(1 of 1\))$/,
        );
      expect((await state()).host).toMatchObject({ status: "ok", statusReason: null });
    } finally {
      rmSync(control("lsblk.sleep"), { force: true });
      await setSetting("hostListSeconds", "60");
    }
  });

  it("keeps only by-id names that pass the device-path check", async () => {
    const loop = path.basename(rig.host.loops[0]?.device as string);
    // The host lists three links to the drive; two would lead badblocks elsewhere or into a shell.
    writeFileSync(
      control("find.out"),
      [`.. ../../${loop}`, `wwn-0x5000$(reboot) ../../${loop}`, `ata-KILN_SAFE_1 ../../${loop}`, ""].join("\n"),
    );
    try {
      expect((await refresh())?.__typename).toBe("RefreshInventorySuccess");
      expect((await state()).drives).toEqual([expect.objectContaining({ byIdPath: "/dev/disk/by-id/ata-KILN_SAFE_1" })]);
    } finally {
      rmSync(control("find.out"));
    }
  });
});
