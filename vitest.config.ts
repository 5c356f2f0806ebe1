import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";
import SlowFirstSequencer from "./tests/slow-first.js";

const require = createRequire(import.meta.url);
/** Migrates one SQLite database that the tests copy (tests/helpers/temp-db.ts migratedDataDir). */
const MIGRATED_DB = "tests/migrated-db-setup.ts";

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports": Node (and so `kiln serve`) loads its CommonJS build everywhere,
    // while Vite would give the code it transforms the ESM build. Two copies of graphql cannot
    // share a schema ("Cannot use GraphQLObjectType from another module or realm"), so tests load
    // the one Kiln runs with.
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    // Every file gets its own database, data directory, ports, loop devices and sshd, so files
    // run side by side. Most of their time is spent waiting (held scans, self-test stand-ins,
    // outages held on purpose), so 4 files run at once on 2 cores; the longest start first.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 4,
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      // Pure logic: parsers, runner decisions, queues. No services, no processes (npm run test:unit).
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"] } },
      // The API, the CLI and the runner on the demo host, SQLite, PostgreSQL and Redis.
      { extends: true, test: { name: "api", include: ["tests/api/**/*.test.ts"], globalSetup: [MIGRATED_DB] } },
      // Real sshd on 127.0.0.1, loop devices, badblocks.
      { extends: true, test: { name: "host", include: ["tests/host/**/*.test.ts"], globalSetup: [MIGRATED_DB] } },
      // Chromium over a Kiln serving the client built once by the global setup.
      {
        extends: true,
        test: { name: "browser", include: ["tests/browser/**/*.test.ts"], globalSetup: [MIGRATED_DB, "tests/browser/global-setup.ts"] },
      },
    ],
  },
});
