// Runs the files that take longest first, so that on a clean clone (no timings cached from an
// earlier run) the suite does not end with one long file running alone. The order is from the
// per-file times of a whole run (BENCHMARKS.md, "Test suite"); the rest follow in vitest's order.
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Slowest first, as measured (BENCHMARKS.md). scale-out.test.ts runs early beside the longest
 * file: with 6 s leases it failed when it met outages, burn-in-ui and write-load at once.
 */
export const SLOWEST_FILES = [
  "api/outages.test.ts",
  "api/scale-out.test.ts",
  "browser/burn-in-ui.test.ts",
  "host/burn-in-outcomes.test.ts",
  "host/runner-recovery.test.ts",
  "host/write-guard.test.ts",
  "api/reports.test.ts",
  "host/pause.test.ts",
  "host/data-at-rest.test.ts",
  "host/transport.test.ts",
  "host/burn-in.test.ts",
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const i = SLOWEST_FILES.findIndex((name) => file.moduleId.endsWith(`/tests/${name}`));
      return i < 0 ? SLOWEST_FILES.length : i;
    };
    // Array.prototype.sort is stable: the files not listed keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
