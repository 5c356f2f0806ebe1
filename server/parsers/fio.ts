// fio as Kiln's position-checked surface scan: the command line of one pass, and the reading of
// what fio prints while it runs. Pure: no I/O.
//
// A pass is one fio process that writes the range sequentially with direct I/O and then reads it
// back and verifies it (do_verify); a resumed pass writes from where the interrupted one stopped
// and verifies everything, or verifies from where it stopped (verify_only). Every 4 KiB carries a
// verify header with its own offset and a crc32c of its data (verify_interval=4096), so a block
// read back from the wrong place (a misdirected write, a drive that aliases addresses past its
// real capacity) fails on its offset, and a corrupted one on its checksum. The data comes from a
// per-job seed. fio prints a JSON status every second into its output file and its verify errors
// to standard error (the log).

/** Bytes per fio request; the verify headers are every VERIFY_INTERVAL within it. */
export const FIO_BLOCK_SIZE = 1 << 20;
export const VERIFY_INTERVAL = 4096;

/** Where a pass begins: at its first byte, or where an interrupted one left off. */
export type FioStart =
  /**
   * Write from `fromByte`, then verify from the first byte. From 0 that is one job that writes and
   * verifies; from further on, what came before was written by the interrupted pass.
   */
  | { phase: 1; fromByte: number }
  /** Everything was written; verify from `fromByte` (what came before was verified). */
  | { phase: 2; fromByte: number };

export interface FioPassPlan {
  device: string;
  /** End of the range (exclusive): the device's size rounded down to VERIFY_INTERVAL. */
  toByte: number;
  start: FioStart;
  seed: number;
  /** The JSON status file (relative to the run directory). */
  statusFile: string;
  ioDepth?: number;
  /** Seconds between status reports; by default statusIntervalFor(toByte). */
  statusIntervalSeconds?: number;
}

/**
 * Status reports a pass writes at most per phase. One report is 12-16 KB of JSON (json+: with its
 * latency histograms, which grow as the latencies spread; recorded: tests/fixtures/fio).
 */
export const STATUS_REPORTS_PER_PHASE = 5000;

/**
 * fio's status interval for a range of `bytes`: a report a second on small drives, fewer on large
 * ones, so a phase writes about 5,000 reports (60-80 MB of JSON, which Kiln reads over SSH and
 * parses) instead of one a second for days (a 24 TB pass: 240,000, about 3 GB). Sized at
 * 200 MB/s, 1-30 s.
 */
export function statusIntervalFor(bytes: number): number {
  return Math.min(30, Math.max(1, Math.ceil(bytes / 200e6 / STATUS_REPORTS_PER_PHASE)));
}

/** Requests fio keeps in flight: bytes done may lag the furthest byte by this many requests. */
export const FIO_IO_DEPTH = 8;

/**
 * What a job of a pass does, from its name: write and verify (one unbroken pass), write only or
 * verify only (a resumed one). A verify-only job reports its range as written too: only the
 * jobs that write count as writing.
 */
export type FioJobRole = "write-verify" | "write" | "verify";

export function roleOfJob(name: string): FioJobRole {
  return name.startsWith("verify") ? "verify" : name.startsWith("write-verify") ? "write-verify" : "write";
}

/**
 * fio's argv for a pass. Each range goes in 1 MiB requests; a last part under 1 MiB (drives are
 * rarely a whole number of MiB) is a job of 4 KiB requests of its own, so every 4 KiB of the range
 * is written and verified. The jobs run one after another (stonewall). Every value is Kiln's own
 * (numbers, a device path checked before).
 */
