// The browser tests' web client, built once for all of them (a vite build takes 10-20 s on this
// machine, and each file used to run its own): each file serves it with KILN_CLIENT_DIR.
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { buildClient } from "../helpers/client-build.js";

declare module "vitest" {
  export interface ProvidedContext {
    clientDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const clientDir = await buildClient();
  project.provide("clientDir", clientDir);
  return () => rmSync(clientDir, { recursive: true, force: true });
}
