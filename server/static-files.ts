// The built web client over HTTP: compressed (brotli or gzip, as the browser accepts) and cached.
// Vite names every file under assets/ by a hash of its content, so those are immutable for a
// year; index.html (and every client-side route, which gets it) is revalidated on each visit with
// its ETag, so a new Kiln's UI is seen at once. `npm run build:client` writes each file's .br
// (brotli 11) and .gz (gzip 9) beside it (tools/compress-client.mjs); a file without them is
// compressed here, off the event loop, at a quicker level. Either way a file is read and
// compressed once per content (kept in memory, by path, size and mtime): the client is a few
// files of a few hundred KB.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import { brotliCompress, gzip, constants as zlib } from "node:zlib";

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/** Types worth compressing (text); images and fonts are compressed already. */
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".svg", ".json"]);
/** Below this, compression saves less than its headers cost. */
const MIN_COMPRESS_BYTES = 1024;

export const IMMUTABLE = "public, max-age=31536000, immutable";
export const REVALIDATE = "no-cache";

type Encoding = "br" | "gzip" | "identity";

interface Variant {
  body: Buffer;
  etag: string;
}

interface CachedFile {
  size: number;
  mtimeMs: number;
  type: string;
  variants: Partial<Record<Encoding, Promise<Variant>>>;
  raw: Buffer;
  hash: string;
}

/**
 * The encoding to send for an Accept-Encoding header: brotli, else gzip, else none; a q of 0
 * refuses one. "*" stands for any encoding not named.
 */
export function chooseEncoding(header: string | undefined): Encoding {
  const q = new Map<string, number>();
  for (const part of (header ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  const accepts = (name: string) => (q.get(name) ?? q.get("*") ?? 0) > 0;
  if (accepts("br")) return "br";
  if (accepts("gzip")) return "gzip";
  return "identity";
}

/** Does an If-None-Match header name this ETag (or "*")? Weak comparison, as RFC 9110 asks for GET. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}

export class StaticFiles {
  private readonly cache = new Map<string, CachedFile>();

  constructor(private readonly dir: string) {}

  /** Answer a GET or HEAD for `pathname`; unknown paths get index.html (client-side routes). */
  async serve(req: IncomingMessage, pathname: string, res: ServerResponse): Promise<void> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end("bad path");
      return;
    }
    const relative = path.normalize(decoded).replace(/^(\.\.[/\\])+/, "");
    let file = path.join(this.dir, relative);
    if (!file.startsWith(this.dir + path.sep)) file = path.join(this.dir, "index.html");
    const found = await stat(file).then(
      (s) => (s.isFile() ? s : null),
      () => null,
    );
    if (!found) file = path.join(this.dir, "index.html");
    let entry: CachedFile;
    try {
      entry = await this.load(file);
    } catch {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("The web client is not built (npm run build:client). GraphiQL is at /graphql.");
      return;
    }
    // Vite's hashed files (assets/name-<hash>.ext) never change under their name.
    const hashed = file.startsWith(path.join(this.dir, "assets") + path.sep);
    const encoding =
      COMPRESSIBLE.has(path.extname(file)) && entry.raw.length >= MIN_COMPRESS_BYTES
        ? chooseEncoding(header(req, "accept-encoding"))
        : "identity";
    const variant = await this.variant(file, entry, encoding);
    const headers: Record<string, string | number> = {
      "content-type": entry.type,
      "cache-control": hashed ? IMMUTABLE : REVALIDATE,
      etag: variant.etag,
      vary: "Accept-Encoding",
    };
    if (encoding !== "identity") headers["content-encoding"] = encoding;
    if (matches(header(req, "if-none-match"), variant.etag)) {
      res.writeHead(304, { "cache-control": headers["cache-control"] as string, etag: variant.etag, vary: "Accept-Encoding" });
      res.end();
      return;
    }
    headers["content-length"] = variant.body.length;
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : variant.body);
  }

  private async load(file: string): Promise<CachedFile> {
    const info = await stat(file);
    const cached = this.cache.get(file);
    if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs) return cached;
    const raw = await readFile(file);
    const entry: CachedFile = {
      size: info.size,
      mtimeMs: info.mtimeMs,
      type: CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
      variants: {},
      raw,
      hash: createHash("sha256").update(raw).digest("base64url").slice(0, 22),
    };
    this.cache.set(file, entry);
    return entry;
  }

  private variant(file: string, entry: CachedFile, encoding: Encoding): Promise<Variant> {
    const done = entry.variants[encoding];
    if (done) return done;
    const made = this.compress(file, entry, encoding).then((body) => ({
      body,
      // Each encoding is its own representation, with its own tag (RFC 9110 8.8.3).
      etag: `"${entry.hash}${encoding === "identity" ? "" : `-${encoding}`}"`,
    }));
    entry.variants[encoding] = made;
    // A failure is not kept: the next request tries again.
    made.catch(() => entry.variants[encoding] === made && delete entry.variants[encoding]);
    return made;
  }

  /** The file in `encoding`: the build's own compressed copy when it is of this content, else made now. */
  private async compress(file: string, entry: CachedFile, encoding: Encoding): Promise<Buffer> {
    if (encoding === "identity") return entry.raw;
    const copy = `${file}.${encoding === "br" ? "br" : "gz"}`;
    const copyInfo = await stat(copy).catch(() => null);
    const built = copyInfo && copyInfo.mtimeMs >= entry.mtimeMs ? await readFile(copy).catch(() => null) : null;
    if (built) return built;
    return encoding === "br"
      ? brotli(entry.raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: entry.raw.length } })
      : gzipped(entry.raw, { level: 6 });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}
