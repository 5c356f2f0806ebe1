// Notification channels on the Settings screen in Chromium: an admin adds an ntfy channel that
// points at a receiver in the test, a bad address is refused naming the field, "Send test" reaches
// the receiver and the channel's delivery log shows it sent.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { type Browser, browserAvailable, builtClient, createAdmin, openBrowser } from "../helpers/browser.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

describe.runIf(browserAvailable())("notification channels in the UI", () => {
  let kiln: RunningKiln;
  let browser: Browser;
  const received: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      received.push({ url: req.url ?? "", headers: req.headers, body });
      res.writeHead(200).end("{}");
    });
  });

  beforeAll(async () => {
    const clientDir = builtClient();
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir()], { KILN_INVENTORY_INTERVAL: "0", KILN_CLIENT_DIR: clientDir }),
      () => {},
    );
    browser = await openBrowser();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await kiln?.stop();
    receiver.close();
    removeTempDirs();
  });

  it("adds an ntfy channel, refuses a bad address by name, and sends a test that arrives", async () => {
    const { page } = browser;
    await createAdmin(page, kiln.url);
    await page.getByRole("link", { name: "Settings" }).click();

    const form = page.getByRole("form", { name: "Add a notification channel" });
    await form.getByLabel("Name").fill("floor");
    await form.getByLabel("Kind").selectOption("ntfy");
    await form.getByLabel("Topic URL").fill("ftp://ntfy.example/kiln");
    await form.getByRole("button", { name: "Add channel" }).click();
    await expect.poll(() => form.getByRole("alert").textContent()).toMatch(/^config\.url: must be an http or https address/);

    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/kiln-floor`;
    await form.getByLabel("Topic URL").fill(url);
    await form.getByRole("button", { name: "Add channel" }).click();
    const card = page.getByRole("article", { name: "Channel floor" });
    await card.waitFor();
    expect(await card.textContent()).toContain("job.failed, job.unknown, batch.finished");

    await card.getByRole("button", { name: "Send test" }).click();
    await card.getByRole("status").filter({ hasText: "test sent" }).waitFor();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ url: "/kiln-floor", headers: { title: "Kiln test message for floor" } });
    await expect.poll(() => card.locator("table.deliveries tr").first().textContent()).toContain("sent");
  });
});
