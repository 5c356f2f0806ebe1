// Heavy requests over real HTTP with accounts on, on 500 finished full burn-ins (each scan with its
// 3,200 samples, so each report is made from the data as for any recent job): a zip
// of all their reports (500 PDFs) leaves /health and the API answering while it is made; at most
// 2 zips, PDFs or exports run at once per credential and 4 in all, the rest get 429 with
// Retry-After before any work; a caller who goes away frees the slot.
import { request } from "node:http";
import path from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openMigratedDatabase } from "../../server/db/startup.js";
import { HEAVY_OVERALL, HEAVY_PER_CALLER } from "../../server/heavy-work.js";
import { type Credentials, setUpAccounts } from "../helpers/accounts.js";
import { seedFinishedScans } from "../helpers/finished-scans.js";
import { type ServingKiln, serveKiln } from "../helpers/kiln-process.js";
import { rawRequest } from "../helpers/raw-http.js";
import { removeTempDirs, tempDir } from "../helpers/temp-db.js";
import { until } from "../helpers/wait.js";

describe("heavy requests: bounded per caller and overall, and never holding up the rest", () => {
  // Its own process, as in production: a client in the same process would read the zip only when
  // the server yields, and so hide a server that never does.
  let kiln: ServingKiln;
  let creds: Credentials;
  let jobIds: string[];
  const get = (path: string, token: string, signal?: AbortSignal) =>
    fetch(`${kiln.url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal });

  beforeAll(async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, "kiln.db");
    const { database } = await openMigratedDatabase({ url: `file:${file}` });
    try {
      const host = await database.db.host.create({ data: { name: "rack-1", transport: "local" } });
      jobIds = await seedFinishedScans(database.db, file, host.id, 500);
    } finally {
      await database.close();
    }
    kiln = await serveKiln(["--port", "0", "--data", dataDir], { KILN_INVENTORY_INTERVAL: "0" });
    creds = await setUpAccounts(kiln.url);
  }, 120_000);
  afterAll(async () => {
    kiln?.child.kill("SIGTERM");
    await kiln?.exited;
    removeTempDirs();
  });

  it("answers /health and the API while a zip of 500 reports is made", async () => {
    // Read as a plain HTTP client reads it (node:http, no connection pool).
    let received = 0;
    const zip = new Promise<{ status: number; body: Uint8Array }>((resolve, reject) => {
      const url = new URL("/reports.zip?status=passed", kiln.url);
      const req = request(url, { headers: { authorization: `Bearer ${creds.tokens.read}` }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => {
          received += c.length;
          chunks.push(c);
        });
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(chunks)) });
        });
      });
      req.on("error", reject);
      req.end();
    });
    // Asked one after another once the zip has begun: how much of it had arrived at each answer.
    await until("the first bytes of the zip", () => received > 0);
    const receivedAtAnswer: number[] = [];
    for (let i = 0; i < 5; i++) {
      const health = await rawRequest(kiln.url, { method: "GET", path: "/health" });
      expect(health.status).toBe(200);
      const me = await rawRequest(kiln.url, {
        method: "GET",
        path: `/graphql?query=${encodeURIComponent("{ me { name } }")}`,
        headers: { authorization: `Bearer ${creds.tokens.read}` },
      });
      expect(me.status).toBe(200);
      receivedAtAnswer.push(received);
    }
    const { status, body } = await zip;
    expect(status).toBe(200);
    // Answered while the zip was being made, not after it: a server that never yields while it
    // makes a zip answers /health once the whole file is written.
    expect(
      receivedAtAnswer.every((bytes) => bytes < body.length / 2),
      `${receivedAtAnswer} of ${body.length} bytes`,
    ).toBe(true);
    const files = Object.keys(unzipSync(body));
    expect(files.filter((f) => f.endsWith(".pdf"))).toHaveLength(500);
    expect(files).toContain("README.txt");
  }, 300_000);

  it(`runs at most ${HEAVY_PER_CALLER} per credential and ${HEAVY_OVERALL} in all; the rest get 429 with Retry-After at once`, async () => {
    const opened: AbortController[] = [];
    /** A zip whose response has begun (its slot is held until it ends or the caller leaves). */
    const openZip = async (token: string) => {
      const controller = new AbortController();
      const response = await get("/reports.zip?status=passed", token, controller.signal);
      if (response.status === 200) opened.push(controller);
      else controller.abort();
      return response;
    };
    try {
      expect((await openZip(creds.tokens.read)).status).toBe(200);
      expect((await openZip(creds.tokens.read)).status).toBe(200);
      // A third from the same token, of any heavy kind: refused before any work.
      for (const path of ["/reports.zip?status=passed", "/api/jobs.csv", `/reports/${jobIds[0]}.pdf`]) {
        const refused = await get(path, creds.tokens.read);
        expect(refused.status, path).toBe(429);
        expect(refused.headers.get("retry-after"), path).toBe("5");
        expect(await refused.json(), path).toEqual({
          error: "you have 2 reports or exports being made already (at most 2 at once): try again in 5 s",
        });
      }
      // Other credentials still get theirs, up to the overall limit.
      expect((await openZip(creds.tokens.operate)).status).toBe(200);
      expect((await openZip(creds.tokens.operate)).status).toBe(200);
      const overall = await get("/api/jobs.ndjson", creds.tokens.admin);
      expect(overall.status).toBe(429);
      expect(await overall.json()).toEqual({ error: "Kiln is making 4 reports or exports already (at most 4 at once): try again in 5 s" });
      // Light requests are not counted.
      expect((await get(`/reports/${jobIds[0]}.json`, creds.tokens.admin)).status).toBe(200);
    } finally {
      for (const controller of opened) controller.abort();
    }
    // The callers went away: their slots are free again (once each zip noticed, at its next report).
    const again = await until("a slot for the read token again", async () => {
      const response = await get("/api/jobs.csv", creds.tokens.read);
      if (response.status === 200) return response;
      await response.body?.cancel();
      return null;
    });
    expect((await again.text()).split("\r\n").filter(Boolean)).toHaveLength(501);
  }, 300_000);
});
