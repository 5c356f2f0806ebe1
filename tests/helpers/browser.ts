// A real browser for UI tests: Debian's Chromium driven by playwright-core (never a downloaded
// browser), and the web client built from the current source into a temporary directory that
// Kiln serves (KILN_CLIENT_DIR). Without /usr/bin/chromium a clone skips the browser tests with a
// notice; under CI a missing browser is an error (.ci/run installs it).
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { inject } from "vitest";
import { tempDir } from "./temp-db.js";

const CHROMIUM = process.env.KILN_TEST_CHROMIUM ?? "/usr/bin/chromium";

export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`CI needs Chromium at ${CHROMIUM} (apt-get install chromium)`);
  console.warn(`notice: ${CHROMIUM} is missing; the browser tests are skipped (apt-get install chromium; CI never skips them)`);
  return false;
}

/** The web client the browser project's global setup built once for every file. */
export function builtClient(): string {
  return inject("clientDir");
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browser> {
  const home = tempDir("kiln-chromium-");
  for (const dir of ["config", "cache"]) mkdirSync(path.join(home, dir));
  const context = await chromium.launchPersistentContext(path.join(home, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, "config"), XDG_CACHE_HOME: path.join(home, "cache") },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  return { context, page, pageErrors, close: () => context.close() };
}

/** A first start's only screen: create the admin account (admin / correct horse battery), signed in at once. */
export async function createAdmin(page: Page, baseUrl: string): Promise<void> {
  await page.goto(baseUrl);
  const setup = page.getByRole("form", { name: "Create the admin account" });
  await setup.getByLabel("User name").fill("admin");
  await setup.getByLabel("Password", { exact: true }).fill("correct horse battery");
  await setup.getByLabel("Repeat the password").fill("correct horse battery");
  await setup.getByRole("button", { name: "Create the admin account" }).click();
  await page.getByText("Signed in as admin (admin)").waitFor();
}
