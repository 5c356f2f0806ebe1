import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports": Node (and so `kiln serve`) loads its CommonJS build everywhere,
    // while Vite would give the code it transforms the ESM build. Two copies of graphql cannot
    // share a schema ("Cannot use GraphQLObjectType from another module or realm"), so tests load
    // the one Kiln runs with.
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    include: ["tests/**/*.test.ts"],
    // Integration tests start real servers and processes; each file gets its own database, data
    // directory, ports, loop devices and sshd. Most of their time is spent waiting (paced scans,
    // self-test stand-ins, outages held on purpose), so 3 files run at once on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 3,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
