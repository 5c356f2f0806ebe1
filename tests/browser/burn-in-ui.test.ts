// The operator's UI end to end, in Debian's Chromium against a real `kiln serve --demo` (accounts
// on): create the admin, start a full burn-in on a demo drive and watch its drawer's meters go
// through all 8 phases to the verdict with the MB/s chart drawn, cancel another job, restart the
// server mid-job and see the page recover by itself, and export the history as CSV.
// Screenshots of the dashboard and the drawer are kept in test-artifacts/screenshots/.
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seriousViolations } from "../helpers/axe.js";
import { type Browser, browserAvailable, builtClient, createAdmin, openBrowser } from "../helpers/browser.js";
import { waitsBudget } from "../helpers/burn-in-host.js";
import { type ServingKiln, serveKiln } from "../helpers/kiln-process.js";
import { freePort } from "../helpers/sshd.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

const SCREENSHOTS = path.resolve(import.meta.dirname, "..", "..", "test-artifacts", "screenshots");
/** Waits on the page: generous for a loaded 2-core machine (a demo burn-in takes 1-3 minutes). */
const PAGE_WAIT_MS = 240_000;

/** The element lies wholly within the first `height` px of the page, as scrolled to the top. */
async function inFirstScreen(locator: Locator, height: number): Promise<void> {
  const box = await locator.boundingBox();
  expect(box, "shown").not.toBeNull();
  expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(height);
}

