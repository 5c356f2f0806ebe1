// Private keys Kiln may use for SSH hosts live in one directory of its own, <data>/keys (0700,
// each key 0600): a host cannot be pointed at any other file on the Kiln machine (another user's
// key, /etc/shadow). Keys get there by uploadSshKey or by the operator putting them there.
import { constants } from "node:fs";
import { mkdir, open, realpath } from "node:fs/promises";
import path from "node:path";
import type { Db } from "../db/client.js";
import { ValidationError } from "../errors.js";
import { audit } from "./audit.js";

export const keysDirOf = (dataDir: string) => path.join(path.resolve(dataDir), "keys");

const KEY_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;
const MAX_KEY_BYTES = 16 * 1024;

/** A key name or a path inside the keys directory -> the key's absolute path, checked to be there. */
export async function resolveKeyPath(keysDir: string, given: string): Promise<string> {
  const candidate = path.isAbsolute(given) ? given : path.join(keysDir, given);
  const outside = () => new ValidationError("privateKeyPath", `must be a key in ${keysDir} (upload it with uploadSshKey, or put it there)`);
  if (!path.isAbsolute(given) && !KEY_NAME.test(given)) throw outside();
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    if (path.dirname(path.resolve(candidate)) !== keysDir) throw outside();
    throw new ValidationError("privateKeyPath", `${candidate} does not exist or Kiln cannot read it`);
  }
  // Resolved, so a symlink in the directory cannot lead out of it.
  const realDir = await realpath(keysDir).catch(() => keysDir);
  if (path.dirname(real) !== realDir) throw outside();
  return real;
}

export async function uploadSshKey(
  db: Db,
  keysDir: string,
  input: { name: string; privateKey: string },
  actor: string,
): Promise<{ name: string; path: string }> {
  if (!KEY_NAME.test(input.name)) throw new ValidationError("name", "use 1-64 letters, digits, '.', '_' or '-', not starting with '.'");
  const text = input.privateKey.endsWith("\n") ? input.privateKey : `${input.privateKey}\n`;
  if (Buffer.byteLength(text) > MAX_KEY_BYTES) throw new ValidationError("privateKey", `is over ${MAX_KEY_BYTES} bytes`);
  if (!/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\n[\s\S]+\n-----END [A-Z0-9 ]*PRIVATE KEY-----\n$/.test(text)) {
    throw new ValidationError("privateKey", "is not a PEM or OpenSSH private key");
  }
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  const file = path.join(keysDir, input.name);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_EXCL: never overwrite a key a host may be using.
    handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch {
    throw new ValidationError("name", `a key named "${input.name}" already exists`);
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
  await audit(db, { actor, action: "key.upload", subjectType: "key", subjectId: input.name, details: { path: file } });
  return { name: input.name, path: file };
}
