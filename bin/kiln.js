#!/usr/bin/env node
// The `kiln` command. It runs the compiled server, dist/kiln.js (made by `npm run build:server`,
// which `npm start` and the Docker image run first), when that is at least as new as every file
// under server/; otherwise it runs the TypeScript sources through tsx, so an edit never runs stale.
// The Docker image ships dist/ without server/: there is nothing to compare, dist/ runs.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const root = path.resolve(import.meta.dirname, "..");
const compiled = path.join(root, "dist", "kiln.js");
const sources = path.join(root, "server");

/** The newest modification time under a directory, in ms. */
function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function compiledIsCurrent() {
  if (!existsSync(compiled)) return false;
  return !existsSync(sources) || statSync(compiled).mtimeMs >= newestUnder(sources);
}

let cli;
if (compiledIsCurrent()) {
  cli = await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import("../server/cli.ts");
}
process.exitCode = await cli.main(process.argv.slice(2));
