// How long the dashboard's files take to load in Debian's Chromium over a slow link (DevTools
// network emulation: 10 Mbit/s down, 40 ms round trip, as over a site-to-site VPN), from Kiln's
// static file server (server/static-files.ts) against a baseline in the same run: the same files
// served as Kiln served them before, uncompressed and with no cache headers. A first visit is a
// new browser context (cold cache); a repeat visit is the same context opening the page again.
// The figure is the navigation's loadEventEnd: index.html, its scripts and stylesheet fetched
// and run. The API is not served (the page's GraphQL requests fail), so the time is the assets'.
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { StaticFiles } from "../server/static-files.js";

const CHROMIUM = process.env.KILN_TEST_CHROMIUM ?? "/usr/bin/chromium";
/** 10 Mbit/s down, 5 up, 40 ms added to every round trip. */
const LINK = { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 5e6 / 8 };

const TYPES: Record<string, string> = { ".js": "text/javascript", ".css": "text/css", ".html": "text/html" };

export interface LoadFigures {
  rounds: number;
  link: string;
  kiln: { firstMs: number; repeatMs: number };
  baseline: { firstMs: number; repeatMs: number };
}

/** The files as they were served before: whole, uncompressed, no Cache-Control, ETag or Last-Modified. */
function baselineServer(dist: string): Server {
  return createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    const file = pathname.startsWith("/assets/") ? path.join(dist, path.normalize(pathname)) : path.join(dist, "index.html");
    readFile(file).then(
      (body) => {
        res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "content-length": body.length });
        res.end(body);
      },
      () => {
        res.writeHead(404);
        res.end();
      },
    );
  });
}

function kilnServer(dist: string): Server {
  const statics = new StaticFiles(dist);
  return createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    if (pathname.startsWith("/graphql") || pathname.startsWith("/auth")) {
      res.writeHead(404);
      res.end();
      return;
    }
    void statics.serve(req, pathname, res);
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** One cold visit and one repeat visit in a fresh context over the emulated link: loadEventEnd of each, in ms. */
async function visit(browser: Browser, url: string): Promise<[number, number]> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", LINK);
    const loaded = async () => {
      await page.goto(url, { waitUntil: "load" });
      return page.evaluate(() => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).loadEventEnd);
    };
    const first = await loaded();
    // A visit later on: a link to the page, not a reload (a reload revalidates what it can).
    await page.goto("about:blank");
    const repeat = await loaded();
    return [first, repeat];
  } finally {
    await context.close();
  }
}

/** `dist` is `npm run build:client`'s output (with its .br and .gz files). */
export async function benchUiLoad(dist: string, rounds = 5): Promise<LoadFigures> {
  const kiln = kilnServer(dist);
  const baseline = baselineServer(dist);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const urls = { kiln: await listen(kiln), baseline: await listen(baseline) };
    const times = { kiln: [] as Array<[number, number]>, baseline: [] as Array<[number, number]> };
    // Interleaved, so a slower moment of the machine falls on both.
    for (let i = 0; i < rounds; i++) {
      times.baseline.push(await visit(browser, urls.baseline));
      times.kiln.push(await visit(browser, urls.kiln));
    }
    const figures = (t: Array<[number, number]>) => ({ firstMs: median(t.map((x) => x[0])), repeatMs: median(t.map((x) => x[1])) });
    return { rounds, link: "10 Mbit/s down, 40 ms latency", kiln: figures(times.kiln), baseline: figures(times.baseline) };
  } finally {
    await browser.close();
    kiln.close();
    baseline.close();
  }
}
