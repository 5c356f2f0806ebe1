// The web client's files over HTTP, as a browser gets them: Kiln was found serving its 496 kB of
// JavaScript on every visit uncompressed, with no Cache-Control and no ETag. Now a hashed file
// (assets/name-<hash>.js) comes brotli- or gzip-compressed as the browser accepts, immutable for a
// year; index.html and the client-side routes that get it are revalidated with an ETag (304 when
// unchanged); the build's own .br/.gz copies are sent when present and fresh (tools/compress-client.mjs).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { migratedDataDir, removeTempDirs, tempDir } from "../helpers/temp-db.js";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(base: string, pathname: string, headers: Record<string, string> = {}, method = "GET"): Promise<Reply> {
  const url = new URL(pathname, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** About 300 KB of JavaScript-like text that compresses as a bundle does. */
function bundle(): string {
  const lines: string[] = [];
  for (let i = 0; i < 6000; i++) lines.push(`function f${i}(a,b){return a+b*${i}+"${(i * 7919).toString(36)}"}export{f${i} as x${i}};`);
  return lines.join("\n");
}

describe("the web client's files: compressed and cached", () => {
  let kiln: RunningKiln;
  const client = tempDir("kiln-client-");
  const js = bundle();
  const css = `${".a{color:red}\n".repeat(400)}`;
  const index = `<!doctype html><html><head><script type="module" src="/assets/index-Ab12Cd34.js"></script><link rel="stylesheet" href="/assets/index-Ef56Gh78.css"></head><body><div id="root"></div>${"<!-- padding -->".repeat(80)}</body></html>`;

  beforeAll(async () => {
    mkdirSync(path.join(client, "assets"));
    writeFileSync(path.join(client, "index.html"), index);
    writeFileSync(path.join(client, "assets", "index-Ab12Cd34.js"), js);
    writeFileSync(path.join(client, "assets", "index-Ef56Gh78.css"), css);
    writeFileSync(path.join(client, "assets", "logo-Zz99.png"), Buffer.alloc(4096, 7));
    // The build's compressed copies, for the script only: the stylesheet is compressed on request.
    execFileSync(process.execPath, [path.resolve("tools/compress-client.mjs"), client]);
    for (const f of ["index-Ef56Gh78.css.br", "index-Ef56Gh78.css.gz"]) writeFileSync(path.join(client, "assets", f), "stale");
    // A copy older than its file is stale: not sent.
    for (const f of ["index-Ef56Gh78.css.br", "index-Ef56Gh78.css.gz"]) utimesSync(path.join(client, "assets", f), 0, 0);
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir()], { KILN_AUTH: "off", KILN_CLIENT_DIR: client, KILN_INVENTORY_INTERVAL: "0" }),
      () => {},
    );
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it("sends a hashed script brotli-compressed (the build's brotli 11 copy), immutable for a year", async () => {
    const r = await get(kiln.url, "/assets/index-Ab12Cd34.js", { "accept-encoding": "gzip, deflate, br, zstd" });
    expect(r.status).toBe(200);
    expect(r.headers["content-encoding"]).toBe("br");
    expect(r.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(r.headers.vary).toBe("Accept-Encoding");
    expect(r.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(brotliDecompressSync(r.body).toString()).toBe(js);
    expect(r.body.equals(readFileSync(path.join(client, "assets", "index-Ab12Cd34.js.br")))).toBe(true);
    expect(Number(r.headers["content-length"])).toBe(r.body.length);
    // What a first visit saves: the figure is in BENCHMARKS.md (the real bundle).
    expect(r.body.length).toBeLessThan(js.length / 4);
  });

  it("sends gzip to a browser without brotli, the file itself to one that accepts neither, and honours q=0", async () => {
    const gz = await get(kiln.url, "/assets/index-Ab12Cd34.js", { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.body).toString()).toBe(js);
    const plain = await get(kiln.url, "/assets/index-Ab12Cd34.js");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString()).toBe(js);
    const refused = await get(kiln.url, "/assets/index-Ab12Cd34.js", { "accept-encoding": "br;q=0, gzip;q=0.5" });
    expect(refused.headers["content-encoding"]).toBe("gzip");
    const none = await get(kiln.url, "/assets/index-Ab12Cd34.js", { "accept-encoding": "*;q=0, identity" });
    expect(none.headers["content-encoding"]).toBeUndefined();
    // Each encoding is its own representation: its own ETag.
    expect(new Set([gz.headers.etag, plain.headers.etag]).size).toBe(2);
  });

  it("compresses a file whose build copy is stale on the request, and leaves an image as it is", async () => {
    const r = await get(kiln.url, "/assets/index-Ef56Gh78.css", { "accept-encoding": "br" });
    expect(r.headers["content-encoding"]).toBe("br");
    expect(brotliDecompressSync(r.body).toString()).toBe(css);
    const png = await get(kiln.url, "/assets/logo-Zz99.png", { "accept-encoding": "br, gzip" });
    expect(png.headers["content-encoding"]).toBeUndefined();
    expect(png.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(png.body.length).toBe(4096);
  });

  it("revalidates index.html and every client-side route with an ETag: 304 with no body when unchanged", async () => {
    for (const route of ["/", "/history", "/settings/notifications"]) {
      const r = await get(kiln.url, route, { "accept-encoding": "br" });
      expect(r.status, route).toBe(200);
      expect(r.headers["cache-control"], route).toBe("no-cache");
      expect(brotliDecompressSync(r.body).toString(), route).toBe(index);
      const etag = r.headers.etag as string;
      expect(etag).toMatch(/^"[\w-]+-br"$/);
      const again = await get(kiln.url, route, { "accept-encoding": "br", "if-none-match": etag });
      expect(again.status, route).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers.etag).toBe(etag);
    }
    // A new build changes the page: the old tag no longer matches.
    const before = (await get(kiln.url, "/", { "accept-encoding": "br" })).headers.etag as string;
    writeFileSync(path.join(client, "index.html"), index.replace("Ab12Cd34", "Ff00Ee11"));
    const after = await get(kiln.url, "/", { "accept-encoding": "br", "if-none-match": before });
    expect(after.status).toBe(200);
    expect(brotliDecompressSync(after.body).toString()).toContain("Ff00Ee11");
  });

  it("answers HEAD with the headers and no body, and keeps paths inside the client", async () => {
    const head = await get(kiln.url, "/assets/index-Ab12Cd34.js", { "accept-encoding": "br" }, "HEAD");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers["content-length"])).toBeGreaterThan(1000);
    const outside = await get(kiln.url, "/assets/..%2f..%2f..%2fetc%2fpasswd");
    expect(outside.body.toString()).not.toContain("root:");
    expect(outside.headers["cache-control"]).toBe("no-cache");
  });
});
