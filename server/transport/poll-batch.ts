// One shell script per host per poll. Every running scan reads its log and, when the log did not
// grow, checks its process. On an SSH host each of those was a channel of its own (an exec, a
// remote sh, a tail) per scan per poll; here the reads that arrive within a short window are
// answered by one script, so a host with 20 scans costs one channel per poll, not 20.
// Scans that poll at the same interval fall into step after the first shared answer.
//
// The answer is framed so that a log may hold any bytes: for each request, in order, a header
// line "=<index> log <length>" followed by exactly <length> bytes, or "=<index> missing", or
// "=<index> state <state> <start time> <boot id>". Anything else (a hostile or broken host) fails
// the whole batch: no request gets bytes that were meant for another.
import { shellCommand, shellQuote } from "./shell.js";
import { type ExecOptions, type ExecResult, type LogChunk, type ProcessIdentity, type ProcessState, TransportError } from "./types.js";

/** What one scan asks in a poll. */
export type PollRequest =
  | { kind: "log"; path: string; offset: number; maxBytes: number }
  | { kind: "state"; identity: ProcessIdentity }
  | { kind: "exec"; argv: readonly string[]; maxBytes: number };

type Request =
  | (Extract<PollRequest, { kind: "log" }> & { resolve(chunk: LogChunk): void; reject(error: unknown): void })
  | (Extract<PollRequest, { kind: "state" }> & { resolve(state: ProcessState): void; reject(error: unknown): void })
  | (Extract<PollRequest, { kind: "exec" }> & { resolve(result: ExecResult): void; reject(error: unknown): void });

/** Runs one script on the host (through sudo when the host wants it). */
export type ScriptRunner = (script: string, options?: ExecOptions) => Promise<ExecResult>;

/** How long the first request of a batch waits for others. */
export const BATCH_WINDOW_MS = 20;
/** Requests in one script at most (a bounded command line). */
export const MAX_BATCH = 200;

