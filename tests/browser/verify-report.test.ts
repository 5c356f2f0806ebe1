// A buyer checks a burn-in report in a browser, with no account: the QR code on the report's PDF
// (rendered by poppler's pdftoppm, read back by jsQR) opens /verify with the job id, SHA-256 and
// key id; the page reads the chosen file in the browser (WebCrypto Ed25519) and sends it nowhere.
// A valid file says so; one changed byte, a forged signature, another key's signature and another
// job's report each say why they are not valid.
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type jsQRFunction from "jsqr";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { canonicalJson } from "../../server/reports/canonical-json.js";
import { keyIdOf } from "../../server/reports/signing.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { type Browser, browserAvailable, builtClient, openBrowser } from "../helpers/browser.js";
import { migratedDataDir, removeTempDirs, tempDir } from "../helpers/temp-db.js";
import { until } from "../helpers/wait.js";

// A CommonJS package whose types say `export default`: its function is module.exports.
const jsQR = createRequire(import.meta.url)("jsqr") as typeof jsQRFunction.default;

interface SignedFile {
  report: { job: { id: string }; drive: { serial: string } };
  signature: { keyId: string; sha256: string; value: string };
}

describe.runIf(browserAvailable())("checking a report at /verify", () => {
  let kiln: RunningKiln;
  let browser: Browser;
  let accounts: Credentials;
  const work = tempDir("kiln-verify-");
  const jobs: string[] = [];
  const reportOf = async (jobId: string) => {
    const r = await fetch(`${kiln.url}/reports/${jobId}.json`, { headers: { authorization: `Bearer ${accounts.tokens.read}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as SignedFile;
  };

  beforeAll(async () => {
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], {
        KILN_INVENTORY_INTERVAL: "0",
        KILN_CLIENT_DIR: builtClient(),
        KILN_DEMO_PACE: "fast",
      }),
      () => {},
    );
    accounts = await setUpAccounts(kiln.url);
    const drives = await kiln.database.db.drive.findMany({ orderBy: { serial: "asc" }, take: 2 });
    const started = await gqlAs<{ startBurnIn: { data?: Array<{ id: string }> } }>(
      kiln.url,
      accounts.tokens.operate,
      "mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: quick) { ... on StartBurnInSuccess { data { id } } ... on Error { message } } }",
      { d: drives.map((d) => d.id) },
    );
    jobs.push(...(started.data?.startBurnIn.data ?? []).map((j) => j.id));
    expect(jobs, JSON.stringify(started)).toHaveLength(2);
    await until("both jobs ended", async () => {
      const rows = await kiln.database.db.burnInJob.findMany({ where: { id: { in: jobs } }, select: { status: true } });
      return rows.every((r) => r.status === "passed");
    });
    browser = await openBrowser();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await kiln?.stop();
    removeTempDirs();
  });

  it("opens from the PDF's QR code with no account, says valid for the file, and why not for an altered or forged one", async () => {
    const [jobId, otherJobId] = jobs as [string, string];
    const signed = await reportOf(jobId);
    // The PDF's QR code, as a phone camera would read it.
    const pdf = await fetch(`${kiln.url}/reports/${jobId}.pdf`, { headers: { authorization: `Bearer ${accounts.tokens.read}` } });
    expect(pdf.status).toBe(200);
    writeFileSync(path.join(work, "report.pdf"), Buffer.from(await pdf.arrayBuffer()));
    execFileSync("pdftoppm", ["-png", "-r", "150", path.join(work, "report.pdf"), path.join(work, "page")]);
    const pages = readdirSync(work)
      .filter((f) => /^page-\d+\.png$/.test(f))
      .sort();
    const codes = pages.flatMap((file) => {
      const png = PNG.sync.read(readFileSync(path.join(work, file)));
      const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
      return code ? [code.data] : [];
    });
    expect(codes).toHaveLength(1);
    const link = new URL(codes[0] as string);
    expect(`${link.origin}${link.pathname}`).toBe(`${kiln.url}/verify`);
    expect(Object.fromEntries(link.searchParams)).toEqual({ id: jobId, sha256: signed.signature.sha256, key: signed.signature.keyId });

    // A fresh browser with no session: what a buyer has.
    const { page } = browser;
    const sent: string[] = [];
    page.on("request", (request) => {
      if (request.method() !== "GET" || request.postData()) sent.push(`${request.method()} ${request.url()}`);
    });
    await page.goto(link.toString());
    await page.getByText(`This Kiln's key: ${signed.signature.keyId}`).waitFor();
    const choose = async (name: string, content: string) => {
      await page.getByLabel("Report file").setInputFiles({ name, mimeType: "application/json", buffer: Buffer.from(content) });
    };
    const verdict = () => page.locator("output").textContent();

    await choose("report.json", JSON.stringify(signed, null, 2));
    await expect
      .poll(verdict)
      .toBe(`Valid: report.json (job ${jobId}) was signed by ${signed.signature.keyId}, SHA-256 ${signed.signature.sha256}.`);

    // One byte of the drive's serial changed.
    const altered = structuredClone(signed);
    altered.report.drive.serial = `${signed.report.drive.serial.slice(0, -1)}X`;
    await choose("altered.json", JSON.stringify(altered));
    await expect.poll(verdict).toBe("Not valid: altered: its SHA-256 is not the one in the QR code.");

    // Without the QR code's figures: the page's own check of hash and signature.
    await page.goto(`${kiln.url}/verify`);
    await page.getByText(`This Kiln's key: ${signed.signature.keyId}`).waitFor();
    await choose("altered.json", JSON.stringify(altered));
    await expect.poll(verdict).toBe("Not valid: altered: its content is not what was signed.");
    // The hash made to match the altered content: the Ed25519 signature does not hold.
    const forged = structuredClone(altered);
    forged.signature.sha256 = createHash("sha256").update(canonicalJson(altered.report)).digest("hex");
    await choose("forged.json", JSON.stringify(forged));
    await expect.poll(verdict).toBe("Not valid: altered: the signature does not hold for this content.");
    // Signed, properly, by someone else's key.
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const otherKey = keyIdOf(publicKey);
    const foreign = {
      report: altered.report,
      signature: {
        ...signed.signature,
        keyId: otherKey,
        sha256: forged.signature.sha256,
        value: sign(null, Buffer.from(canonicalJson(altered.report)), privateKey).toString("base64"),
      },
    };
    await choose("foreign.json", JSON.stringify(foreign));
    await expect.poll(verdict).toBe(`Not valid: signed by another key (${otherKey}), not this Kiln's ${signed.signature.keyId}.`);
    // Not JSON.
    await choose("notes.txt", "not a report");
    await expect.poll(verdict).toBe("Not valid: the file is not JSON: not a Kiln report.");

    // Another job's valid report, opened from this job's QR code.
    await page.goto(link.toString());
    await page.getByText(`This Kiln's key: ${signed.signature.keyId}`).waitFor();
    await choose("other.json", JSON.stringify(await reportOf(otherJobId)));
    await expect.poll(verdict).toBe(`Not valid: this is the report of job ${otherJobId}, not ${jobId}.`);

    // Nothing was sent: the page only read its own files and the public key.
    expect(sent).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  });
});
