#!/usr/bin/env node
// Kiln test stand-in for lsblk: the real lsblk, with the loop devices of other tests left out
// (own-loops.cjs). Everything else it prints, its exit code and its errors are the real ones.
const { spawnSync } = require("node:child_process");
const { isOwn } = require("./own-loops.cjs");

const here = __dirname;
const real = spawnSync("/usr/bin/lsblk", process.argv.slice(2), { maxBuffer: 1 << 30 });
process.stderr.write(real.stderr ?? "");
let answer;
try {
  answer = JSON.parse(real.stdout.toString());
} catch {
  answer = null;
}
if (answer && Array.isArray(answer.blockdevices)) {
  answer.blockdevices = answer.blockdevices.filter((d) => isOwn(here, d.path ?? d.kname ?? d.name ?? ""));
  process.stdout.write(`${JSON.stringify(answer)}\n`);
} else {
  process.stdout.write(real.stdout ?? "");
}
process.exit(real.status ?? 1);
