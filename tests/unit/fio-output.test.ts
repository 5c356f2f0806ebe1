// fio's output as Kiln reads it: the JSON status reports of a pass (recorded on a throttled loop
// device: 16 MiB at 4 MiB/s plus an 8 KiB tail), and the verify errors of a misdirected write, an
// aliasing (fake-capacity) device and a corrupted block, recorded from fio 3.33 on loop devices
// (tests/fixtures/README.md).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describeFinding, FioStatusStream, fioArgv, firstFioFinding } from "../../server/parsers/fio.js";

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
      /holds about 8388608 bytes, not what it reports \(fake capacity\)$/,
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
  it("writes and verifies the range with direct I/O, a header every 4 KiB and the job's seed", () => {
    const argv = fioArgv({ device: "/dev/sdb", fromByte: 0, toByte: 4 * MiB, mode: "write", seed: 99, statusFile: "status.json" });
    expect(argv).toEqual(
      expect.arrayContaining(["--direct=1", "--verify=crc32c", "--verify_interval=4096", "--randseed=99", "--do_verify=1"]),
    );
    expect(argv).toContain("--filename=/dev/sdb");
    expect(argv).not.toContain("--verify_only=1");
  });

  it("writes a size that is not a whole number of MiB to its last 4 KiB, with a second job for the tail", () => {
    const argv = fioArgv({ device: "/dev/sdb", fromByte: 0, toByte: 4 * MiB + 8192, mode: "write", seed: 1, statusFile: "s" });
    const jobs = argv.join(" ").split("--name=").slice(1);
    expect(jobs).toHaveLength(2);
    expect(jobs[0]).toMatch(/--offset=0 --size=4194304/);
    expect(jobs[1]).toMatch(/--stonewall --bs=4096 --verify_interval=4096 --offset=4194304 --size=8192/);
  });

  it("verifies only, from where a resumed pass left off", () => {
    const argv = fioArgv({ device: "/dev/sdb", fromByte: 2 * MiB, toByte: 4 * MiB, mode: "verify", seed: 1, statusFile: "s" });
    expect(argv).toContain("--verify_only=1");
    expect(argv.join(" ")).toMatch(/--offset=2097152 --size=2097152/);
  });

  it("refuses a range that is empty or not on 4 KiB", () => {
    expect(() => fioArgv({ device: "/dev/sdb", fromByte: MiB, toByte: MiB, mode: "write", seed: 1, statusFile: "s" })).toThrow(/empty/);
    expect(() => fioArgv({ device: "/dev/sdb", fromByte: 0, toByte: MiB + 100, mode: "write", seed: 1, statusFile: "s" })).toThrow(/4096/);
  });
});
