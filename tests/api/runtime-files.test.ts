// The Docker image's final stage holds only the compiled server and the packages it loads
// (tools/runtime-packages.mjs), with no TypeScript sources, no tsx and no build tools. The same
// file set, laid out in a temporary directory, must migrate a new database (the schema engine is
// one of those packages) and serve the API and GraphiQL (a lazily loaded chunk).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serveKiln } from "../helpers/kiln-process.js";
import { removeTempDirs, tempDir } from "../helpers/temp-db.js";

const REPO = path.resolve(import.meta.dirname, "..", "..");
afterAll(removeTempDirs);

describe("the image's file set", () => {
  it("starts Kiln from dist/ and the runtime packages alone", async () => {
    const app = tempDir("kiln-image-");
    // Built into the file set itself: the repository's dist/ may be in use by other tests.
    execFileSync(process.execPath, [path.join(REPO, "tools", "build-server.mjs"), "--outdir", path.join(app, "dist")]);
    execFileSync(process.execPath, [path.join(REPO, "tools", "runtime-packages.mjs"), "--copy", app]);
    for (const entry of ["package.json", "schema.prisma", "prisma", "bin"]) {
      cpSync(path.join(REPO, entry), path.join(app, entry), { recursive: true });
    }
    expect(existsSync(path.join(app, "node_modules", "tsx"))).toBe(false);
    expect(existsSync(path.join(app, "node_modules", "typescript"))).toBe(false);
    expect(existsSync(path.join(app, "server"))).toBe(false);
    mkdirSync(path.join(app, "client", "dist"), { recursive: true });

    const kiln = await serveKiln(
      ["--port", "0", "--data", path.join(app, "data")],
      { KILN_AUTH: "off" },
      { bin: path.join(app, "bin", "kiln.js") },
    );
    try {
      expect(kiln.output()).toMatch(/applied \d{14}_init/);
      expect(await (await fetch(`${kiln.url}/health`)).json()).toMatchObject({ status: "ok" });
      const graphiql = await fetch(`${kiln.url}/graphql`, { headers: { accept: "text/html" } });
      expect(await graphiql.text()).toMatch(/<title>Kiln GraphQL<\/title>/);
    } finally {
      kiln.child.kill("SIGTERM");
      await kiln.exited;
    }
  });
});
