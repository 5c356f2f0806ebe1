// `npm run build:server`: the compiled server that `kiln serve` runs (bin/kiln.js picks it when it
// is current). Kiln's own modules and its pure-JavaScript packages are bundled; the packages in
// RUNTIME_ROOTS stay in node_modules. A module imported lazily (the schema engine, PDF reports,
// email, the terminal client) becomes a chunk of its own, so a command loads only what it uses.
import { rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { RUNTIME_ROOTS } from "./runtime-packages.mjs";

const root = path.resolve(import.meta.dirname, "..");
// `--outdir DIR` builds elsewhere (a test that lays out the image's file set must not replace the
// dist/ other tests are running).
const at = process.argv.indexOf("--outdir");
const outdir = at > 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1]) : path.join(root, "dist");
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { kiln: path.join(root, "server", "cli.ts") },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // What stays in node_modules: native addons, packages that read their own files, Prisma.
  external: RUNTIME_ROOTS,
  banner: {
    js: 'import { createRequire as __kilnCreateRequire } from "node:module"; const require = __kilnCreateRequire(import.meta.url);',
  },
  sourcemap: true,
  outdir,
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