export function fioArgv(plan: FioPassPlan): string[] {
  const { toByte, start } = plan;
  const fromByte = start.fromByte;
  if (!(toByte > fromByte)) throw new Error(`fio pass: empty range ${fromByte}-${toByte}`);
  if (fromByte % VERIFY_INTERVAL !== 0 || toByte % VERIFY_INTERVAL !== 0) {
    throw new Error(`fio pass: the range ${fromByte}-${toByte} is not on ${VERIFY_INTERVAL}-byte boundaries`);
  }
  const jobs: string[] = [];
  const range = (role: FioJobRole, from: number) => {
    const mainEnd = from + Math.floor((toByte - from) / FIO_BLOCK_SIZE) * FIO_BLOCK_SIZE;
    const job = (name: string, bs: number, a: number, b: number) => {
      jobs.push(
        `--name=${name}`,
        ...(jobs.length > 0 ? ["--stonewall"] : []),
        `--bs=${bs}`,
        `--verify_interval=${VERIFY_INTERVAL}`,
        `--offset=${a}`,
        `--size=${b - a}`,
        role === "verify" ? "--verify_only=1" : `--do_verify=${role === "write-verify" ? 1 : 0}`,
      );
    };
    if (mainEnd > from) job(role, FIO_BLOCK_SIZE, from, mainEnd);
    if (toByte > mainEnd) job(`${role}-tail`, VERIFY_INTERVAL, mainEnd, toByte);
  };
  if (start.phase === 2) range("verify", fromByte);
  else if (fromByte === 0) range("write-verify", 0);
  else {
    range("write", fromByte);
    range("verify", 0);
  }
  return [
    "fio",
    `--filename=${plan.device}`,
    "--rw=write",
    "--direct=1",
    "--ioengine=libaio",
    `--iodepth=${plan.ioDepth ?? FIO_IO_DEPTH}`,
    "--verify=crc32c",
    "--verify_fatal=1",
    "--verify_dump=0",
    "--verify_state_save=0",
    `--randseed=${plan.seed}`,
    // json+: each direction's completion latencies as a histogram too (clat_ns.bins, cumulative),
    // so that Kiln can tell the latencies of each interval from the difference of two reports.
    "--output-format=json+",
    `--status-interval=${plan.statusIntervalSeconds ?? statusIntervalFor(toByte)}`,
    `--output=${plan.statusFile}`,
    "--eta=never",
    ...jobs,
  ];
}

/**
 * Bytes of the range done at the last report, as a prefix: written (phase 1) or verified (phase
 * 2) from the first byte, whatever jobs the pass ran.
 */
export function passBytes(start: FioStart, status: FioStatus, size: number): { written: number; verified: number } {
  let written = start.phase === 2 ? size : start.fromByte;
  let verified = start.phase === 2 ? start.fromByte : 0;
  for (const job of status.jobs) {
    const role = roleOfJob(job.name);
    if (role !== "verify") written += job.writtenBytes;
    verified += job.verifiedBytes;
  }
  return { written: Math.min(written, size), verified: Math.min(verified, size) };
}

/**
 * Where a pass interrupted at `pct` percent of `phase` goes on: the bytes that percent stands for
 * (a lower bound), less what fio may have had in flight, down to a whole request. Phase 1 at its
 * first bytes starts the pass again.
 */
export function resumePoint(phase: number, pct: number, size: number, ioDepth = FIO_IO_DEPTH): FioStart {
  const done = Math.floor((Math.max(0, Math.min(100, pct)) / 100) * size);
  const from = Math.max(0, Math.floor((done - ioDepth * FIO_BLOCK_SIZE) / FIO_BLOCK_SIZE) * FIO_BLOCK_SIZE);
  if (phase >= 2) return { phase: 2, fromByte: Math.min(from, Math.max(0, size - VERIFY_INTERVAL)) };
  return { phase: 1, fromByte: from };
}

/** One job of a status report: bytes done so far and completion latencies (cumulative). */
export interface FioJobStatus {
  name: string;
  /** fio's error number for the job (0: none yet). */
  error: number;
  writtenBytes: number;
  /** Bytes read back and verified. */
  verifiedBytes: number;
  writeLatencyMs: LatencyPercentiles | null;
  readLatencyMs: LatencyPercentiles | null;
  /** Every completion latency so far as fio's histogram: bucket (ns) -> requests (json+ output). */
  writeBins: LatencyBins;
  readBins: LatencyBins;
}

export type LatencyBins = ReadonlyMap<number, number>;

export interface LatencyPercentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface FioStatus {
  /** fio's clock when it printed the report, ms. */
  at: number;
  jobs: FioJobStatus[];
}

