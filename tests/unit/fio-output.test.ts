// fio's output as Kiln reads it: the JSON status reports of a pass (recorded on a throttled loop
// device: 16 MiB at 4 MiB/s plus an 8 KiB tail), and the verify errors of a misdirected write, an
// aliasing (fake-capacity) device and a corrupted block, recorded from fio 3.33 on loop devices
// (tests/fixtures/README.md).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  describeFinding,
  type FioStart,
  FioStatusStream,
  fioArgv,
  firstFioFinding,
  intervalLatency,
  passBytes,
  resumePoint,
  STATUS_REPORTS_PER_PHASE,
  statusIntervalFor,
} from "../../server/parsers/fio.js";

const FIXTURES = path.resolve(import.meta.dirname, "..", "fixtures", "fio");
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");
const MiB = 1 << 20;

describe("fio's status reports", () => {
  const text = fixture("pass-status.json");
  const progress = (reports: ReturnType<FioStatusStream["push"]>) =>
    reports.map((r) => [r.jobs.reduce((s, j) => s + j.writtenBytes, 0), r.jobs.reduce((s, j) => s + j.verifiedBytes, 0)]);

  it("come out once each, in order, from the whole file: written to the end, then verified to the end", () => {
    const reports = new FioStatusStream().push(text);
    expect(reports).toHaveLength(8);
    const seen = progress(reports);
    expect(seen[0]).toEqual([3 * MiB, 0]);
    expect(seen.at(-1)).toEqual([16 * MiB + 8192, 16 * MiB + 8192]);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]?.[0]).toBeGreaterThanOrEqual(seen[i - 1]?.[0] as number);
      expect(seen[i]?.[1]).toBeGreaterThanOrEqual(seen[i - 1]?.[1] as number);
    }
    expect(reports.map((r) => r.jobs.map((j) => j.name))).toEqual(Array(8).fill(["kiln-scan", "kiln-tail"]));
    expect(reports.every((r) => r.at > 1.7e12 && r.jobs.every((j) => j.error === 0))).toBe(true);
  });

  it("are the same whatever the reads split the file into", () => {
    const whole = new FioStatusStream().push(text);
    for (const size of [1, 7, 4096, 65_536]) {
      const stream = new FioStatusStream();
      const reports = [];
      for (let i = 0; i < text.length; i += size) reports.push(...stream.push(text.slice(i, i + size)));
      expect(reports).toEqual(whole);
    }
  });

  it("carry the completion latencies of each direction once it has any", () => {
    const reports = new FioStatusStream().push(text);
    const first = reports[0]?.jobs[0];
    expect(first?.writeLatencyMs?.p99).toBeGreaterThan(0);
    expect(first?.readLatencyMs).toBeNull();
    const last = reports.at(-1)?.jobs[0];
    expect(last?.readLatencyMs?.p50).toBeGreaterThan(0);
    // Percentiles are fio's histogram buckets: p99 may sit a bucket above the true maximum.
    expect(last?.readLatencyMs?.p99).toBeGreaterThanOrEqual(last?.readLatencyMs?.p50 as number);
    expect(last?.readLatencyMs?.max).toBeGreaterThan(0);
  });

  it("give the latencies of each interval from json+ histograms: the interval's requests only, in the phase's direction", () => {
    const reports = new FioStatusStream().push(fixture("pass-status-plus.json"));
    expect(reports).toHaveLength(9);
    const totals = (r: (typeof reports)[number], d: "write" | "read") =>
      r.jobs.reduce((n, j) => n + [...j[d === "write" ? "writeBins" : "readBins"].values()].reduce((a, b) => a + b, 0), 0);
    let written = 0;
    let read = 0;
    reports.forEach((report, i) => {
      const before = i === 0 ? null : (reports[i - 1] ?? null);
      for (const d of ["write", "read"] as const) {
        const interval = intervalLatency(before, report, d);
        const added = totals(report, d) - (before ? totals(before, d) : 0);
        if (added === 0) {
          expect(interval).toBeNull();
          continue;
        }
        expect(interval?.requests).toBe(added);
        expect(interval?.p50).toBeGreaterThan(0);
        expect(interval?.p99).toBeGreaterThanOrEqual(interval?.p50 as number);
        expect(interval?.max).toBeGreaterThanOrEqual(interval?.p99 as number);
        if (d === "write") written += added;
        else read += added;
      }
    });
    // Every request of the pass is in exactly one interval: 16 of 1 MiB and 2 of 4 KiB each way.
    expect([written, read]).toEqual([18, 18]);
    // At 4 MiB/s with 8 requests in flight a 1 MiB write waits for the 7 before it: about 2 s
    // each in the middle of the pass, not the few milliseconds of the tail's 4 KiB requests.
    const middle = intervalLatency(reports[1] ?? null, reports[2] as (typeof reports)[number], "write");
    expect(middle?.p50).toBeGreaterThan(1000);
    const tail = intervalLatency(reports[7] ?? null, reports[8] as (typeof reports)[number], "write");
    expect(tail).toMatchObject({ requests: 2 });
    expect(tail?.max).toBeLessThan(100);
  });

  it("take percentiles as fio does: the first bucket that holds that share of the interval's requests", () => {
    const job = (write: Array<[number, number]>) => ({
      at: 0,
      jobs: [
        {
          name: "write-verify",
          error: 0,
          writtenBytes: 0,
          verifiedBytes: 0,
          writeLatencyMs: null,
          readLatencyMs: null,
          writeBins: new Map(write),
          readBins: new Map(),
        },
      ],
    });
    const after = job([
      [100_000, 98],
      [10_000_000, 2],
    ]);
    expect(intervalLatency(null, after, "write")).toEqual({ requests: 100, p50: 0.1, p99: 10, max: 10 });
    // 50 fast ones were before the interval: 48 fast and 2 slow in it, so its p99 is a slow one.
    expect(intervalLatency(job([[100_000, 50]]), after, "write")).toEqual({ requests: 50, p50: 0.1, p99: 10, max: 10 });
    expect(intervalLatency(after, after, "write")).toBeNull();
    expect(intervalLatency(null, after, "read")).toBeNull();
  });

  it("skip what is not a report: a line of text, a torn object, JSON of another shape", () => {
    const stream = new FioStatusStream();
    const one = text.slice(0, text.indexOf("\n}\n") + 3);
    expect(stream.push(`fio: something said\n{"jobs": "no"}\n{ "a": 1 }\n${one}`)).toHaveLength(1);
    expect(stream.push('{"jobs": [ { "jobname": "x", "error": 0, "write": { "io_bytes": 5 } } ]')).toHaveLength(0);
    expect(stream.push("}")[0]?.jobs[0]?.writtenBytes).toBe(5);
  });
});

