// Fan-out bench: 100 SSE subscribers (each with a read token) to jobUpdates while 200 drives (1x), 400 (2x) or 800 (4x)
// report at 1 Hz, against a raw node:http SSE server that writes the same events as ready JSON
// (bench/fanout-server.ts), each server in its own process, the subscribers in this one.
// Figures: deliveries per second, delivery lag (publish to client) p50/p99, server CPU per delivery.
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";

const REPO = path.resolve(import.meta.dirname, "..");
const TSX = path.join(REPO, "node_modules", ".bin", "tsx");
const SUBSCRIPTION = "subscription { jobUpdates { jobId status progressPct phase mbps temperatureC elapsedSeconds at } }";

export interface FanoutFigure {
  drives: number;
  deliveriesPerSec: number;
  p50LagMs: number;
  p99LagMs: number;
  maxLagMs: number;
  cpuUsPerDelivery: number;
  serverCpuPct: number;
}

class Server {
  private lines: string[] = [];
  private waiters: Array<(line: string) => void> = [];
  token = "";
  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const w = this.waiters.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
  }
  static async start(mode: "kiln" | "kiln-shared" | "raw", port: number): Promise<Server> {
    const child = spawn(TSX, ["bench/fanout-server.ts", mode, String(port)], { cwd: REPO, stdio: ["pipe", "pipe", "inherit"] });
    const server = new Server(child);
    const ready = await server.line();
    if (!ready.startsWith("ready")) throw new Error(`${mode} server did not start: ${ready}`);
    server.token = ready.slice(6);
    return server;
  }
  line(): Promise<string> {
    const l = this.lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((resolve) => this.waiters.push(resolve));
  }
  send(command: string): void {
    this.child.stdin?.write(`${command}\n`);
  }
  async stop(): Promise<void> {
    this.send("exit");
    await new Promise((r) => this.child.once("exit", r));
  }
}

/** 100 SSE readers; each frame's `at` gives its lag. */
function subscribers(url: string, count: number, token: string) {
  const lags: number[] = [];
  let counting = false;
  let delivered = 0;
  const requests = Array.from({ length: count }, () => {
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = request(url, { headers }, (res) => {
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const at = /"at":"([^"]+)"/.exec(frame);
          if (at && counting) {
            delivered += 1;
            lags.push(Date.now() - Date.parse(at[1] as string));
          }
          end = buffer.indexOf("\n\n");
        }
      });
    });
    req.end();
    return req;
  });
  return {
    start() {
      lags.length = 0;
      delivered = 0;
      counting = true;
    },
    stop() {
      counting = false;
      return { lags: [...lags], delivered };
    },
    close() {
      for (const r of requests) r.destroy();
    },
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function measure(server: Server, url: string, drives: number, seconds: number, count: number): Promise<FanoutFigure> {
  const subs = subscribers(url, count, server.token);
  try {
    // Everyone connected and receiving: a warm-up of 3 s.
    server.send(`start ${drives} 1`);
    await new Promise((r) => setTimeout(r, 3000));
    server.send("stop");
    await server.line();
    subs.start();
    server.send(`start ${drives} 1`);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    server.send("stop");
    const { cpuMs } = JSON.parse(await server.line()) as { cpuMs: number };
    // Frames still in flight when publishing stopped are counted with their lag.
    await new Promise((r) => setTimeout(r, 500));
    const { lags, delivered } = subs.stop();
    lags.sort((a, b) => a - b);
    return {
      drives,
      deliveriesPerSec: delivered / seconds,
      p50LagMs: percentile(lags, 50),
      p99LagMs: percentile(lags, 99),
      maxLagMs: lags.at(-1) ?? 0,
      cpuUsPerDelivery: (cpuMs * 1000) / Math.max(1, delivered),
      serverCpuPct: (cpuMs / (seconds * 1000)) * 100,
    };
  } finally {
    subs.close();
  }
}

export async function benchFanout(options = { subscribers: 100, seconds: 10, loads: [200, 400, 800] }) {
  const results: { kiln: FanoutFigure[]; "kiln-shared": FanoutFigure[]; raw: FanoutFigure[] } = { kiln: [], "kiln-shared": [], raw: [] };
  for (const mode of ["raw", "kiln", "kiln-shared"] as const) {
    const port = { kiln: 4791, raw: 4792, "kiln-shared": 4793 }[mode];
    const server = await Server.start(mode, port);
    const url =
      mode === "raw" ? `http://127.0.0.1:${port}/stream` : `http://127.0.0.1:${port}/graphql?query=${encodeURIComponent(SUBSCRIPTION)}`;
    try {
      for (const drives of options.loads) results[mode].push(await measure(server, url, drives, options.seconds, options.subscribers));
    } finally {
      await server.stop();
    }
  }
  return results;
}
