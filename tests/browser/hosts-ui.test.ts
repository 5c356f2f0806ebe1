// The Hosts screen in Chromium against a real sshd: store a key, add a host (a bad port is refused
// naming the field), compare the key Kiln was shown with the host's own, trust it, read the
// drives, remove the host. Nothing is run on the host before its key is trusted. Beside the demo
// host, the SSH host's drive table lines up column for column with the demo's (at 1400 px the
// tables of different hosts had columns of different widths).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { type Browser, browserAvailable, builtClient, createAdmin, openBrowser } from "../helpers/browser.js";
import { type BurnInHost, startBurnInHost } from "../helpers/burn-in-host.js";
import { cleanupLoops } from "../helpers/loop-devices.js";
import { smartctlFixtureDir } from "../helpers/shared-fixtures.js";
import type { TestSshd } from "../helpers/sshd.js";
import { migratedDataDir, removeTempDirs, tempDir } from "../helpers/temp-db.js";
import { MiB } from "../helpers/units.js";

const fixtures = smartctlFixtureDir();

describe.runIf(browserAvailable() && fixtures !== null)("the Hosts screen", () => {
  let kiln: RunningKiln;
  let browser: Browser;
  // One loop device whose SMART is a recorded drive's: a host with a drive of its own to list.
  let host: BurnInHost;
  let sshd: TestSshd;
  const work = tempDir("kiln-hosts-ui-");

  beforeAll(async () => {
    const clientDir = builtClient();
    host = await startBurnInHost(fixtures as string, work, 1, 16 * MiB);
    sshd = host.sshd;
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], { KILN_INVENTORY_INTERVAL: "0", KILN_CLIENT_DIR: clientDir }),
      () => {},
    );
    browser = await openBrowser();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await kiln?.stop();
    await host?.stop();
    cleanupLoops();
    removeTempDirs();
  });

  it("adds an SSH host, shows its key to compare, runs nothing there until it is trusted, then reads its drives", async () => {
    const { page } = browser;
    page.on("dialog", (dialog) => void dialog.accept()); // the remove confirmation
    await page.setViewportSize({ width: 1400, height: 900 });
    await createAdmin(page, kiln.url);
    await expect.poll(() => page.locator("table.drives").count(), { timeout: 30_000 }).toBe(1);
    const sshHosts = () => kiln.database.db.host.count({ where: { transport: "ssh" } });

    await page.getByRole("link", { name: "Hosts" }).click();
    const upload = page.getByRole("form", { name: "Store an SSH key" });
    await upload.getByLabel("Key name").fill("lab");
    await upload.getByLabel("Private key (PEM or OpenSSH)").fill(readFileSync(sshd.clientKeyPath, "utf8"));
    await upload.getByRole("button", { name: "Store key" }).click();
    await upload.getByRole("status").filter({ hasText: "Stored key lab" }).waitFor();

    const add = page.getByRole("form", { name: "Add an SSH host" });
    await add.getByLabel("Name", { exact: true }).fill("lab");
    await add.getByLabel("Address").fill(sshd.host);
    await add.getByLabel("Port").fill("70000");
    await add.getByLabel("User").fill("root");
    await add.getByLabel("Key name").fill("lab");
    await add.getByRole("button", { name: "Add host" }).click();
    await expect.poll(() => add.getByRole("alert").textContent()).toMatch(/^port: /);
    expect(await sshHosts()).toBe(0);

    await add.getByLabel("Port").fill(String(sshd.port));
    await add.getByRole("button", { name: "Add host" }).click();
    await add.getByRole("status").filter({ hasText: "Added lab" }).waitFor();
    const card = page.getByRole("article", { name: "Host lab" });
    // The key Kiln was shown, as ssh-keygen prints it on the host, with the command to compare.
    await card.locator(".fingerprint code").first().waitFor();
    expect(await card.locator(".fingerprint code").first().textContent()).toBe(sshd.fingerprint());
    expect(await card.getByText("ssh-keygen -lf").count()).toBe(1);
    expect(sshd.log()).not.toMatch(/Accepted publickey/);

    await card.getByRole("button", { name: "Trust this key" }).click();
    await card.getByRole("button", { name: "Trust this key" }).waitFor({ state: "detached" });
    // Trusted, the host's drives are read at once, and the card says so (it showed
    // "unknown · 0 drives" until Refresh was clicked).
    await card.getByRole("status", { name: "Inventory" }).waitFor({ timeout: 30_000 });
    await card.getByRole("status").filter({ hasText: "drives read again" }).waitFor({ timeout: 60_000 });
    await card.getByRole("button", { name: "Refresh inventory" }).click();
    await card.getByRole("status").filter({ hasText: "drives read again" }).waitFor({ timeout: 60_000 });
    await expect.poll(() => card.locator(".badge").first().textContent()).toBe("ok");
    expect(sshd.log()).toMatch(/Accepted publickey for root/);

    // The dashboard: the demo host's table and this host's, their columns at the same places and
    // widths although what they hold differs (file-backed demo drives, this machine's own disk).
    await page.getByRole("link", { name: "Dashboard" }).click();
    await expect.poll(() => page.locator("table.drives").count(), { timeout: 30_000 }).toBe(2);
    const columns = () =>
      page
        .locator("table.drives")
        .evaluateAll((tables) =>
          tables.map((t) =>
            [...t.querySelectorAll("thead th")].map((th) => th.getBoundingClientRect()).map((r) => [Math.round(r.x), Math.round(r.width)]),
          ),
        );
    const [demoColumns, labColumns] = await columns();
    expect(demoColumns).toHaveLength(14);
    expect(labColumns).toEqual(demoColumns);
    // No cell is cut short at this width: the header of every column fits it.
    expect(
      await page.locator("table.drives thead th").evaluateAll((ths) => ths.filter((th) => th.scrollWidth > th.clientWidth).length),
    ).toBe(0);
    // Each drive's SMART health has its column (the data was fetched and not shown).
    expect(await page.locator('table.drives td[data-label="Health"]').first().textContent()).toMatch(/^(ok|FAILED|–)$/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1400);
    await page.getByRole("link", { name: "Hosts" }).click();

    // A colleague adds a host through the API: the page shows it without a reload, and its
    // removal too (hostUpdated).
    const login = await fetch(`${kiln.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "correct horse battery" }),
    });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const api = async (query: string, variables: Record<string, unknown>) => {
      const response = await fetch(`${kiln.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, "x-kiln-csrf": "1" },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: Record<string, { __typename: string; data?: { id: string } }> };
    };
    const added = await api(
      "mutation($input: HostInput!) { addHost(input: $input) { __typename ... on AddHostSuccess { data { id } } } }",
      { input: { name: "colleague", transport: "ssh", address: sshd.host, port: sshd.port, username: "root", privateKeyPath: "lab" } },
    );
    expect(added.data?.addHost?.__typename).toBe("AddHostSuccess");
    const other = page.getByRole("article", { name: "Host colleague" });
    await other.waitFor({ timeout: 30_000 });
    await api("mutation($id: ID!) { removeHost(id: $id) { __typename } }", { id: added.data?.addHost?.data?.id });
    await other.waitFor({ state: "detached", timeout: 30_000 });

    await card.getByRole("button", { name: "Remove" }).click();
    await card.waitFor({ state: "detached" });
    expect(await sshHosts()).toBe(0);
    expect(browser.pageErrors).toEqual([]);
  });
});
