// Burn-in reports over real HTTP with accounts on, from a real `full` burn-in of a demo drive (real
// badblocks on a file) that thermal protection pauses on the way (its temperature is driven over
// the threshold, then down): the signed JSON, the HTML page, the PDF (read back with poppler's
// pdftotext), a shipment zip; `kiln verify` (the real command) says valid, altered or unknown key;
// and who may fetch what. The drive's model is set to markup, as a hostile host could report it;
// three earlier fast scans of its model make it a slow-drive outlier.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { REPORT_KEY_FILE } from "../../server/reports/signing.js";
import { readDemoState, writeDemoState } from "../../server/transport/demo-drives.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { waitsBudget } from "../helpers/burn-in-host.js";
import { runKiln } from "../helpers/kiln-process.js";
import { migratedDataDir, removeTempDirs, tempDir } from "../helpers/temp-db.js";
import { processState, until } from "../helpers/wait.js";

const HOSTILE_MODEL = 'DEMO <script>alert("x")</script> & co';

interface SignedReportJson {
  report: {
    kiln: { version: string };
    job: { id: string; status: string; profile: string };
    drive: { serial: string; model: string; sizeBytes: number };
    stages: Array<{
      name: string;
      status: string;
      seconds: number;
      pauses: Array<{ reason: string; temperatureC: number; continuedAt: string }>;
    }>;
    surfaceScan: {
      badBlocks: number;
      averageMbps: number;
      phases: Array<{ phase: number; pattern: string; mode: string; seconds: number; averageMbps: number; curve: Array<[number, number]> }>;
    };
    temperature: { minC: number; maxC: number; readings: number } | null;
    smart: { changes: Array<{ name: string; changed: boolean }> };
    verdict: { outcome: string; warnings: string[] };
    erasure: { claimed: boolean; coveredBytes: number; technique: string; capacity: { method: string } } | null;
  };
  signature: { keyId: string; sha256: string; value: string };
}

