// The browser tests' web client, built once for all of them (a vite build takes 10-20 s of CPU on
// this machine, and each file used to run its own): each file serves it with KILN_CLIENT_DIR.
// client/dist is used as it is when it is newer than every source of the client (CI builds it
// just before the tests; so does `npm start`); otherwise a fresh build goes to a directory of
// its own.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { buildClient } from "../helpers/client-build.js";

declare module "vitest" {
  export interface ProvidedContext {
    clientDir: string;
  }
}

const CLIENT = path.resolve(import.meta.dirname, "..", "..", "client");
const REPO = path.dirname(CLIENT);

/** client/dist, when its index.html is at least as new as every file the build reads. */
function currentDist(): string | null {
  const index = path.join(CLIENT, "dist", "index.html");
  if (!existsSync(index)) return null;
  const sources = [
    ...readdirSync(path.join(CLIENT, "src"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name)),
    path.join(CLIENT, "index.html"),
    path.join(CLIENT, "vite.config.ts"),
    path.join(REPO, "package-lock.json"),
  ];
  const newest = Math.max(...sources.filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs));
  return statSync(index).mtimeMs >= newest ? path.join(CLIENT, "dist") : null;
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dist = currentDist();
  if (dist) {
    project.provide("clientDir", dist);
    return () => {};
  }
  const clientDir = await buildClient();
  project.provide("clientDir", clientDir);
  return () => rmSync(clientDir, { recursive: true, force: true });
}
