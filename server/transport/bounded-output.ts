// What a command printed, kept within limits: a host must not be able to fill Kiln's memory by
// printing (a 300 MB lsblk answer, an endless stream). Used by the local and SSH shell runners.
import { DEFAULT_MAX_STDOUT, type ExecOptions, type ExecResult, MAX_STDERR_CHARS, TransportError } from "./types.js";

export class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private stderr = "";
  private readonly limit: number;
  /** Set once standard output passed the limit: the caller abandons the command. */
  exceeded = false;

  constructor(private readonly options: ExecOptions) {
    this.limit = options.maxStdoutBytes ?? DEFAULT_MAX_STDOUT;
  }

  /** Keep a chunk of standard output; false once the limit is passed (nothing more is kept). */
  stdout(chunk: Buffer): boolean {
    if (this.exceeded) return false;
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      this.exceeded = true;
      this.chunks.length = 0; // drop what was kept: the answer is refused whole
      return false;
    }
    this.chunks.push(chunk);
    this.options.onStdout?.(chunk);
    return true;
  }

  stderrChunk(chunk: Buffer): void {
    if (this.stderr.length < MAX_STDERR_CHARS) this.stderr += chunk.toString().slice(0, MAX_STDERR_CHARS - this.stderr.length);
  }

  tooLarge(): TransportError {
    return new TransportError("output_too_large", `the host printed more than ${this.limit} bytes: command abandoned`);
  }

  result(code: number | null, signal: string | null): ExecResult {
    return { code, signal, stdout: Buffer.concat(this.chunks), stderr: this.stderr };
  }
}
