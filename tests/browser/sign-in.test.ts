// The web UI's front door in a real browser, with accounts on (the default): a Kiln with no
// account offers only "create the admin account"; a signed-out browser only the sign-in form; the
// session cookie is invisible to the page's scripts; signing out, or a session ended on the
// server, brings the sign-in form back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { type Browser, browserAvailable, builtClient, openBrowser } from "../helpers/browser.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";

describe.runIf(browserAvailable())("web UI sign-in", () => {
  let kiln: RunningKiln;
  let browser: Browser;

  beforeAll(async () => {
    const clientDir = builtClient();
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], { KILN_INVENTORY_INTERVAL: "0", KILN_CLIENT_DIR: clientDir }),
      () => {},
    );
    browser = await openBrowser();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await kiln?.stop();
    removeTempDirs();
  });

  it("offers only the admin setup on first start, checks the form, then shows the drives", async () => {
    const { page } = browser;
    await page.goto(kiln.url);
    const setup = page.getByRole("form", { name: "Create the admin account" });
    await setup.waitFor();
    // Nothing else is there before an admin exists.
    expect(await page.getByRole("table").count()).toBe(0);

    await setup.getByLabel("Password", { exact: true }).fill("correct horse battery");
    await setup.getByLabel("Repeat the password").fill("correct horse batterY");
    await setup.getByRole("button", { name: "Create the admin account" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("the two passwords differ");

    await setup.getByLabel("Password", { exact: true }).fill("too short");
    await setup.getByLabel("Repeat the password").fill("too short");
    await setup.getByRole("button", { name: "Create the admin account" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("password: must be at least 12 characters");
    expect(await kiln.database.db.user.count()).toBe(0);

    await setup.getByLabel("Password", { exact: true }).fill("correct horse battery");
    await setup.getByLabel("Repeat the password").fill("correct horse battery");
    await setup.getByRole("button", { name: "Create the admin account" }).click();
    await page.getByText("Signed in as admin (admin)").waitFor();
    // The demo host's 4 drives, read through GraphQL with the session cookie and the CSRF header.
    await expect.poll(() => page.locator("tbody tr").filter({ hasText: "demo" }).count(), { timeout: 30_000 }).toBe(4);
    // The session cookie is HttpOnly: no script on the page can read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("kiln_session");
    expect((await browser.context.cookies()).find((c) => c.name === "kiln_session")).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    expect(browser.pageErrors).toEqual([]);
  });

  it("signs out, refuses a wrong password with a message, and signs in again", async () => {
    const { page } = browser;
    await page.getByRole("button", { name: "Sign out" }).click();
    const login = page.getByRole("form", { name: "Sign in" });
    await login.waitFor();
    expect(await page.getByRole("table").count()).toBe(0);
    await login.getByLabel("User name").fill("admin");
    await login.getByLabel("Password").fill("not the password");
    await login.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("wrong user name or password");
    await login.getByLabel("Password").fill("correct horse battery");
    await login.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Signed in as admin (admin)").waitFor();
    await expect.poll(() => page.locator("tbody tr").filter({ hasText: "demo" }).count(), { timeout: 30_000 }).toBe(4);
  });

  it("goes back to the sign-in form when the server ends the session", async () => {
    const { page } = browser;
    await kiln.database.db.session.updateMany({ where: { revokedAt: null }, data: { revokedAt: new Date() } });
    await page.reload();
    await page.getByRole("form", { name: "Sign in" }).waitFor();
    expect(await page.getByText("Signed in as").count()).toBe(0);
    expect(browser.pageErrors).toEqual([]);
  });
});
