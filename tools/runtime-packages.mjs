// The packages `kiln serve` loads from node_modules at run time: the ones the compiled server
// (dist/) leaves external, and everything they depend on. The Docker image's final stage copies
// only these (`node tools/runtime-packages.mjs --copy DIR`); the rest is bundled into dist/.
// Prints the directories, relative to the package root, with their total size.
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
/** What dist/ imports from node_modules: tools/build-server.mjs keeps exactly these (and their subpaths) external. */
export const RUNTIME_ROOTS = [
  "@prisma/client",
  "@prisma/driver-adapter-utils",
  "@prisma/adapter-better-sqlite3",
  "@prisma/adapter-pg",
  "@prisma/schema-engine-wasm",
  "better-sqlite3",
  "ssh2",
  "pg",
  "ws",
  "pdfkit",
  "nodemailer",
];

/** The directory Node resolves `name` to from `fromDir`, walking up through node_modules. */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (dir === root || path.dirname(dir) === dir) return null;
  }
}

export function runtimePackages() {
  const found = new Set();
  const visit = (name, fromDir, optional) => {
    const dir = resolvePackage(name, fromDir);
    if (!dir) {
      if (optional) return;
      throw new Error(`${name} is needed at run time but not installed (from ${path.relative(root, fromDir) || "."})`);
    }
    if (found.has(dir)) return;
    found.add(dir);
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of RUNTIME_ROOTS) visit(name, root, false);
  return [...found].sort();
}

function sizeOf(dir) {
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

if (process.argv[1] === import.meta.filename) {
  const dirs = runtimePackages();
  const copyTo = process.argv[2] === "--copy" ? path.resolve(process.argv[3] ?? "") : null;
  let bytes = 0;
  for (const dir of dirs) {
    const relative = path.relative(root, dir);
    console.log(relative);
    // A package nested in another's node_modules is copied and counted with it.
    if (dirs.some((other) => other !== dir && dir.startsWith(`${other}/`))) continue;
    if (copyTo) cpSync(dir, path.join(copyTo, relative), { recursive: true });
    bytes += sizeOf(dir);
  }
  console.log(`${dirs.length} packages, ${(bytes / 2 ** 20).toFixed(1)} MiB`);
}