describe.runIf(browserAvailable())("the operator's web UI", () => {
  let kiln: ServingKiln;
  let browser: Browser;
  let port: number;
  const dataDir = migratedDataDir("kiln-ui-");
  let clientDir: string;

  const serve = () =>
    serveKiln(["--port", String(port), "--data", dataDir, "--demo"], {
      KILN_INVENTORY_INTERVAL: "0",
      KILN_CLIENT_DIR: clientDir,
      // A block at a time (each pass a few seconds: every pattern is seen), no read delay unless
      // a job asks for one, self-tests of 1 and 2 s.
      KILN_DEMO_PACE: "blocks=1,delay=0,short=1,long=2",
    });
  const stopKiln = async () => {
    kiln.child.kill("SIGTERM");
    await kiln.exited;
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    clientDir = builtClient();
    port = await freePort();
    kiln = await serve();
    browser = await openBrowser();
    await browser.page.setViewportSize({ width: 1280, height: 900 });
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    if (kiln && kiln.child.exitCode === null) await stopKiln();
    removeTempDirs();
  });

  const row = (serial: string) => browser.page.locator(`tr[data-serial="${serial}"]`);

  it(
    "runs a full burn-in from the dashboard, shows all 8 phases in the drawer, survives a server restart, and exports the history",
    async () => {
      const { page } = browser;
      page.on("dialog", (dialog) => void dialog.accept()); // the cancel confirmation
      // First start: only the admin setup.
      await createAdmin(page, kiln.url);

      // The dashboard: 4 demo drives, idle, temperatures coloured.
      await expect.poll(() => page.locator("tr[data-serial]").count(), { timeout: 30_000 }).toBe(4);
      const serials = await page.locator("tr[data-serial]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-serial") as string));
      const [first, second] = serials as [string, string];
      expect(await row(first).locator(".temp").getAttribute("class")).toMatch(/temp (cool|warm|hot)/);

      // Settings: read the demo scans' logs every half second, so their 2-second write phases
      // are seen by the runner (and so by the page) more than once.
      await page.getByRole("link", { name: "Settings" }).click();
      // One form, typed controls, one Save (there were 23 Save buttons and a true/false text box).
      const form = page.locator("form.settings-form");
      await form.waitFor();
      expect(await form.getByRole("button", { name: /^Save/ }).count()).toBe(1);
      expect(await form.getByRole("checkbox", { name: /^Thermal protection/ }).count()).toBe(1);
      await form.getByLabel("Read a scan's log every").fill("0.5");
      const hot = form.getByLabel("Shown hot from");
      // A value the field cannot take is said at the field, before anything is sent.
      await hot.fill("48.5");
      await form.getByRole("button", { name: "Save 2 changes" }).click();
      await expect.poll(() => form.locator("#setting-temperatureHotC-problem").textContent()).toBe("must be a whole number");
      expect(await hot.getAttribute("aria-invalid")).toBe("true");
      // One the server refuses (hot below warm) refuses them all, said at the field, in words.
      await hot.fill("30");
      await form.getByRole("button", { name: "Save 2 changes" }).click();
      await expect
        .poll(() => form.locator("#setting-temperatureHotC-problem").textContent())
        .toBe("warm must be below hot (42 against 30)");
      expect(await form.getByRole("alert").textContent()).toBe("Nothing saved: Kiln refused what is marked below.");
      await hot.fill("50");
      await form.getByRole("button", { name: "Save 2 changes" }).click();
      await form.getByRole("status").filter({ hasText: "Saved 2 settings." }).waitFor();
      // The answer updated the page's copy of the settings: nothing is left to save.
      await expect.poll(() => form.getByRole("button", { name: "Saved" }).isDisabled()).toBe(true);
      expect(await form.locator("#setting-temperatureHotC-problem").count()).toBe(0);
      await page.screenshot({ path: path.join(SCREENSHOTS, "settings.png"), fullPage: true });
      await page.getByRole("link", { name: "Dashboard" }).click();

      // Start a full burn-in on the first drive through the dialog.
      await page.getByRole("checkbox", { name: `Select ${first}` }).check();
      await page.getByRole("button", { name: "Start burn-in (1)" }).click();
      const dialog = page.getByRole("dialog", { name: "Start burn-in on 1 drive" });
      // Each drive as an operator tells it apart: serial, model, size, host (the dialog listed serials only).
      expect(await dialog.getByRole("list", { name: "Drives to start" }).textContent()).toMatch(
        new RegExp(`^${first} · Kiln Demo (HDD|SSD)[^·]* · \\d+ MB · demo`),
      );
      await dialog.getByLabel("Profile").selectOption("full");
      // How long it would take, before it starts (the demo drive's 256 MiB on a hard drive's curve).
      await expect
        .poll(() => dialog.getByTestId("profile-estimate").textContent())
        .toMatch(/^About \d+m \d\ds, estimated from the size and a typical speed curve for the drive's kind$/);
      await dialog.getByText("Advanced badblocks options").click();
      expect(await dialog.getByText("default: about 1 MiB per request").count()).toBe(1);
      // Erasing is typed for: the button waits for the drive's serial (it took one click).
      const erase = dialog.getByRole("button", { name: "Erase and start" });
      expect(await erase.isDisabled()).toBe(true);
      const confirm = dialog.getByLabel(`This erases every block of ${first}. Type its serial to confirm`);
      await confirm.fill("not it");
      expect(await erase.isDisabled()).toBe(true);
      await confirm.fill(first);
      await erase.click();
      await dialog.waitFor({ state: "detached" });
      await row(first).locator(".badge.run").waitFor({ timeout: 60_000 });

      // Its drawer, by its URL; every caption it shows is recorded as the page changes it.
      await row(first).getByRole("link").click();
      await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/drives\/\w+$/);
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { captions: string[] }).captions = seen;
        const record = () => {
          const text = document.querySelector('[data-testid="phase-caption"]')?.textContent;
          if (text && seen.at(-1) !== text) seen.push(text);
        };
        new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
        record();
      });
      const captions = () => page.evaluate(() => (window as unknown as { captions: string[] }).captions);
      const phasesSeen = async () =>
        new Set(
          (await captions()).flatMap((c) => {
            const m = /^Pattern (\d) of 4 · (Write|Verify) (0x\w\w)/.exec(c);
            return m ? [`${m[1]} ${m[2]} ${m[3]}`] : [];
          }),
        );
      await expect.poll(async () => (await phasesSeen()).has("2 Verify 0x55"), { timeout: PAGE_WAIT_MS, interval: 500 }).toBe(true);
      await page.screenshot({ path: path.join(SCREENSHOTS, "drawer-running.png"), fullPage: true });
      // A running scan's drawer (the current pattern's label, the meters) has no serious axe violation.
      expect(await seriousViolations(page)).toEqual([]);

      // To the end: every phase was shown, in order, then the verdict.
      await page.locator('.job-view[data-job-status="passed"]').waitFor({ timeout: PAGE_WAIT_MS });
      await page.getByRole("region", { name: "Verdict" }).getByText("Verdict: passed").waitFor({ timeout: 60_000 });
      await inFirstScreen(page.getByRole("region", { name: "Verdict" }), 900);
      // The README's picture (docs/drawer.png) is this screen.
      await page.screenshot({ path: path.join(SCREENSHOTS, "drawer-top.png") });
      const order = [...(await phasesSeen())];
      expect(order).toEqual([
        "1 Write 0xaa",
        "1 Verify 0xaa",
        "2 Write 0x55",
        "2 Verify 0x55",
        "3 Write 0xff",
        "3 Verify 0xff",
        "4 Write 0x00",
        "4 Verify 0x00",
      ]);
      expect(await page.getByTestId("phase-caption").textContent()).toBe("All 4 patterns written and verified");
      // The meters are full, the finished patterns have durations, the MB/s chart has its samples.
      const fills = await page.locator(".meter .fill").evaluateAll((els) => els.map((e) => (e as HTMLElement).style.width));
      expect(fills).toEqual(Array(8).fill("100%"));
      expect(await page.locator(".durations").textContent()).toMatch(/^0xaa: \S+.* · 0x55: .* · 0xff: .* · 0x00: /);
      const samples = Number(await page.locator("figure[data-samples]").getAttribute("data-samples"));
      expect(samples).toBeGreaterThan(8);
      expect(await page.locator("figure[data-samples] canvas").count()).toBe(1);
      expect(await page.locator("table.smart tbody tr").count()).toBeGreaterThan(0);
      // The SMART table marks what decides the verdict, and a temperature's drift is no change.
      const smartRow = (name: string) => page.locator("table.smart tbody tr").filter({ hasText: name }).first();
      expect(await smartRow("Reallocated sectors (5)").getAttribute("data-decides")).toBe("true");
      expect(await smartRow("Temperature (°C)").getAttribute("class")).toBeNull();
      // Every attribute, with the drive's normalised value, worst and threshold.
      await page.getByText(/^All \d+ SMART attributes/).click();
      const attributes = page.locator(".smart-attributes tbody tr");
      expect(await attributes.count()).toBeGreaterThan(3);
      expect(await page.locator(".smart-attributes thead th").allTextContents()).toEqual([
        "ID",
        "Attribute",
        "Value",
        "Worst",
        "Threshold",
        "Raw before",
        "Raw after",
      ]);
      expect(await attributes.filter({ hasText: "Reallocated_Sector_Ct" }).locator(".decides-mark").count()).toBe(1);
      // The temperature chart's time axis spans the job, not years (one reading drew Mar 2027 to Jun 2029).
      const temperature = page.locator("figure[data-readings]");
      expect(Number(await temperature.getAttribute("data-readings"))).toBeGreaterThan(0);
      const axis = temperature.locator(".chart");
      const span = Number(await axis.getAttribute("data-x-max")) - Number(await axis.getAttribute("data-x-min"));
      expect(span).toBeGreaterThan(0);
      expect(span).toBeLessThanOrEqual(3600);
      await page.screenshot({ path: path.join(SCREENSHOTS, "drawer-passed.png"), fullPage: true });
      // The signed report is one click away, for the signed-in browser (its session cookie).
      const pdfHref = await page.getByRole("link", { name: "PDF" }).getAttribute("href");
      expect(pdfHref).toMatch(/^\/reports\/[A-Za-z0-9_-]+\.pdf$/);
      const pdf = await page.evaluate(async (href) => {
        const r = await fetch(href as string);
        return {
          status: r.status,
          type: r.headers.get("content-type"),
          head: new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5)),
        };
      }, pdfHref);
      expect(pdf).toEqual({ status: 200, type: "application/pdf", head: "%PDF-" });

      // The dashboard shows the end as well, without a reload.
      await page.getByRole("link", { name: "Close the drawer" }).click();
      await expect.poll(() => row(first).locator(".badge").first().textContent(), { timeout: 60_000 }).toBe("passed");
      // Its verdict too, read again when the job's end came live (the column stayed empty), and
      // whole (it was cut to "verdi").
      const verdictCell = row(first).locator("td").last();
      await expect.poll(() => verdictCell.textContent(), { timeout: 30_000 }).toBe("verdict passed");
      expect(await verdictCell.evaluate((td) => td.scrollWidth <= td.clientWidth)).toBe(true);

      // A second burn-in: the server restarts under it, the page recovers by itself and follows
      // the job again; then it is paused, continued and cancelled from its drawer.
      // Its reads slowed down (-d 300) from the dialog: it runs long enough for all of that.
      await page.getByRole("checkbox", { name: `Select ${second}` }).check();
      await page.getByRole("button", { name: "Start burn-in (1)" }).click();
      const slow = page.getByRole("dialog");
      // The dialog offers the standard profile first (one fio pass); this one is badblocks'.
      await expect.poll(() => slow.getByLabel("Profile").inputValue()).toBe("standard");
      await slow.getByLabel("Profile").selectOption("full");
      await slow.getByText("Advanced badblocks options").click();
      await slow.getByLabel("Read delay (-d, %)").fill("300");
      await slow.getByLabel(/Type its serial to confirm$/).fill(second);
      await slow.getByRole("button", { name: "Erase and start" }).click();
      await row(second).locator(".badge.run").waitFor({ timeout: 60_000 });
      await page.screenshot({ path: path.join(SCREENSHOTS, "dashboard.png"), fullPage: true });
      await stopKiln();
      await page.getByText("Connection to Kiln lost").waitFor({ timeout: 60_000 });
      // What stays on the page is marked as old, and since when (it stood there as if live).
      await page.locator('main[data-stale="true"]').waitFor();
      expect(await page.getByTestId("stale-note").textContent()).toMatch(/^The figures below are as of \S+.* and not live\.$/);
      kiln = await serve();
      await page.getByText("Connection to Kiln lost").waitFor({ state: "detached", timeout: 60_000 });
      expect(await page.locator("main[data-stale]").count()).toBe(0);
      const progressOf = () => row(second).getByRole("progressbar").getAttribute("aria-valuenow").then(Number);
      const after = await progressOf();
      await expect.poll(progressOf, { timeout: PAGE_WAIT_MS, interval: 500 }).toBeGreaterThan(after);
      // The first rise can be the page's own reading after it reconnected; a second one is the
      // new Kiln's runner following the scan again, and only that one takes a pause (a pause
      // sent before it re-attached was refused: a flaky wait for "Paused" on a busy machine).
      const followed = await progressOf();
      await expect.poll(progressOf, { timeout: PAGE_WAIT_MS, interval: 500 }).toBeGreaterThan(followed);
      await row(second).getByRole("link").click();
      // Focus moves into the drawer as it opens (it stayed in the table behind it).
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label")), { timeout: 30_000 })
        .toBe("Close the drawer");
      // badblocks reports no request latencies: the drawer has no Latency vital (fio-scan-ui.test.ts).
      expect(await page.getByTestId("vital-latency").count()).toBe(0);
      // Once its scan runs: paused and continued from the drawer.
      await page.getByRole("button", { name: "Pause" }).click({ timeout: PAGE_WAIT_MS });
      // Paused, or the reason Kiln gave (shown in the drawer) as the failure.
      const paused = page.getByRole("status").filter({ hasText: /^Paused by an operator since / });
      const refused = page.locator(".job-view .actions [role=alert]");
      await paused.or(refused).first().waitFor({ timeout: PAGE_WAIT_MS });
      expect(await refused.count(), (await refused.allTextContents()).join("; ")).toBe(0);
      // The dashboard under the drawer says paused, not running (it said running before), with
      // no MB/s or time left while nothing moves.
      const badge = row(second).locator(".badge").first();
      await expect.poll(() => badge.textContent(), { timeout: 30_000 }).toBe("paused");
      expect(await badge.getAttribute("title")).toBe("paused by an operator");
      expect(await row(second).locator('td[data-label="MB/s"]').textContent()).toBe("–");
      await page.getByRole("button", { name: "Continue" }).click();
      await page
        .getByRole("status")
        .filter({ hasText: /^Paused by/ })
        .waitFor({ state: "detached", timeout: 30_000 });
      await expect.poll(() => badge.textContent(), { timeout: 30_000 }).toBe("running");
      await page.getByRole("button", { name: "Cancel burn-in" }).click();
      await page.locator('.job-view[data-job-status="cancelled"]').waitFor({ timeout: 60_000 });
      await page.getByRole("button", { name: "Resume" }).waitFor();
      // Escape closes the drawer (it did nothing).
      await page.keyboard.press("Escape");
      await expect.poll(() => new URL(page.url()).pathname, { timeout: 30_000 }).toBe("/");
      await page.locator("aside.drawer").waitFor({ state: "detached" });
      await expect.poll(() => row(second).locator(".badge").first().textContent(), { timeout: 60_000 }).toBe("cancelled");

      // History: both jobs, filtered, and the same set as CSV.
      await page.getByRole("link", { name: "History" }).click();
      await expect.poll(() => page.locator("table.history tbody tr").count(), { timeout: 30_000 }).toBe(2);
      await page.getByRole("checkbox", { name: "passed" }).first().check();
      await page.getByRole("button", { name: "Apply" }).click();
      await expect.poll(() => page.locator("table.history tbody tr").count(), { timeout: 30_000 }).toBe(1);
      expect(new URL(page.url()).searchParams.get("status")).toBe("passed");
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
      const csv = readFileSync(await download.path(), "utf8")
        .trim()
        .split("\n");
      expect(csv).toHaveLength(2);
      expect(csv[1]).toContain(first);
      expect(csv[1]).toContain("passed");

      // A phone's width: the page does not scroll sideways (wide tables scroll in their own box),
      // and the drawer takes the whole width.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.getByRole("link", { name: "Dashboard" }).click();
      await row(first).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      // Each drive is a card: its status, MB/s, time left and bad blocks on the screen, not off
      // to the side of a table that showed only Device and Serial.
      for (const cell of ['td[data-label="Temp"]', 'td[data-label="ETA"]', 'td[data-label="Bad blocks"]', ".badge"]) {
        const box = await row(first).locator(cell).first().boundingBox();
        expect(box && box.x >= 0 && box.x + box.width <= 390, `${cell} on the screen`).toBe(true);
      }
      await page.screenshot({ path: path.join(SCREENSHOTS, "dashboard-phone.png"), fullPage: true });
      await row(first).getByRole("link").click();
      await page.getByTestId("phase-caption").waitFor();
      expect((await page.locator("aside.drawer").boundingBox())?.width).toBe(390);
      // The outcome is on the first screen, with the report (it was 900-1,000 px down, under the charts).
      await inFirstScreen(page.getByRole("region", { name: "Verdict" }), 844);
      await inFirstScreen(page.getByRole("link", { name: "PDF" }), 844);
      await page.screenshot({ path: path.join(SCREENSHOTS, "drawer-phone.png") });
      // Every other screen fits the phone too (History and Settings were 565-592 px wide).
      await page.keyboard.press("Escape");
      for (const [screen, ready] of [
        ["History", "table.history"],
        ["Settings", "form.settings-form"],
        ["Hosts", "main h2"],
      ] as const) {
        await page.getByRole("link", { name: screen, exact: true }).click();
        await page.locator(ready).first().waitFor();
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        await page.screenshot({ path: path.join(SCREENSHOTS, `${screen.toLowerCase()}-phone.png`), fullPage: true });
        expect(width, `${screen} at 390 px`).toBeLessThanOrEqual(390);
      }
      expect(browser.pageErrors).toEqual([]);
    },
    waitsBudget(6),
  );
});
