// Runs the compiled `kiln` command (dist/kiln.js, what the image and `npm start` run) with the
// arguments given, as bin/kiln.js does when dist/ is current: for tests that must see the bundle.
import path from "node:path";
import { pathToFileURL } from "node:url";

const cli = await import(pathToFileURL(path.resolve(import.meta.dirname, "..", "..", "dist", "kiln.js")).href);
process.exitCode = await cli.main(process.argv.slice(2));
