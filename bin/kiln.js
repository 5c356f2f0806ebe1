#!/usr/bin/env node
// The `kiln` command. Kiln runs its TypeScript sources through tsx: no build step between
// `npm ci` and `npm start`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../server/cli.ts");
process.exitCode = await main(process.argv.slice(2));
