// `npm run bench`: Kiln's performance figures, each against a baseline measured in the same run.
import os from "node:os";
import { benchBadblocksParser } from "./badblocks-parser.js";

const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`machine: ${machine}\n`);

const bb = benchBadblocksParser();
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log("badblocks parser (recorded 2 GiB -c 1 run x200, 4 KiB chunks, median of 7):");
console.log(`  input                      ${bb.inputMiB.toFixed(1)} MiB, ${fmt(bb.records)} records, ${fmt(bb.segments)} segments`);
console.log(`  parser                     ${fmt(bb.parserRecordsPerSec)} records/s (${bb.parserMiBPerSec.toFixed(1)} MiB/s)`);
console.log(`  baseline (split only)      ${fmt(bb.baselineSegmentsPerSec)} segments/s (${bb.baselineMiBPerSec.toFixed(1)} MiB/s)`);
console.log(`  parser time / baseline     ${bb.timeRatio.toFixed(2)}x`);
