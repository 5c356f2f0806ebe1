// After `vite build client`: each compressible file of client/dist gets a .br (brotli 11) and a
// .gz (gzip 9) beside it, which the server sends as they are (server/static-files.ts). Brotli 11
// takes about a second for the main bundle: done once here, not on a visitor's request.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, "..", "client", "dist"));
const COMPRESSIBLE = /\.(html|js|css|svg|json)$/;
let raw = 0;
let br = 0;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  const file = path.join(entry.parentPath, entry.name);
  if (!entry.isFile() || !COMPRESSIBLE.test(entry.name) || statSync(file).size < 1024) continue;
  const body = readFileSync(file);
  const brotli = brotliCompressSync(body, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
  });
  writeFileSync(`${file}.br`, brotli);
  writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
  raw += body.length;
  br += brotli.length;
}
console.log(`compressed the client: ${(raw / 1024).toFixed(0)} KiB -> ${(br / 1024).toFixed(0)} KiB brotli`);
