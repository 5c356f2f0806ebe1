// Password hashing with scrypt (node:crypto): memory-hard, no native dependency. Stored as
// scrypt$N$r$p$salt$hash so the cost can be raised later without breaking old hashes.
//
// Each derivation takes about 80 ms of a libuv pool thread (4 threads, shared with file reads:
// the web client's files, reports). Unbounded, 60 sign-ins at once made a page load wait minutes.
// So at most HASHES_AT_ONCE run at once; sign-ins (anyone can send them) wait in a queue of at
// most HASHES_WAITING and are refused past it with a retry time, while signed-in users' own
// changes (a new user, a new password) always wait their turn.
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
// scrypt needs 128 * N * r bytes: 32 MiB here; Node's default ceiling is exactly that.
const MAX_MEMORY = 64 * 1024 * 1024;

export const HASHES_AT_ONCE = 2;
export const HASHES_WAITING = 8;
/** About one derivation on the machines Kiln was measured on, for the retry time of a refusal. */
const HASH_MS = 100;

/** Too many sign-ins are being checked at once: try again after `retryAfterSeconds`. */
export class HashingBusyError extends Error {
  override name = "HashingBusyError";
  constructor(readonly retryAfterSeconds: number) {
    super(`too many sign-ins at once: try again in ${retryAfterSeconds} s`);
  }
}

/** Who waits for a derivation: anyone (bounded queue, refused past it) or a signed-in user (waits). */
export type Admission = "bounded" | "wait";

class HashGate {
  running = 0;
  /** The most derivations that ran at once since start (tests read it). */
  peak = 0;
  private readonly waiting: Array<{ start: () => void; bounded: boolean }> = [];

  async run<T>(admission: Admission, task: () => Promise<T>): Promise<T> {
    if (this.running >= HASHES_AT_ONCE) {
      const bounded = this.waiting.filter((w) => w.bounded).length;
      if (admission === "bounded" && bounded >= HASHES_WAITING) {
        throw new HashingBusyError(Math.max(1, Math.ceil(((this.waiting.length + 1) * HASH_MS) / HASHES_AT_ONCE / 1000)));
      }
      // The slot is handed over by the task that ends (`running` stays as it is).
      await new Promise<void>((start) => this.waiting.push({ start, bounded: admission === "bounded" }));
    } else {
      this.running += 1;
    }
    this.peak = Math.max(this.peak, this.running);
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running -= 1;
    }
  }
}

export const passwordHashing = new HashGate();

function derive(password: string, salt: Buffer, n: number, r: number, p: number, admission: Admission): Promise<Buffer> {
  return passwordHashing.run(
    admission,
    () =>
      new Promise((resolve, reject) =>
        scrypt(password, salt, KEY_LENGTH, { N: n, r, p, maxmem: MAX_MEMORY }, (error, key) => (error ? reject(error) : resolve(key))),
      ),
  );
}

export async function hashPassword(password: string, admission: Admission = "wait"): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P, admission);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string, admission: Admission = "wait"): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, "base64");
  const actual = await derive(password, Buffer.from(salt, "base64"), Number(n), Number(r), Number(p), admission);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
