// Every screen of the web UI through axe-core in Debian's Chromium, at a desktop's width (1400 px)
// and a phone's (390 px), against a real `kiln serve --demo` with accounts on: the dashboard, the
// start dialog, a drive's drawer with a finished job, History, Hosts, Settings and /verify. No
// serious or critical violation is allowed (the UI was found with color-contrast failures on the
// current pattern's label, 4.26:1, and the progress bar's text, 4.07:1). The start dialog's
// focus goes back to the button that opened it when it closes (it fell to the page's body), and a
// new API token's secret has a Copy button.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seriousViolations } from "../helpers/axe.js";
import { type Browser, browserAvailable, builtClient, createAdmin, openBrowser } from "../helpers/browser.js";
import { waitsBudget } from "../helpers/burn-in-host.js";
import { type ServingKiln, serveKiln } from "../helpers/kiln-process.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

const PAGE_WAIT_MS = 120_000;

describe.runIf(browserAvailable())("the web UI's accessibility", () => {
  let kiln: ServingKiln;
  let browser: Browser;

  beforeAll(async () => {
    kiln = await serveKiln(["--port", "0", "--data", migratedDataDir("kiln-a11y-"), "--demo"], {
      KILN_INVENTORY_INTERVAL: "0",
      KILN_CLIENT_DIR: builtClient(),
    });
    browser = await openBrowser();
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    kiln?.child.kill("SIGTERM");
    await kiln?.exited;
    removeTempDirs();
  });

  it(
    "has no serious or critical axe violation on any screen, at 1400 and at 390 px",
    async () => {
      const page = browser.page;
      await page.setViewportSize({ width: 1400, height: 900 });
      await createAdmin(page, kiln.url);
      await expect.poll(() => page.locator("tr[data-serial]").count(), { timeout: PAGE_WAIT_MS }).toBe(4);
      const serial = (await page.locator("tr[data-serial]").first().getAttribute("data-serial")) as string;
      // A finished job for the drawer: the quick profile (SMART only) on the first demo drive.
      await page.getByRole("checkbox", { name: `Select ${serial}` }).check();
      const opener = page.getByRole("button", { name: "Start burn-in (1)" });
      await opener.click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("Profile").selectOption("quick");
      const problems: Record<string, string[]> = {};
      problems["start dialog, 1400 px"] = await seriousViolations(page);
      // Closed without starting, the dialog gives focus back to the button that opened it.
      const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
      await dialog.getByRole("button", { name: "Close" }).click();
      await dialog.waitFor({ state: "detached" });
      await expect.poll(focused).toBe("Start burn-in (1)");
      await opener.click();
      await dialog.getByLabel("Profile").selectOption("quick");
      await dialog.getByRole("button", { name: "Start", exact: true }).click();
      await dialog.waitFor({ state: "detached" });
      // Started, the button is disabled (nothing selected): focus goes to the drive started.
      await expect.poll(focused).toBe(`${serial}.img`);
      const row = page.locator(`tr[data-serial="${serial}"]`);
      await expect.poll(() => row.locator(".badge").first().textContent(), { timeout: PAGE_WAIT_MS }).toBe("passed");

      for (const width of [1400, 390]) {
        await page.setViewportSize({ width, height: width > 400 ? 900 : 844 });
        // Each screen: where it is, and what shows it is drawn (the drawer opens from the dashboard).
        const screens: Array<[string, string | null, () => Promise<void>]> = [
          ["dashboard", "/", () => row.waitFor()],
          [
            "drawer",
            null,
            async () => {
              await row.getByRole("link").click();
              await page.getByRole("region", { name: "Verdict" }).waitFor({ timeout: PAGE_WAIT_MS });
            },
          ],
          ["history", "/history", () => page.locator("table.history tbody tr").first().waitFor()],
          ["hosts", "/hosts", () => page.getByText("demo").first().waitFor()],
          ["settings", "/settings", () => page.locator("form.settings-form").waitFor()],
          ["verify", "/verify", () => page.getByRole("heading").first().waitFor()],
          ["users", "/admin", () => page.locator("table.audit tbody tr").first().waitFor()],
        ];
        for (const [name, route, shown] of screens) {
          if (route) await page.goto(`${kiln.url}${route}`);
          await shown();
          problems[`${name}, ${width} px`] = await seriousViolations(page);
        }
      }
      // An admin's screen of accounts and the audit log (there was none): add an operator, make
      // them a viewer, disable them; each step is in the log, newest first.
      page.on("dialog", (d) => void d.accept());
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.goto(kiln.url);
      await page.getByRole("link", { name: "Users", exact: true }).click();
      const add = page.getByRole("form", { name: "Add a user" });
      await add.getByLabel("User name").fill("olga");
      await add.getByLabel("Password (at least 12 characters)").fill("correct horse battery");
      await add.getByLabel("Role").selectOption("operator");
      await add.getByRole("button", { name: "Add user" }).click();
      await page.getByRole("status").filter({ hasText: "Added olga." }).waitFor();
      const olga = page.locator('tr[data-username="olga"]');
      await olga.getByLabel("Role of olga").selectOption("viewer");
      await page.getByRole("status").filter({ hasText: "olga is now viewer." }).waitFor();
      await olga.getByRole("button", { name: "Disable" }).click();
      await olga.getByText(/^disabled /).waitFor();
      await page.reload();
      await expect
        .poll(() => page.locator("table.audit tbody tr td.mono").allTextContents())
        .toEqual(expect.arrayContaining(["user.create", "user.update"]));
      expect(await page.locator("table.audit tbody tr").first().locator("td.mono").first().textContent()).toBe("user.update");

      // A token's secret, shown once, has a Copy button that puts it on the clipboard.
      await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: kiln.url });
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.goto(`${kiln.url}/settings`);
      const tokens = page.locator("form.inline-form");
      await tokens.getByLabel("Name").fill("grafana");
      await tokens.getByRole("button", { name: "Create token" }).click();
      const secret = (await page.locator("#token-secret").textContent())?.trim() ?? "";
      expect(secret.length).toBeGreaterThan(20);
      await page.getByRole("button", { name: "Copy" }).click();
      await page.getByText("copied", { exact: true }).waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
      problems["settings with a new token, 1400 px"] = await seriousViolations(page);

      const found = Object.entries(problems).filter(([, v]) => v.length);
      expect(found, found.map(([screen, v]) => `${screen}:\n  ${v.join("\n  ")}`).join("\n")).toEqual([]);
      expect(browser.pageErrors).toEqual([]);
    },
    waitsBudget(2),
  );
});
