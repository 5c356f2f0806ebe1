// ../shared/fixtures/smartctl is read at test time, never copied into the repository. A clone
// without ../shared skips those tests with a notice; under CI a missing folder is an error.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

const dir = path.resolve(import.meta.dirname, "..", "..", "..", "shared", "fixtures", "smartctl");

export function smartctlFixtureDir(): string | null {
  if (existsSync(dir)) return dir;
  if (process.env.CI) throw new Error(`CI needs ../shared beside the repository: ${dir} is missing`);
  console.warn(`notice: ${dir} is missing; the smartctl fixture tests are skipped (CI never skips them)`);
  return null;
}

export function smartctlFixtures(): string[] {
  const d = smartctlFixtureDir();
  return d
    ? readdirSync(d)
        .filter((f) => f.endsWith(".json"))
        .sort()
    : [];
}

export const FIXTURES = path.resolve(import.meta.dirname, "..", "fixtures");
