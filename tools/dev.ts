// `npm run dev`: Kiln on port 4000 (the demo host, accounts off, as `npm start`) and Vite's dev
// server on port 5173 with hot reload, which proxies the API (client/vite.config.ts) to it.
// Ctrl-C stops both.
import path from "node:path";
import { createServer } from "vite";
import { loadConfig } from "../server/config.js";
import { startKiln, stopOnSignals } from "../server/main.js";

const kiln = await startKiln(loadConfig(["--port", "4000", "--demo"], { ...process.env, KILN_AUTH: process.env.KILN_AUTH ?? "off" }));
stopOnSignals(kiln);
const vite = await createServer({ configFile: path.resolve(import.meta.dirname, "..", "client", "vite.config.ts") });
await vite.listen(5173);
vite.printUrls();
process.once("SIGINT", () => void vite.close());
process.once("SIGTERM", () => void vite.close());
