// Three tabs of the web UI open at once in Debian's Chromium against a real `kiln serve --demo`
// (accounts on). Each tab holds one WebSocket for all its live data, and no event streams over
// HTTP: with three SSE streams per tab, Chromium's 6 connections per host were used up by two
// tabs, and a click in the first opened no drawer while a third tab never loaded. Here every tab
// loads, opens a drive's drawer, and follows a burn-in started from another tab, live.

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, browserAvailable, builtClient, createAdmin, openBrowser } from "../helpers/browser.js";
import { type ServingKiln, serveKiln } from "../helpers/kiln-process.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

const PAGE_WAIT_MS = 120_000;

describe.runIf(browserAvailable())("several tabs of the web UI", () => {
  let kiln: ServingKiln;
  let browser: Browser;
  const sockets = new Map<Page, number>();
  const eventStreams = new Map<Page, number>();

  const watch = (page: Page) => {
    sockets.set(page, 0);
    eventStreams.set(page, 0);
    page.on("websocket", (ws) => {
      if (new URL(ws.url()).pathname === "/graphql") sockets.set(page, (sockets.get(page) ?? 0) + 1);
    });
    page.on("response", (response) => {
      if ((response.headers()["content-type"] ?? "").startsWith("text/event-stream"))
        eventStreams.set(page, (eventStreams.get(page) ?? 0) + 1);
    });
  };

  beforeAll(async () => {
    const clientDir = builtClient();
    kiln = await serveKiln(["--port", "0", "--data", migratedDataDir("kiln-tabs-"), "--demo"], {
      KILN_INVENTORY_INTERVAL: "0",
      KILN_CLIENT_DIR: clientDir,
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
    "loads three tabs, opens a drawer in each, and shows a burn-in started in one live in the others, over one socket per tab",
    async () => {
      const first = browser.page;
      watch(first);
      await createAdmin(first, kiln.url);
      const tabs = [first];
      for (let i = 0; i < 2; i++) {
        const tab = await browser.context.newPage();
        watch(tab);
        await tab.goto(kiln.url);
        tabs.push(tab);
      }
      for (const tab of tabs) await expect.poll(() => tab.locator("tr[data-serial]").count(), { timeout: PAGE_WAIT_MS }).toBe(4);
      const serials = await first
        .locator("tr[data-serial]")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-serial") as string));

      // A click on a drive in each tab (the first tab last: it is the one that hung) opens its drawer.
      for (const [i, tab] of [...tabs.entries()].reverse()) {
        const serial = serials[i] as string;
        await tab.locator(`tr[data-serial="${serial}"]`).getByRole("link").click();
        await tab.getByRole("complementary", { name: `Drive ${serial}` }).waitFor({ timeout: PAGE_WAIT_MS });
        await tab.getByRole("link", { name: "Close the drawer" }).click();
      }

      // A burn-in started in the third tab shows as running in the first two, as it happens.
      const third = tabs[2] as Page;
      const serial = serials[3] as string;
      await third.getByRole("checkbox", { name: `Select ${serial}` }).check();
      await third.getByRole("button", { name: "Start burn-in (1)" }).click();
      await third.getByRole("dialog").getByRole("combobox", { name: "Profile" }).selectOption("quick");
      await third.getByRole("dialog").getByRole("button", { name: "Start", exact: true }).click();
      for (const tab of tabs) {
        await expect
          .poll(() => tab.locator(`tr[data-serial="${serial}"] .badge`).first().textContent(), { timeout: PAGE_WAIT_MS })
          .toBe("passed");
      }
      for (const tab of tabs) {
        // One socket each for everything live; nothing streamed over HTTP.
        expect(sockets.get(tab)).toBe(1);
        expect(eventStreams.get(tab)).toBe(0);
      }
      expect(browser.pageErrors).toEqual([]);
    },
    PAGE_WAIT_MS * 4,
  );
});
