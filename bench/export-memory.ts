// Does an export of the whole history keep constant memory? Walks /api/jobs.csv's row source
// (exportRows) over a million jobs in this process and records the heap after a full GC every
// 200,000 rows: constant memory means the same figure at 200k and at 1M. (RSS alone cannot tell:
// V8 lets garbage pile up before it collects.) Run with `node --expose-gc`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "../server/db/client.js";
import { exportRows } from "../server/exports.js";
import { addJobs, prepare } from "./history-seed.js";

export async function benchExportMemory(jobs = 1_000_000): Promise<{ rows: number; seconds: number; heapMiB: Array<[number, number]> }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-bench-export-"));
  const url = `file:${path.join(dir, "kiln.db")}`;
  try {
    await prepare(url);
    await addJobs(url, 0, jobs);
    const database = await openDatabase({ url });
    const heapMiB: Array<[number, number]> = [];
    let rows = 0;
    const started = performance.now();
    try {
      for await (const page of exportRows(database.db, {}, { field: "createdAt", direction: "desc" })) {
        rows += page.length;
        if (rows % 200_000 === 0) {
          gc();
          heapMiB.push([rows, process.memoryUsage().heapUsed / 2 ** 20]);
        }
      }
    } finally {
      await database.close();
    }
    return { rows, seconds: (performance.now() - started) / 1000, heapMiB };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
