// Runs the files that take longest first, so that on a clean clone (no timings cached from an
// earlier run) the suite does not end with one long file running alone. The order is from the
// per-file times of a whole run (BENCHMARKS.md, "Test suite"); the rest follow in vitest's order.
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Every file of 7 s or more, slowest first, as measured in a whole run (BENCHMARKS.md). */
export const SLOWEST_FILES = [
  "api/outages.test.ts",
  "host/burn-in-outcomes.test.ts",
  "browser/burn-in-ui.test.ts",
  "api/scale-out.test.ts",
  "host/runner-recovery.test.ts",
  "host/burn-in.test.ts",
  "api/write-load.test.ts",
  "host/fio-scan.test.ts",
  "host/fio-resume.test.ts",
  "browser/accessibility.test.ts",
  "host/sanitize.test.ts",
  // Its demo burn-in runs in beforeAll (which the JSON reporter's file time leaves out): 40 s.
  "api/reports.test.ts",
  "host/transport.test.ts",
  "host/write-guard.test.ts",
  "host/pause.test.ts",
  "host/data-at-rest.test.ts",
  "host/self-tests.test.ts",
  "api/demo-host.test.ts",
  "api/authorization.test.ts",
  "api/notifications.test.ts",
  "api/live-data.test.ts",
  "browser/tabs.test.ts",
  "api/heavy-work.test.ts",
  "api/startup-check.test.ts",
  "host/hostile-host.test.ts",
  "api/accounts.test.ts",
  "api/kiln-cli.test.ts",
  "api/terminal-client.test.ts",
  "api/pg-sessions.test.ts",
  "host/ssh-hosts.test.ts",
  "api/runtime-files.test.ts",
  "browser/hosts-ui.test.ts",
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
