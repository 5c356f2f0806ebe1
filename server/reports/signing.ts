// Burn-in reports are signed by the instance's Ed25519 key: made at first start, kept 0600 in the
// data directory, its public half served at /.well-known/kiln-report-key. A signed report is
// { report, signature }: the signature covers the canonical JSON of `report` (canonical-json.ts),
// and carries its SHA-256 so a reader can see which bytes were signed. Whoever holds the report
// file and the public key can check it; nothing else is needed.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { chmodSync, existsSync, linkSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ValidationError } from "../errors.js";
import { canonicalJson } from "./canonical-json.js";

export const REPORT_KEY_FILE = "report-signing-key.pem";

export interface ReportKey {
  privateKey: KeyObject | null;
  publicKey: KeyObject;
  /** "kiln-ed25519:" and the first 16 bytes (hex) of the SHA-256 of the raw public key. */
  keyId: string;
  publicKeyPem: string;
}

export interface ReportSignature {
  algorithm: "Ed25519";
  canonicalization: "RFC 8785";
  keyId: string;
  /** SHA-256 (hex) of the canonical JSON of `report`. */
  sha256: string;
  /** base64 Ed25519 signature over the canonical JSON of `report`. */
  value: string;
}

export interface SignedReport<R = Record<string, unknown>> {
  report: R;
  signature: ReportSignature;
}

export type VerifyResult = "valid" | "altered" | "unknown_key";

export function keyIdOf(publicKey: KeyObject): string {
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return `kiln-ed25519:${createHash("sha256").update(raw).digest("hex").slice(0, 32)}`;
}

function describe(privateKey: KeyObject | null, publicKey: KeyObject): ReportKey {
  if (publicKey.asymmetricKeyType !== "ed25519") throw new ValidationError("key", "is not an Ed25519 public key");
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString() };
}

/** The instance key in `dataDir`, made (0600) the first time. */
export function loadOrCreateReportKey(dataDir: string): ReportKey {
  const file = path.join(dataDir, REPORT_KEY_FILE);
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync("ed25519");
    // Written aside, then linked into place: a reader never sees half a key, and of several
    // instances starting at once on one shared data directory the first wins and all use its key.
    const aside = `${file}.${process.pid}.tmp`;
    writeFileSync(aside, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    try {
      linkSync(aside, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      rmSync(aside, { force: true });
    }
  }
  chmodSync(file, 0o600);
  const privateKey = createPrivateKey(readFileSync(file));
  return describe(privateKey, createPublicKey(privateKey));
}

/** A public key from PEM text (what /.well-known/kiln-report-key serves). */
export function publicReportKey(pem: string): ReportKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ValidationError("key", "is not a PEM public key");
  }
  return describe(null, key);
}

export function signReport<R>(report: R, key: ReportKey): SignedReport<R> {
  if (!key.privateKey) throw new Error("this key has no private half: it can verify, not sign");
  const bytes = Buffer.from(canonicalJson(report), "utf8");
  return {
    report,
    signature: {
      algorithm: "Ed25519",
      canonicalization: "RFC 8785",
      keyId: key.keyId,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      value: sign(null, bytes, key.privateKey).toString("base64"),
    },
  };
}

/** Reads a signed report from its file's text; anything else is a ValidationError naming what is wrong. */
export function parseSignedReport(text: string): SignedReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ValidationError("report", "is not JSON");
  }
  const candidate = data as Partial<SignedReport> | null;
  const signature = candidate?.signature as Partial<ReportSignature> | undefined;
  if (typeof candidate?.report !== "object" || candidate.report === null || Array.isArray(candidate.report))
    throw new ValidationError("report", "has no report object: is this a Kiln burn-in report?");
  if (
    signature?.algorithm !== "Ed25519" ||
    typeof signature.keyId !== "string" ||
    typeof signature.sha256 !== "string" ||
    typeof signature.value !== "string"
  )
    throw new ValidationError("report", "has no Ed25519 signature (algorithm, keyId, sha256, value)");
  return candidate as SignedReport;
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);

/** What a report says of itself (job, drive, verdict), read from a file not yet trusted: to believe only when valid. */
export function reportClaims(signed: SignedReport): {
  jobId: string | null;
  serial: string | null;
  verdict: string | null;
  status: string | null;
} {
  const report = signed.report as {
    job?: { id?: unknown; status?: unknown };
    drive?: { serial?: unknown };
    verdict?: { outcome?: unknown } | null;
  };
  return {
    jobId: text(report.job?.id),
    serial: text(report.drive?.serial),
    verdict: text(report.verdict?.outcome),
    status: text(report.job?.status),
  };
}

/**
 * valid: signed by one of `keys` and unchanged since. altered: signed by a known key, but the
 * report (or its signature) is not what was signed. unknown_key: none of `keys` made it.
 */
export function verifyReport(signed: SignedReport, keys: ReportKey[]): { result: VerifyResult; keyId: string } {
  const keyId = signed.signature.keyId;
  const key = keys.find((k) => k.keyId === keyId);
  if (!key) return { result: "unknown_key", keyId };
  let bytes: Buffer;
  try {
    bytes = Buffer.from(canonicalJson(signed.report), "utf8");
  } catch {
    return { result: "altered", keyId };
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const signature = Buffer.from(signed.signature.value, "base64");
  const ok = sha256 === signed.signature.sha256 && signature.length === 64 && verify(null, bytes, key.publicKey, signature);
  return { result: ok ? "valid" : "altered", keyId };
}
