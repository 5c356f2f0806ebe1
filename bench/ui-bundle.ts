// The web UI's initial JavaScript: what a browser must download before the dashboard draws (the
// entry script and the modules index.html preloads), gzipped, from a fresh `vite build`. The
// baseline, built in the same run with the same Vite and settings: a page that only renders React
// (react + react-dom), the floor of any React dashboard. Target: at most 250 KiB gzipped.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";

const REPO = path.resolve(import.meta.dirname, "..");
const VITE = path.join(REPO, "node_modules", ".bin", "vite");

export interface BundleFigures {
  /** gzipped KiB of each file a first visit loads, Kiln's UI. */
  kiln: Array<{ file: string; gzipKiB: number }>;
  kilnKiB: number;
  /** All JavaScript of the build, loaded later or not (drawer, history, hosts, settings). */
  kilnAllKiB: number;
  baselineKiB: number;
}

function build(root: string, outDir: string, config?: string): void {
  const args = ["build", root, "--outDir", outDir, "--emptyOutDir", "--logLevel", "error"];
  if (config) args.push("--config", config);
  execFileSync(VITE, args, { cwd: REPO, stdio: "inherit" });
}

/** The scripts index.html loads at once: its module entry and its modulepreload links. */
function initialScripts(outDir: string): Array<{ file: string; gzipKiB: number }> {
  const html = readFileSync(path.join(outDir, "index.html"), "utf8");
  const files = [...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="\/?([^"]+\.js)"/g)].map(
    (m) => m[1] as string,
  );
  return files.map((file) => ({ file, gzipKiB: gzipSync(readFileSync(path.join(outDir, file))).length / 1024 }));
}

function allScriptsKiB(outDir: string): number {
  const assets = path.join(outDir, "assets");
  return readdirSync(assets)
    .filter((f) => f.endsWith(".js"))
    .reduce((sum, f) => sum + gzipSync(readFileSync(path.join(assets, f))).length / 1024, 0);
}

export function benchUiBundle(): BundleFigures {
  const work = mkdtempSync(path.join(tmpdir(), "kiln-bench-bundle-"));
  try {
    const kilnOut = path.join(work, "kiln");
    build("client", kilnOut);
    const kiln = initialScripts(kilnOut);

    const base = path.join(work, "baseline");
    mkdirSync(path.join(base, "src"), { recursive: true });
    writeFileSync(
      path.join(base, "index.html"),
      '<!doctype html><div id="root"></div><script type="module" src="/src/main.tsx"></script>\n',
    );
    writeFileSync(
      path.join(base, "src", "main.tsx"),
      'import { createRoot } from "react-dom/client";\ncreateRoot(document.getElementById("root") as HTMLElement).render(<p>hello</p>);\n',
    );
    writeFileSync(
      path.join(base, "vite.config.mjs"),
      `import react from ${JSON.stringify(path.join(REPO, "node_modules", "@vitejs", "plugin-react", "dist", "index.js"))};\nexport default { root: ${JSON.stringify(base)}, plugins: [react()], resolve: { alias: { react: ${JSON.stringify(path.join(REPO, "node_modules", "react"))}, "react-dom": ${JSON.stringify(path.join(REPO, "node_modules", "react-dom"))} } } };\n`,
    );
    const baseOut = path.join(work, "baseline-out");
    build(base, baseOut, path.join(base, "vite.config.mjs"));
    const baseline = initialScripts(baseOut);
    const sum = (xs: Array<{ gzipKiB: number }>) => xs.reduce((s, x) => s + x.gzipKiB, 0);
    return { kiln, kilnKiB: sum(kiln), kilnAllKiB: allScriptsKiB(kilnOut), baselineKiB: sum(baseline) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