type Json = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

function bins(direction: Json | undefined): LatencyBins {
  const raw = (direction?.clat_ns as Json | undefined)?.bins;
  const out = new Map<number, number>();
  if (typeof raw !== "object" || raw === null) return out;
  for (const [bucket, count] of Object.entries(raw as Record<string, unknown>)) {
    const ns = Number(bucket);
    if (Number.isFinite(ns) && ns >= 0 && num(count) > 0) out.set(ns, num(count));
  }
  return out;
}

function latency(direction: Json | undefined): LatencyPercentiles | null {
  const clat = direction?.clat_ns as Json | undefined;
  const percentile = clat?.percentile as Record<string, unknown> | undefined;
  if (!clat || num(clat.N) === 0) return null;
  const ms = (ns: unknown) => Math.round(num(ns) / 1e4) / 100;
  return { p50: ms(percentile?.["50.000000"]), p99: ms(percentile?.["99.000000"]), max: ms(clat.max) };
}

/** A status report of fio's JSON output, or null when `value` is not one. */
export function readFioStatus(value: unknown): FioStatus | null {
  if (typeof value !== "object" || value === null) return null;
  const report = value as Json;
  if (!Array.isArray(report.jobs)) return null;
  const jobs = (report.jobs as unknown[]).flatMap((raw): FioJobStatus[] => {
    if (typeof raw !== "object" || raw === null) return [];
    const job = raw as Json;
    const write = job.write as Json | undefined;
    const read = job.read as Json | undefined;
    return [
      {
        name: typeof job.jobname === "string" ? job.jobname : "",
        error: num(job.error),
        writtenBytes: num(write?.io_bytes),
        verifiedBytes: num(read?.io_bytes),
        writeLatencyMs: latency(write),
        readLatencyMs: latency(read),
        writeBins: bins(write),
        readBins: bins(read),
      },
    ];
  });
  return { at: num(report.timestamp_ms), jobs };
}

/**
 * The completion latencies of the requests of one direction done between two reports of a pass
 * (`before` null: since the pass began): the difference of their histograms, summed over the
 * pass's jobs. fio's buckets are about 1.6% wide, so these are within that of the true values;
 * `max` is the highest bucket reached. Null when no request of that direction completed.
 */
export function intervalLatency(before: FioStatus | null, after: FioStatus, direction: "write" | "read"): IntervalLatency | null {
  const key = direction === "write" ? "writeBins" : "readBins";
  const counts = new Map<number, number>();
  for (const job of after.jobs) {
    const earlier = before?.jobs.find((j) => j.name === job.name)?.[key];
    for (const [ns, count] of job[key]) {
      const added = count - (earlier?.get(ns) ?? 0);
      if (added > 0) counts.set(ns, (counts.get(ns) ?? 0) + added);
    }
  }
  const buckets = [...counts.keys()].sort((a, b) => a - b);
  const requests = buckets.reduce((sum, ns) => sum + (counts.get(ns) ?? 0), 0);
  if (requests === 0) return null;
  const percentile = (p: number) => {
    let seen = 0;
    for (const ns of buckets) {
      seen += counts.get(ns) ?? 0;
      if (seen >= p * requests) return ns;
    }
    return buckets.at(-1) as number;
  };
  // To the microsecond: buffered or cached requests complete in tens of them.
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  return { requests, p50: ms(percentile(0.5)), p99: ms(percentile(0.99)), max: ms(buckets.at(-1) as number) };
}

export interface IntervalLatency extends LatencyPercentiles {
  /** Requests completed in the interval. */
  requests: number;
}

/**
 * fio's --output file while it runs: a JSON report every status interval, one after another.
 * Text is pushed as it is read (any split); each complete report comes out once. Whatever is
 * not a report (a torn or foreign line) is skipped up to the next report's start.
 */
export class FioStatusStream {
  private buffer = "";
  /** Scan state within `buffer`: where the next character is looked at, inside which object. */
  private at = 0;
  private start = -1;
  private depth = 0;
  private inString = false;

