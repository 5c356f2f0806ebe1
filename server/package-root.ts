// Where Kiln's package lives: the directory holding its package.json. The same whether Kiln runs
// from its TypeScript sources (server/) or from the compiled bundle (dist/).
import { existsSync } from "node:fs";
import path from "node:path";

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(import.meta.dirname);