describe("fio's verify errors", () => {
  it("a block read back from another place: misplaced, at its first 4 KiB", () => {
    const finding = firstFioFinding(fixture("misplaced-stderr.txt"), 32 * MiB);
    expect(finding).toEqual({ kind: "misplaced", offset: 5 * MiB + 4096, writtenFor: 5 * MiB + 12_288 });
    expect(describeFinding(finding as NonNullable<typeof finding>)).toBe(
      "the data read at byte 5246976 was written for byte 5255168: a misdirected write",
    );
  });

  it("the upper half written over the lower half: aliased, the drive's real size said", () => {
    const finding = firstFioFinding(fixture("aliased-stderr.txt"), 16 * MiB);
    expect(finding).toEqual({ kind: "aliased", offset: 0, writtenFor: 8 * MiB });
    expect(describeFinding(finding as NonNullable<typeof finding>)).toMatch(
      /holds at most 8388608 bytes, not what it reports \(fake capacity\)$/,
    );
  });

  it("a changed byte: corrupted, at its block", () => {
    expect(firstFioFinding(fixture("corrupted-stderr.txt"), 32 * MiB)).toEqual({ kind: "corrupted", offset: 5 * MiB });
  });

  it("nothing found in a clean log", () => {
    expect(firstFioFinding("", 32 * MiB)).toBeNull();
    expect(firstFioFinding("fio-3.33\nStarting 1 process\n", 32 * MiB)).toBeNull();
  });
});

