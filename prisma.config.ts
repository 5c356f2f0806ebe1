import path from "node:path";
import { defineConfig } from "prisma/config";

// Prisma 7's CLI downloads a native schema-engine binary at the start of generate/validate/format
// and every migrate command; that download cannot happen on offline machines. Pointing it at a
// placeholder makes generate/validate/format work. Migrations do not use the CLI at all: they run
// through Prisma's WebAssembly schema engine (server/db/migrations.ts, `npm run db:migrate:*`).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(import.meta.dirname, "tools", "no-schema-engine");

export default defineConfig({
  schema: "schema.prisma",
  migrations: { path: "prisma/migrations" },
});
