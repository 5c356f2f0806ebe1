// /verify: anyone with a report file checks it against this Kiln's public key, in the browser.
// The file is read here and never sent: the page fetches only the public key
// (/.well-known/kiln-report-key). The check is the one `kiln verify` makes: the SHA-256 of the
// canonical JSON of `report` (RFC 8785, the same code the server signs with) must be the one the
// signature names, and the Ed25519 signature over those bytes must hold under the key.
// The QR code on a report's PDF opens this page with ?id=&sha256=&key=: the file must then be
// that report too.
import { type ChangeEvent, useEffect, useState } from "react";
import { canonicalJson } from "../../../server/reports/canonical-json";

interface Expected {
  id: string | null;
  sha256: string | null;
  key: string | null;
}

type Outcome = { kind: "valid"; keyId: string; sha256: string; jobId: string | null } | { kind: "invalid"; why: string };

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/** The check itself: pure apart from WebCrypto. */
export async function checkReport(text: string, key: { pem: string; keyId: string }, expected: Expected): Promise<Outcome> {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch {
    return { kind: "invalid", why: "the file is not JSON: not a Kiln report" };
  }
  const signed = file as { report?: unknown; signature?: { algorithm?: unknown; keyId?: unknown; sha256?: unknown; value?: unknown } };
  const signature = signed?.signature;
  if (typeof signed?.report !== "object" || signed.report === null || typeof signature !== "object" || signature === null) {
    return { kind: "invalid", why: "the file has no report and signature: not a signed Kiln report" };
  }
  if (signature.algorithm !== "Ed25519" || typeof signature.value !== "string" || typeof signature.sha256 !== "string") {
    return { kind: "invalid", why: "the signature is not an Ed25519 signature Kiln writes" };
  }
  if (signature.keyId !== key.keyId) {
    return { kind: "invalid", why: `signed by another key (${String(signature.keyId)}), not this Kiln's ${key.keyId}` };
  }
  if (expected.key && expected.key !== key.keyId) {
    return { kind: "invalid", why: `the QR code names key ${expected.key}, not this Kiln's ${key.keyId}` };
  }
  const report = signed.report as { job?: { id?: unknown } };
  const jobId = typeof report.job?.id === "string" ? report.job.id : null;
  if (expected.id && expected.id !== jobId) return { kind: "invalid", why: `this is the report of job ${jobId}, not ${expected.id}` };
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new TextEncoder().encode(canonicalJson(signed.report));
  } catch (error) {
    return { kind: "invalid", why: `the report cannot be read as canonical JSON (${(error as Error).message})` };
  }
  const sha256 = hex(await crypto.subtle.digest("SHA-256", bytes));
  if (expected.sha256 && expected.sha256 !== sha256) {
    return { kind: "invalid", why: "altered: its SHA-256 is not the one in the QR code" };
  }
  if (sha256 !== signature.sha256) return { kind: "invalid", why: "altered: its content is not what was signed" };
  let signatureBytes: Uint8Array<ArrayBuffer>;
  try {
    signatureBytes = Uint8Array.from(atob(signature.value), (c) => c.charCodeAt(0));
  } catch {
    return { kind: "invalid", why: "the signature is not base64" };
  }
  const publicKey = await crypto.subtle.importKey("spki", pemToDer(key.pem), { name: "Ed25519" }, false, ["verify"]);
  const holds = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signatureBytes, bytes);
  if (!holds) return { kind: "invalid", why: "altered: the signature does not hold for this content" };
  return { kind: "valid", keyId: key.keyId, sha256, jobId };
}

export function VerifyPage() {
  const params = new URLSearchParams(window.location.search);
  const expected: Expected = { id: params.get("id"), sha256: params.get("sha256"), key: params.get("key") };
  const [key, setKey] = useState<{ pem: string; keyId: string } | null>(null);
  const [keyProblem, setKeyProblem] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [fileName, setFileName] = useState<string | null>(null);

  useEffect(() => {
    fetch("/.well-known/kiln-report-key")
      .then(async (r) => {
        const keyId = r.headers.get("x-kiln-key-id");
        if (!r.ok || !keyId) throw new Error(`HTTP ${r.status}`);
        setKey({ pem: await r.text(), keyId });
      })
      .catch((error: Error) => setKeyProblem(`This Kiln's public key could not be read (${error.message}).`));
  }, []);

  async function onFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    if (!file || !key) return;
    setFileName(file.name);
    setOutcome(null);
    setOutcome(await checkReport(await file.text(), key, expected));
  }

  return (
    <main className="verify">
      <h1>Check a Kiln burn-in report</h1>
      <p>
        Choose a report file (<code>.json</code>). It is checked in this browser against this Kiln's public key and is not sent anywhere.
      </p>
      {expected.id || expected.sha256 ? (
        <dl className="verify-expected" aria-label="From the QR code">
          {expected.id ? (
            <>
              <dt>Job</dt>
              <dd>{expected.id}</dd>
            </>
          ) : null}
          {expected.sha256 ? (
            <>
              <dt>SHA-256</dt>
              <dd>
                <code>{expected.sha256}</code>
              </dd>
            </>
          ) : null}
          {expected.key ? (
            <>
              <dt>Key</dt>
              <dd>
                <code>{expected.key}</code>
              </dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {keyProblem ? <p role="alert">{keyProblem}</p> : null}
      {key ? (
        <p>
          This Kiln's key: <code>{key.keyId}</code>
        </p>
      ) : null}
      <label>
        Report file <input type="file" accept="application/json,.json" disabled={!key} onChange={(e) => void onFile(e)} />
      </label>
      {outcome ? (
        <output aria-live="polite" className={outcome.kind === "valid" ? "verdict passed" : "verdict failed"}>
          {outcome.kind === "valid"
            ? `Valid: ${fileName ?? "the report"}${outcome.jobId ? ` (job ${outcome.jobId})` : ""} was signed by ${outcome.keyId}, SHA-256 ${outcome.sha256}.`
            : `Not valid: ${outcome.why}.`}
        </output>
      ) : null}
    </main>
  );
}