export class PollBatcher {
  private pending: Request[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Scripts run so far (the bench counts channel opens with it). */
  scripts = 0;

  constructor(
    private readonly run: ScriptRunner,
    private readonly windowMs = BATCH_WINDOW_MS,
  ) {}

  readLog(path: string, offset: number, maxBytes: number): Promise<LogChunk> {
    return new Promise((resolve, reject) =>
      this.add({ kind: "log", path, offset: Math.max(0, Math.floor(offset)), maxBytes: Math.floor(maxBytes), resolve, reject }),
    );
  }

  processState(identity: ProcessIdentity): Promise<ProcessState> {
    return new Promise((resolve, reject) => this.add({ kind: "state", identity, resolve, reject }));
  }

  /** A command many scans run on the same beat (a temperature reading); standard error is dropped. */
  exec(argv: readonly string[], maxBytes: number): Promise<ExecResult> {
    return new Promise((resolve, reject) => this.add({ kind: "exec", argv, maxBytes: Math.floor(maxBytes), resolve, reject }));
  }

  private add(request: Request): void {
    this.pending.push(request);
    if (this.pending.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    if (this.pending.length > 0) this.timer = setTimeout(() => this.flush(), 0);
    this.scripts += 1;
    const maxStdoutBytes = batch.reduce((sum, r) => sum + (r.kind === "state" ? 0 : r.maxBytes) + 200, 0);
    // The host's control timeout (hostControlSeconds), as for any command of its own.
    this.run(batchScript(batch), { maxStdoutBytes }).then(
      (result) => {
        let answers: Answer[];
        try {
          if (result.code !== 0)
            throw new TransportError("failed", `polling the host's scans: ${result.stderr.trim() || `exit ${result.code}`}`);
          answers = parseBatch(result.stdout, batch);
        } catch (error) {
          for (const r of batch) r.reject(error);
          return;
        }
        for (const [i, r] of batch.entries()) settle(r, answers[i] as Answer);
      },
      (error: unknown) => {
        for (const r of batch) r.reject(error);
      },
    );
  }
}

export type Answer =
  | { kind: "log"; data: Buffer }
  | { kind: "missing" }
  | { kind: "state"; fields: string[] }
  | { kind: "exec"; code: number; data: Buffer };

function settle(request: Request, answer: Answer): void {
  if (request.kind === "exec") {
    if (answer.kind !== "exec") return;
    if (answer.code === 127) {
      request.reject(new TransportError("command_missing", `${request.argv[0]} is not installed on the host (or not on its PATH)`));
    } else request.resolve({ code: answer.code, signal: null, stdout: answer.data, stderr: "" });
  } else if (request.kind === "log") {
    if (answer.kind === "missing") request.reject(new TransportError("not_found", `log ${request.path} does not exist on the host`));
    else if (answer.kind === "log") request.resolve({ data: answer.data, nextOffset: request.offset + answer.data.length });
  } else if (answer.kind === "state") {
    const [state, startTime, bootId] = answer.fields;
    const identity = request.identity;
    // Another boot, another process under a reused pid, or a zombie: not our process any more.
    const gone = bootId !== identity.bootId || startTime !== identity.startTime || state === "Z" || state === "-";
    request.resolve(gone ? "gone" : "alive");
  }
}

export function batchScript(batch: readonly PollRequest[]): string {
  const lines = ["b=$(cat /proc/sys/kernel/random/boot_id)"];
  // A command's output goes through a private temporary file, so its length is known before it is sent.
  if (batch.some((r) => r.kind === "exec")) lines.push("t=$(mktemp) || exit 5", "trap 'rm -f \"$t\"' EXIT");
  for (const [i, r] of batch.entries()) {
    if (r.kind === "exec") {
      lines.push(
        `(${shellCommand(r.argv)}) > "$t" 2>/dev/null; c=$?; n=$(wc -c < "$t"); [ $n -gt ${r.maxBytes} ] && n=${r.maxBytes}; ` +
          `echo "=${i} exec $c $n"; head -c $n "$t"`,
      );
    } else if (r.kind === "log") {
      const { path, offset, maxBytes } = r;
      lines.push(
        `f=${shellQuote(path)}`,
        `if [ -f "$f" ]; then n=$(( $(wc -c < "$f") - ${offset} )); [ $n -lt 0 ] && n=0; [ $n -gt ${maxBytes} ] && n=${maxBytes}; ` +
          `echo "=${i} log $n"; [ $n -gt 0 ] && tail -c +${offset + 1} "$f" | head -c $n; else echo "=${i} missing"; fi`,
      );
    } else {
      const pid = Math.floor(r.identity.pid);
      // Read once: a process that ends between a check of its /proc entry and the read leaves
      // nothing to print, and "state  <boot>" broke the framing of the whole poll (a scan that
      // had just passed was called unknown). Nothing read is a process gone.
      lines.push(
        `s=$(sed 's/.*) //' /proc/${pid}/stat 2>/dev/null | cut -d' ' -f1,20); case "$s" in *" "*) ;; *) s="- -" ;; esac; echo "=${i} state $s $b"`,
      );
    }
  }
  lines.push("true");
  return lines.join("\n");
}

export function parseBatch(stdout: Buffer, batch: readonly PollRequest[]): Answer[] {
  const answers: Answer[] = [];
  let at = 0;
  const bad = (what: string) =>
    new TransportError("failed", `the host answered a scan poll with output Kiln cannot read (${what}); nothing of it was used`);
  for (const [i, request] of batch.entries()) {
    const end = stdout.indexOf(0x0a, at);
    if (end < 0 || end - at > 200) throw bad(`no header for request ${i}`);
    const header = stdout.toString("latin1", at, end).split(" ");
    at = end + 1;
    if (header[0] !== `=${i}`) throw bad(`expected the answer to request ${i}`);
    if (request.kind === "log" && header[1] === "missing" && header.length === 2) {
      answers.push({ kind: "missing" });
    } else if (request.kind === "log" && header[1] === "log" && header.length === 3 && /^\d+$/.test(header[2] ?? "")) {
      const length = Number(header[2]);
      if (length > request.maxBytes || at + length > stdout.length) throw bad(`a log answer of ${length} bytes`);
      answers.push({ kind: "log", data: Buffer.from(stdout.subarray(at, at + length)) });
      at += length;
    } else if (
      request.kind === "exec" &&
      header[1] === "exec" &&
      header.length === 4 &&
      /^\d+$/.test(header[2] ?? "") &&
      /^\d+$/.test(header[3] ?? "")
    ) {
      const length = Number(header[3]);
      if (length > request.maxBytes || at + length > stdout.length) throw bad(`a command answer of ${length} bytes`);
      answers.push({ kind: "exec", code: Number(header[2]), data: Buffer.from(stdout.subarray(at, at + length)) });
      at += length;
    } else if (request.kind === "state" && header[1] === "state" && header.length === 5) {
      answers.push({ kind: "state", fields: header.slice(2) });
    } else {
      throw bad(`an answer of the wrong kind to request ${i}`);
    }
  }
  if (at !== stdout.length) throw bad("more output than was asked for");
  return answers;
}
