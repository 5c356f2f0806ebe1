// The standard profile's fio scan as an operator watches it, in Debian's Chromium against a real
// `kiln serve --demo` (accounts on): started from the dialog (its default profile), its drawer
// shows the scan's speed and the completion latencies of fio's last status interval (median,
// 99th percentile, slowest) as they come, and the scan is cancelled from there. A badblocks scan
// reports no latencies and shows none (burn-in-ui.test.ts). Screenshot: drawer-fio.png.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, browserAvailable, builtClient, createAdmin, openBrowser } from "../helpers/browser.js";
import { type ServingKiln, serveKiln } from "../helpers/kiln-process.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";
import { msOf } from "../helpers/units.js";

const SCREENSHOTS = path.resolve(import.meta.dirname, "..", "..", "test-artifacts", "screenshots");
const PAGE_WAIT_MS = 120_000;
/** A hard drive of the demo host (its SSD would ask to confirm a write scan first). */
const SERIAL = "KDEMO-A1001";

describe.runIf(browserAvailable())("a fio scan in the web UI", () => {
  let kiln: ServingKiln;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const clientDir = builtClient();
    kiln = await serveKiln(["--port", "0", "--data", migratedDataDir("kiln-fio-ui-"), "--demo"], {
      KILN_INVENTORY_INTERVAL: "0",
      KILN_CLIENT_DIR: clientDir,
      // fio at 8 MiB/s: the 256 MiB write takes half a minute, a report a second. Self-tests of 1 and 2 s.
      KILN_DEMO_PACE: "rate=8,short=1,long=2",
    });
    browser = await openBrowser();
    await browser.page.setViewportSize({ width: 1280, height: 900 });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    kiln?.child.kill("SIGTERM");
    await kiln?.exited;
    removeTempDirs();
  });

  it(
    "shows the scan's latencies in the drawer as fio reports them: median, 99th percentile and slowest",
    async () => {
      const page = browser.page;
      page.on("dialog", (dialog) => void dialog.accept()); // the cancel confirmation
      await createAdmin(page, kiln.url);
      const row = page.locator(`tr[data-serial="${SERIAL}"]`);
      await row.waitFor({ timeout: PAGE_WAIT_MS });
      await page.getByRole("checkbox", { name: `Select ${SERIAL}` }).check();
      await page.getByRole("button", { name: "Start burn-in (1)" }).click();
      const dialog = page.getByRole("dialog");
      await expect.poll(() => dialog.getByLabel("Profile").inputValue()).toBe("standard");
      await dialog.getByLabel(/Type its serial to confirm$/).fill(SERIAL);
      await dialog.getByRole("button", { name: "Erase and start" }).click();
      await row.locator(".badge.run").waitFor({ timeout: PAGE_WAIT_MS });
      await row.getByRole("link").click();
      const drawer = page.getByRole("complementary", { name: `Drive ${SERIAL}` });
      await drawer.waitFor({ timeout: PAGE_WAIT_MS });

      // Before fio's first report: the vital is there, with nothing in it yet.
      const latency = drawer.getByTestId("vital-latency");
      await latency.waitFor({ timeout: PAGE_WAIT_MS });
      // Then each report's interval: "p50 x · p99 y · max z", in order.
      const shown = /^p50 (\S+ \S+) · p99 (\S+ \S+) · max (\S+ \S+)$/;
      await expect.poll(() => latency.textContent(), { timeout: PAGE_WAIT_MS, interval: 250 }).toMatch(shown);
      const [, p50, p99, max] = shown.exec((await latency.textContent()) ?? "") as RegExpExecArray;
      expect(msOf(p50 as string)).toBeGreaterThan(0);
      expect(msOf(p99 as string)).toBeGreaterThanOrEqual(msOf(p50 as string));
      expect(msOf(max as string)).toBeGreaterThanOrEqual(msOf(p99 as string));
      expect(await page.getByText("Latency", { exact: true }).count()).toBe(1);
      // Live: the figures follow fio's reports (a new interval, a new text) while the write runs.
      const first = await latency.textContent();
      await expect.poll(() => latency.textContent(), { timeout: PAGE_WAIT_MS, interval: 250 }).not.toBe(first);
      await expect.poll(() => drawer.getByTestId("vital-speed").textContent(), { timeout: PAGE_WAIT_MS }).toMatch(/ MB\/s$/);
      await page.screenshot({ path: path.join(SCREENSHOTS, "drawer-fio.png"), fullPage: true });

      await drawer.getByRole("button", { name: "Cancel burn-in" }).click();
      await page.locator('.job-view[data-job-status="cancelled"]').waitFor({ timeout: PAGE_WAIT_MS });
      // No scan runs: no figures of one.
      await expect.poll(() => latency.textContent(), { timeout: 30_000 }).toBe("–");
      expect(browser.pageErrors).toEqual([]);
    },
    PAGE_WAIT_MS * 3,
  );
});