describe("signed burn-in reports", () => {
  let kiln: RunningKiln;
  let accounts: Credentials;
  let dataDir: string;
  let jobId: string;
  let runningJobId: string;
  const work = tempDir("kiln-reports-");
  const get = (route: string, token?: string) =>
    fetch(`${kiln.url}${route}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  beforeAll(async () => {
    dataDir = migratedDataDir();
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", dataDir, "--demo"], {
        KILN_INVENTORY_INTERVAL: "0",
        // Two blocks at a time, no read delay: each pass a couple of seconds, long enough for a
        // thermal pause and a few samples per phase.
        KILN_DEMO_PACE: "blocks=2,delay=0,short=1,long=2",
      }),
      () => {},
    );
    accounts = await setUpAccounts(kiln.url);
    const db = kiln.database.db;
    for (const [key, value] of [
      ["pollSeconds", "0.5"],
      ["temperaturePollSeconds", "1"],
      ["thermalPauseAtC", "50"],
      ["thermalResumeAtC", "40"],
    ])
      await gqlAs(kiln.url, accounts.tokens.admin, `mutation { setSetting(key: "${key}", value: "${value}") { __typename } }`);
    const drive = await db.drive.findFirstOrThrow({ orderBy: { serial: "asc" } });
    await db.drive.update({ where: { id: drive.id }, data: { model: HOSTILE_MODEL } });
    // Three earlier scans of this model, far faster than a paced demo scan: the speed outlier rule.
    for (const scanMbps of [9000, 10000, 11000])
      await db.burnInJob.create({ data: { driveId: drive.id, serial: drive.serial, profile: "full", status: "passed", scanMbps } });
    const started = await gqlAs<{ startBurnIn: { data?: Array<{ id: string }>; message?: string } }>(
      kiln.url,
      accounts.tokens.operate,
      "mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: full) { ... on StartBurnInSuccess { data { id } } ... on Error { message } } }",
      { d: [drive.id] },
    );
    jobId = started.data?.startBurnIn.data?.[0]?.id as string;
    expect(jobId, JSON.stringify(started)).toBeTruthy();
    // Thermal protection on the way (rows are the events): once the scan runs, the drive is
    // driven hot, the scan pauses after two readings, the drive cools and the scan goes on.
    const scan = () => db.stage.findFirstOrThrow({ where: { jobId, name: "surface_validate" } });
    const heat = async (celsius: number | undefined) =>
      writeDemoState(dataDir, drive.serial, { ...(await readDemoState(dataDir, drive.serial)), heatC: celsius });
    await until("the scan to run", async () => (await scan()).bbPhase !== null);
    await heat(55);
    const paused = await until("a pause for heat", async () => {
      const s = await scan();
      return s.pauseReason === "heat" && s;
    });
    expect(processState(paused.remotePid as number)).toBe("T");
    await heat(35);
    await until("the scan to continue", async () => (await scan()).pausedAt === null);
    await heat(undefined);
    await until(
      "the job to end",
      async () => !["queued", "running"].includes((await db.burnInJob.findUniqueOrThrow({ where: { id: jobId } })).status),
    );
    const other = await db.drive.findFirstOrThrow({ where: { id: { not: drive.id } } });
    runningJobId = (await db.burnInJob.create({ data: { driveId: other.id, serial: other.serial, profile: "full", status: "running" } }))
      .id;
  }, waitsBudget(2));
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it("signs a finished job's whole story: identity, stages, each pattern's time and speed, the curve, temperatures, SMART, the verdict", async () => {
    const response = await get(`/reports/${jobId}.json`, accounts.tokens.read);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="kiln-report-[A-Za-z0-9._-]+\.json"$/);
    const signed = (await response.json()) as SignedReportJson;
    const r = signed.report;
    expect(r.job).toMatchObject({ id: jobId, status: "passed", profile: "full" });
    expect(r.drive.model).toBe(HOSTILE_MODEL);
    expect(r.drive.sizeBytes).toBeGreaterThan(0);
    expect(r.stages.map((s) => [s.name, s.status])).toEqual([
      ["precheck", "passed"],
      ["smart_short", "passed"],
      ["surface_validate", "passed"],
      ["smart_long", "passed"],
      ["final_check", "passed"],
    ]);
    expect(r.surfaceScan.badBlocks).toBe(0);
    // badblocks' 4 patterns over every block of a demo drive hdparm -N says is whole: a Clear.
    expect(r.erasure).toMatchObject({
      claimed: true,
      coveredBytes: r.drive.sizeBytes,
      capacity: { method: "hdparm -N", wholeDriveReachable: true },
      technique:
        "badblocks -w wrote 0xaa, 0x55, 0xff, 0x00 to every block, reading each pattern back and comparing it; the drive was left holding 0x00",
    });
    // The pause for heat, with its temperature and when the scan went on.
    expect(r.stages[2]?.pauses).toEqual([expect.objectContaining({ reason: "heat", temperatureC: 55, continuedAt: expect.any(String) })]);
    expect(r.surfaceScan.phases.map((p) => `${p.mode} ${p.pattern}`)).toEqual([
      "write 0xaa",
      "verify 0xaa",
      "write 0x55",
      "verify 0x55",
      "write 0xff",
      "verify 0xff",
      "write 0x00",
      "verify 0x00",
    ]);
    for (const p of r.surfaceScan.phases) {
      expect(p.seconds, `phase ${p.phase}`).toBeGreaterThan(0);
      expect(p.averageMbps, `phase ${p.phase}`).toBeGreaterThan(0);
    }
    expect(r.surfaceScan.phases.some((p) => p.curve.length > 0)).toBe(true);
    expect(r.temperature?.readings).toBeGreaterThan(0);
    expect(r.smart.changes.map((c) => c.name)).toContain("Power-on hours");
    expect(r.verdict.outcome).toBe("passed");
    expect(r.verdict.warnings).toEqual([
      expect.stringMatching(
        /^slow drive: its scan averaged [\d.]+ MB\/s, \d+% of the median 10000\.0 MB\/s of 3 other DEMO .* drives \(under 70%\)/,
      ),
    ]);
    expect(r.surfaceScan.averageMbps).toBeGreaterThan(0);
    expect(r.kiln.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(signed.signature.sha256).toMatch(/^[0-9a-f]{64}$/);
    const urls = await gqlAs<{ done: { reportUrl: string | null }; running: { reportUrl: string | null } }>(
      kiln.url,
      accounts.tokens.read,
      "query($a: ID!, $b: ID!) { done: job(id: $a) { reportUrl } running: job(id: $b) { reportUrl } }",
      { a: jobId, b: runningJobId },
    );
    expect(urls.data).toEqual({ done: { reportUrl: `/reports/${jobId}` }, running: { reportUrl: null } });
    // The same finished job gives the same signed bytes every time.
    const again = (await (await get(`/reports/${jobId}.json`, accounts.tokens.read)).json()) as SignedReportJson;
    expect(again.signature).toEqual(signed.signature);
  });

  it("lets a buyer with the file and the public key check it: valid, altered by one byte, unknown key", async () => {
    const keyResponse = await get("/.well-known/kiln-report-key"); // no credentials: the key is public
    expect(keyResponse.status).toBe(200);
    const pem = await keyResponse.text();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(pem).not.toMatch(/PRIVATE/);
    const text = await (await get(`/reports/${jobId}.json`, accounts.tokens.read)).text();
    const signed = JSON.parse(text) as SignedReportJson;
    expect(keyResponse.headers.get("x-kiln-key-id")).toBe(signed.signature.keyId);

    const dir = path.join(work, "buyer");
    mkdirSync(dir, { recursive: true });
    const keyFile = path.join(dir, "kiln-report-key.pem");
    writeFileSync(keyFile, pem);
    const reportFile = path.join(dir, "report.json");
    writeFileSync(reportFile, text);
    const valid = await runKiln(["verify", reportFile, "--key", keyFile]);
    expect(valid.stdout, valid.stderr).toMatch(/^valid: signed by kiln-ed25519:[0-9a-f]{32} and unchanged \(job /);
    expect(valid.code).toBe(0);

    // One byte: the serial's first character.
    const at = text.indexOf(`"serial": "${signed.report.drive.serial}"`) + '"serial": "'.length;
    const altered = text.slice(0, at) + (text[at] === "X" ? "Y" : "X") + text.slice(at + 1);
    expect(altered.length).toBe(text.length);
    writeFileSync(reportFile, altered);
    const alteredRun = await runKiln(["verify", reportFile, "--key", keyFile]);
    expect(alteredRun.stdout).toMatch(/^altered: /);
    expect(alteredRun.code).toBe(1);

    const otherKey = path.join(dir, "other.pem");
    writeFileSync(otherKey, generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }));
    writeFileSync(reportFile, text);
    const unknown = await runKiln(["verify", reportFile, "--key", otherKey]);
    expect(unknown.stdout).toMatch(/^unknown key: /);
    expect(unknown.code).toBe(3);

    // On the Kiln machine the instance key in the data directory is the default.
    const local = await runKiln(["verify", reportFile, "--data", dataDir]);
    expect(local.code, local.stdout + local.stderr).toBe(0);
    const notAReport = await runKiln(["verify", keyFile, "--key", keyFile]);
    expect(notAReport.code).toBe(2);
    expect(notAReport.stderr).toMatch(/report: is not JSON/);

    // The API says the same.
    const check = (report: string) =>
      gqlAs<{
        verifyReport: { __typename: string; data?: { result: string; jobId: string; outcome: string }; field?: string; message?: string };
      }>(
        kiln.url,
        accounts.tokens.read,
        `query($r: String!) { verifyReport(report: $r) { __typename
          ... on VerifyReportSuccess { data { result jobId outcome } } ... on ValidationError { field message } } }`,
        { r: report },
      );
    expect((await check(text)).data?.verifyReport.data).toEqual({ result: "valid", jobId, outcome: "passed" });
    expect((await check(altered)).data?.verifyReport.data?.result).toBe("altered");
    const garbage = await check("{}");
    expect(garbage.data?.verifyReport).toMatchObject({ field: "report", message: expect.stringMatching(/^report: has no report object/) });
  });

  it("paused the hot drive's scan after two readings and continued it once cooled, saying so in the log", async () => {
    const scan = await kiln.database.db.stage.findFirstOrThrow({ where: { jobId, name: "surface_validate" } });
    expect(scan.log).toMatch(
      /\[PAUSED\] for heat: 55 °C \(pause at 50 °C, continue at 40 °C\)[\s\S]*\[CONTINUED\] by thermal protection at 35 °C/,
    );
    expect(scan.pausedAt).toBeNull();
    expect(scan.pausedSeconds).toBeGreaterThan(0);
    const refused = await gqlAs<{ setSetting: { message?: string } }>(
      kiln.url,
      accounts.tokens.admin,
      'mutation { setSetting(key: "thermalResumeAtC", value: "50") { ... on Error { message } } }',
    );
    expect(refused.data?.setSetting.message).toBe("value: thermalResumeAtC: resume (50 °C) must be below pause (50 °C)");
  });

  it("keeps the instance key private on disk (0600 in the data directory)", () => {
    expect(statSync(path.join(dataDir, REPORT_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it("prints the report as a page that runs no script, escaping what the host reported", async () => {
    const response = await get(`/reports/${jobId}`, accounts.tokens.read);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const html = await response.text();
    expect(html).toContain("PASSED");
    expect(html).toContain("DEMO &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co");
    expect(html).not.toMatch(/<script/i);
    expect(html).toMatch(/<svg[^>]*aria-label="MB\/s over the position on the disk"/);
    expect((html.match(/<polyline/g) ?? []).length).toBeGreaterThan(0);
  });

  it("renders the PDF with the drive, the verdict, the patterns and the signature (read back by pdftotext)", async () => {
    const response = await get(`/reports/${jobId}.pdf`, accounts.tokens.read);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/pdf");
    const pdf = Buffer.from(await response.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    const file = path.join(work, "report.pdf");
    writeFileSync(file, pdf);
    const text = execFileSync("pdftotext", ["-layout", file, "-"], { encoding: "utf8" });
    const signed = (await (await get(`/reports/${jobId}.json`, accounts.tokens.read)).json()) as SignedReportJson;
    expect(text).toContain("PASSED");
    expect(text).toContain(signed.report.drive.serial);
    expect(text).toContain(HOSTILE_MODEL);
    expect(text).toMatch(/verify\s+0x00/);
    expect(text).toMatch(/Erased: NIST SP 800-88 Rev\. 1 Clear by overwrite with verification of all \d+ bytes/);
    expect(text).toContain(signed.signature.sha256.slice(0, 32));
    // For a person to look at (test-artifacts/ is not committed).
    const artifacts = path.resolve(import.meta.dirname, "..", "..", "test-artifacts", "reports");
    mkdirSync(artifacts, { recursive: true });
    execFileSync("pdftoppm", ["-png", "-r", "60", file, path.join(artifacts, "report")]);
  });

  it("packs a shipment into one zip: each report's JSON and PDF, the public key, a README", async () => {
    const response = await get(`/reports.zip?ids=${jobId},${runningJobId}`, accounts.tokens.read);
    expect(response.status).toBe(200);
    const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
    const names = Object.keys(files).sort();
    const signed = (await (await get(`/reports/${jobId}.json`, accounts.tokens.read)).json()) as SignedReportJson;
    const base = `kiln-report-${signed.report.drive.serial}-${jobId}`;
    expect(names).toEqual(["README.txt", `${base}.json`, `${base}.pdf`, "kiln-report-key.pem"]);
    const readme = Buffer.from(files["README.txt"] as Uint8Array).toString();
    expect(readme).toContain(`${runningJobId} (running)`);
    const dir = path.join(work, "zip");
    mkdirSync(dir, { recursive: true });
    for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data);
    const verified = await runKiln(["verify", path.join(dir, `${base}.json`), "--key", path.join(dir, "kiln-report-key.pem")]);
    expect(verified.code, verified.stdout).toBe(0);
    // By filter instead of ids: the passed jobs (the burn-in and the three earlier ones).
    const byFilter = unzipSync(new Uint8Array(await (await get("/reports.zip?status=passed", accounts.tokens.read)).arrayBuffer()));
    expect(Object.keys(byFilter).filter((n) => n.endsWith(".json"))).toHaveLength(4);
  });

  it("answers only a credential with the read scope, and refuses bad requests by name", async () => {
    for (const route of [`/reports/${jobId}`, `/reports/${jobId}.json`, `/reports/${jobId}.pdf`, `/reports.zip?ids=${jobId}`]) {
      expect((await get(route)).status, route).toBe(401);
      expect((await get(route, "kiln_not-a-token")).status, route).toBe(401);
    }
    expect((await get(`/reports/${runningJobId}.json`, accounts.tokens.read)).status).toBe(409);
    expect((await get("/reports/nosuchjob.json", accounts.tokens.read)).status).toBe(404);
    expect((await get("/reports/..%2f..%2fetc.json", accounts.tokens.read)).status).toBe(400);
    const mixed = await get(`/reports.zip?ids=${jobId}&status=passed`, accounts.tokens.read);
    expect(mixed.status).toBe(400);
    expect(await mixed.json()).toMatchObject({ field: "ids" });
    const unknown = await get("/reports.zip?ids=nosuchjob", accounts.tokens.read);
    expect(unknown.status).toBe(404);
    expect((await get("/reports.zip", accounts.tokens.read)).status).toBe(400);
    const post = await fetch(`${kiln.url}/reports/${jobId}.json`, {
      method: "POST",
      headers: { authorization: `Bearer ${accounts.tokens.read}` },
    });
    expect(post.status).toBe(405);
    const anonymous = await gqlAs(kiln.url, "kiln_not-a-token", '{ verifyReport(report: "{}") { __typename } }');
    expect(anonymous.status).toBe(401);
  });
});
