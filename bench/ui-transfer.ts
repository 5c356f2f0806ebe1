// What a browser downloads to show the dashboard, over HTTP from Kiln's static file server
// (server/static-files.ts) serving `npm run build:client`'s output: a first visit (index.html, its
// scripts and stylesheet) as Chromium asks for it (Accept-Encoding: gzip, deflate, br, zstd), and
// a repeat visit (index.html revalidated with its ETag; the hashed files come from the browser's
// cache, immutable). The baseline, in the same run: the same files as Kiln sent them before,
// uncompressed and uncached, on every visit.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { StaticFiles } from "../server/static-files.js";

const REPO = path.resolve(import.meta.dirname, "..");

export interface TransferFigures {
  /** The build measured (client/dist). */
  dist: string;
  files: string[];
  uncompressedKiB: number;
  firstVisitKiB: number;
  repeatVisitKiB: number;
}

function fetchBytes(port: number, pathname: string, headers: Record<string, string>): Promise<{ bytes: number; etag: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: pathname, headers }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => {
        bytes += c.length;
      });
      res.on("end", () => resolve({ bytes, etag: String(res.headers.etag ?? "") }));
    });
    req.on("error", reject);
    req.end();
  });
}

export async function benchUiTransfer(): Promise<TransferFigures> {
  execFileSync("npm", ["run", "--silent", "build:client"], { cwd: REPO, stdio: "inherit" });
  const dist = path.join(REPO, "client", "dist");
  const html = readFileSync(path.join(dist, "index.html"), "utf8");
  const files = [
    "/",
    ...[...html.matchAll(/<(?:script[^>]*src|link[^>]*href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] as string),
  ];
  const statics = new StaticFiles(dist);
  const server = createServer((req, res) => void statics.serve(req, new URL(req.url ?? "/", "http://x").pathname, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const chromium = { "accept-encoding": "gzip, deflate, br, zstd" };
    let plain = 0;
    let first = 0;
    let indexTag = "";
    for (const f of files) {
      plain += (await fetchBytes(port, f, {})).bytes;
      const got = await fetchBytes(port, f, chromium);
      first += got.bytes;
      if (f === "/") indexTag = got.etag;
    }
    const repeat = (await fetchBytes(port, "/", { ...chromium, "if-none-match": indexTag })).bytes;
    return { dist, files, uncompressedKiB: plain / 1024, firstVisitKiB: first / 1024, repeatVisitKiB: repeat / 1024 };
  } finally {
    server.close();
  }
}