  /** Bytes pushed that belong to a report not yet complete. */
  pendingBytes(): number {
    return this.start >= 0 ? this.buffer.length - this.start : 0;
  }

  push(text: string): FioStatus[] {
    this.buffer += text;
    const reports: FioStatus[] = [];
    for (; this.at < this.buffer.length; this.at++) {
      const c = this.buffer[this.at];
      if (this.start < 0) {
        if (c === "{") {
          this.start = this.at;
          this.depth = 1;
        }
      } else if (this.inString) {
        if (c === "\\") this.at++;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === "{") this.depth++;
      else if (c === "}" && --this.depth === 0) {
        const status = parseReport(this.buffer.slice(this.start, this.at + 1));
        if (status) reports.push(status);
        this.start = -1;
      }
    }
    // Keep only the report being read; one that never closes (over 4 MiB) is not fio's.
    const keep = this.start >= 0 && this.at - this.start <= 4 << 20 ? this.start : this.at;
    if (keep === this.at) this.start = -1;
    this.buffer = this.buffer.slice(keep);
    this.at -= keep;
    if (this.start >= 0) this.start -= keep;
    return reports;
  }
}

function parseReport(text: string): FioStatus | null {
  try {
    return readFioStatus(JSON.parse(text));
  } catch {
    return null; // not JSON after all
  }
}

/** What a failed verify or I/O error says about the drive, at the first byte it concerns. */
export type FioFinding =
  /** The data read at `offset` was written for `writtenFor`: a misdirected write. */
  | { kind: "misplaced"; offset: number; writtenFor: number }
  /** The same, `writtenFor` far beyond `offset`: the drive wraps its addresses (fake capacity). */
  | { kind: "aliased"; offset: number; writtenFor: number }
  /** The data at `offset` is not what Kiln wrote there (checksum), or not Kiln's at all (header). */
  | { kind: "corrupted" | "foreign"; offset: number }
  | { kind: "io_error"; offset: number; direction: "read" | "write"; message: string };

/**
 * The first finding in fio's standard error (its log), or null. A displacement of at least an
 * eighth of the range is taken for aliasing: misdirected writes land near their target, a drive
 * sold larger than it is writes its upper addresses over its lower ones.
 */
export function firstFioFinding(log: string, rangeBytes: number): FioFinding | null {
  for (const line of log.split("\n")) {
    let m = /^verify: bad header offset (\d+), wanted \d+ at file .+? offset (\d+), length \d+/.exec(line);
    if (m) {
      const writtenFor = Number(m[1]);
      const offset = Number(m[2]);
      return { kind: writtenFor - offset >= rangeBytes / 8 ? "aliased" : "misplaced", offset, writtenFor };
    }
    m = /^\w+: verify failed at file .+? offset (\d+), length \d+/.exec(line);
    if (m) return { kind: "corrupted", offset: Number(m[1]) };
    m = /^verify: bad (?:magic header|header length|header type|header crc) .* at file .+? offset (\d+), length \d+/.exec(line);
    if (m) return { kind: "foreign", offset: Number(m[1]) };
    m = /^fio: io_u error on file .+?: (.+): (read|write) offset=(\d+), buflen=\d+/.exec(line);
    if (m) return { kind: "io_error", offset: Number(m[3]), direction: m[2] as "read" | "write", message: m[1] as string };
  }
  return null;
}

/** The finding in words, for the stage's error and the report. */
export function describeFinding(f: FioFinding): string {
  switch (f.kind) {
    case "misplaced":
      return `the data read at byte ${f.offset} was written for byte ${f.writtenFor}: a misdirected write`;
    case "aliased":
      return `the data read at byte ${f.offset} was written for byte ${f.writtenFor}: the drive wraps its addresses and holds at most ${f.writtenFor - f.offset} bytes, not what it reports (fake capacity)`;
    case "corrupted":
      return `the data read at byte ${f.offset} does not match its checksum: corrupted`;
    case "foreign":
      return `the data read at byte ${f.offset} is not what was written there (a lost write)`;
    case "io_error":
      return `${f.direction} error at byte ${f.offset}: ${f.message}`;
  }
}
