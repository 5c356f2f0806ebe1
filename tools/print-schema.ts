// Prints the Pothos schema to schema.graphql (committed; codegen and integrations read it).
//   tsx tools/print-schema.ts           write it
//   tsx tools/print-schema.ts --check   exit 1 when the committed file is stale
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { lexicographicSortSchema, printSchema } from "graphql";
import { schema } from "../server/schema/index.js";

const file = path.resolve(import.meta.dirname, "..", "schema.graphql");
const printed = `${printSchema(lexicographicSortSchema(schema))}\n`;

if (process.argv.includes("--check")) {
  const current = await readFile(file, "utf8").catch(() => "");
  if (current !== printed) {
    console.error("schema.graphql is stale: run `npm run generate` and commit it.");
    process.exit(1);
  }
  console.log("schema.graphql is up to date.");
} else {
  await writeFile(file, printed);
}