describe("a pass's command line", () => {
  const plan = (toByte: number, start: FioStart) => ({ device: "/dev/sdb", toByte, start, seed: 99, statusFile: "status.json" });
  /** The jobs of an argv, each as its options. */
  const jobsOf = (argv: string[]) =>
    argv
      .join(" ")
      .split("--name=")
      .slice(1)
      .map((j) => j.trim());

  it("writes and verifies the range with direct I/O, a header every 4 KiB and the job's seed", () => {
    const argv = fioArgv(plan(4 * MiB, { phase: 1, fromByte: 0 }));
    expect(argv).toEqual(
      expect.arrayContaining(["--direct=1", "--verify=crc32c", "--verify_interval=4096", "--randseed=99", "--do_verify=1"]),
    );
    expect(argv).toContain("--filename=/dev/sdb");
    expect(argv).not.toContain("--verify_only=1");
    expect(jobsOf(argv)).toEqual(["write-verify --bs=1048576 --verify_interval=4096 --offset=0 --size=4194304 --do_verify=1"]);
  });

  it("writes a size that is not a whole number of MiB to its last 4 KiB, with a second job for the tail", () => {
    const jobs = jobsOf(fioArgv(plan(4 * MiB + 8192, { phase: 1, fromByte: 0 })));
    expect(jobs).toEqual([
      "write-verify --bs=1048576 --verify_interval=4096 --offset=0 --size=4194304 --do_verify=1",
      "write-verify-tail --stonewall --bs=4096 --verify_interval=4096 --offset=4194304 --size=8192 --do_verify=1",
    ]);
  });

  it("resumes a write where it stopped and then verifies from the first byte", () => {
    const jobs = jobsOf(fioArgv(plan(4 * MiB + 8192, { phase: 1, fromByte: 2 * MiB })));
    expect(jobs).toEqual([
      "write --bs=1048576 --verify_interval=4096 --offset=2097152 --size=2097152 --do_verify=0",
      "write-tail --stonewall --bs=4096 --verify_interval=4096 --offset=4194304 --size=8192 --do_verify=0",
      "verify --stonewall --bs=1048576 --verify_interval=4096 --offset=0 --size=4194304 --verify_only=1",
      "verify-tail --stonewall --bs=4096 --verify_interval=4096 --offset=4194304 --size=8192 --verify_only=1",
    ]);
  });

  it("verifies only, from where a resumed verify left off", () => {
    const jobs = jobsOf(fioArgv(plan(4 * MiB, { phase: 2, fromByte: 2 * MiB })));
    expect(jobs).toEqual(["verify --bs=1048576 --verify_interval=4096 --offset=2097152 --size=2097152 --verify_only=1"]);
  });

  it("reports once a second on a small drive and at most every 30 s on a large one, so a pass's reports stay near 10,000", () => {
    const TB = 1e12;
    expect(fioArgv(plan(4 * MiB, { phase: 1, fromByte: 0 }))).toContain("--status-interval=1");
    expect(statusIntervalFor(TB)).toBe(1);
    expect(statusIntervalFor(4 * TB)).toBe(4);
    expect(statusIntervalFor(24 * TB)).toBe(24);
    expect(statusIntervalFor(44 * TB)).toBe(30);
    // A 24 TB pass at 200 MB/s on average: 2 phases of 120,000 s each. One report a second was
    // 240,000 reports of about 12.6 KB (3 GB on the host); now there are 10,000 (126 MB).
    const reports = (2 * (24 * TB)) / 200e6 / statusIntervalFor(24 * TB);
    expect(reports).toBe(2 * STATUS_REPORTS_PER_PHASE);
  });

  it("refuses a range that is empty or not on 4 KiB", () => {
    expect(() => fioArgv(plan(MiB, { phase: 2, fromByte: MiB }))).toThrow(/empty/);
    expect(() => fioArgv(plan(MiB + 100, { phase: 1, fromByte: 0 }))).toThrow(/4096/);
    expect(() => fioArgv(plan(4 * MiB, { phase: 1, fromByte: 100 }))).toThrow(/4096/);
  });
});

describe("a resumed pass's bytes", () => {
  const report = (jobs: Array<[string, number, number]>) => ({
    at: 0,
    jobs: jobs.map(([name, writtenBytes, verifiedBytes]) => ({
      name,
      error: 0,
      writtenBytes,
      verifiedBytes,
      writeLatencyMs: null,
      readLatencyMs: null,
      writeBins: new Map(),
      readBins: new Map(),
    })),
  });

  it("counts a verify-only job's range as verified, not written (fio reports it under both)", () => {
    // Measured with fio 3.33: a --verify_only=1 job over 8 MiB reports write io_bytes 8388608 and read 8388608.
    const start = { phase: 1, fromByte: 2 * MiB } as const;
    expect(passBytes(start, report([["write", 6 * MiB, 0]]), 8 * MiB)).toEqual({ written: 8 * MiB, verified: 0 });
    expect(
      passBytes(
        start,
        report([
          ["write", 6 * MiB, 0],
          ["verify", 3 * MiB, 3 * MiB],
        ]),
        8 * MiB,
      ),
    ).toEqual({
      written: 8 * MiB,
      verified: 3 * MiB,
    });
    expect(passBytes({ phase: 2, fromByte: 4 * MiB }, report([["verify", MiB, MiB]]), 8 * MiB)).toEqual({
      written: 8 * MiB,
      verified: 5 * MiB,
    });
    expect(passBytes({ phase: 1, fromByte: 0 }, report([["write-verify", 8 * MiB, MiB]]), 8 * MiB)).toEqual({
      written: 8 * MiB,
      verified: MiB,
    });
  });

  it("goes on from the stored percent, less what fio had in flight, down to a whole MiB", () => {
    const size = 1000 * MiB;
    // 37.5% of 1000 MiB is 375 MiB; 8 requests of 1 MiB may not have landed.
    expect(resumePoint(1, 37.5, size)).toEqual({ phase: 1, fromByte: 367 * MiB });
    expect(resumePoint(2, 50.01, size)).toEqual({ phase: 2, fromByte: 492 * MiB });
    expect(resumePoint(1, 0.5, size)).toEqual({ phase: 1, fromByte: 0 });
    expect(resumePoint(2, 0, size)).toEqual({ phase: 2, fromByte: 0 });
    // Never at or past the end: a verify that had reached 100% checks its last bytes again.
    expect(resumePoint(2, 100, 4 * MiB, 0)).toEqual({ phase: 2, fromByte: 4 * MiB - 4096 });
    expect(resumePoint(1, 250, size).fromByte).toBeLessThan(size);
  });
});
