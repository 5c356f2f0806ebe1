// The framing of a batched scan poll, against what a broken or hostile host could answer.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { batchScript, type PollRequest, parseBatch } from "../../server/transport/poll-batch.js";

const identity = { pid: 42, startTime: "100", bootId: "boot" };
const batch: PollRequest[] = [
  { kind: "log", path: "/w/a/log", offset: 0, maxBytes: 8 },
  { kind: "state", identity },
  { kind: "log", path: "/w/b/log", offset: 5, maxBytes: 8 },
];

describe("parseBatch", () => {
  it("gives each request its own answer, bytes of any kind included", () => {
    const out = Buffer.concat([
      Buffer.from("=0 log 4\n"),
      Buffer.from([0x0a, 0x08, 0x3d, 0x30]),
      Buffer.from("=1 state S 100 boot\n=2 missing\n"),
    ]);
    expect(parseBatch(out, batch)).toEqual([
      { kind: "log", data: Buffer.from([0x0a, 0x08, 0x3d, 0x30]) },
      { kind: "state", fields: ["S", "100", "boot"] },
      { kind: "missing" },
    ]);
  });

  it("reads a process that ends between the poll's look and its read as gone, not as broken output", () => {
    // The poll script run by sh, its `sed` finding /proc/<pid>/stat gone (as when the process
    // ends just then): on CI a scan that had passed was called unknown for "state  <boot>".
    const bin = mkdtempSync(path.join(tmpdir(), "kiln-poll-"));
    writeFileSync(path.join(bin, "sed"), "#!/bin/sh\nexit 2\n");
    chmodSync(path.join(bin, "sed"), 0o755);
    const requests: PollRequest[] = [{ kind: "state", identity: { pid: process.pid, startTime: "1", bootId: "b" } }];
    const run = (env: NodeJS.ProcessEnv) => execFileSync("sh", ["-c", batchScript(requests)], { env });
    const vanished = parseBatch(run({ PATH: `${bin}:/usr/bin:/bin` }), requests);
    expect(vanished).toEqual([{ kind: "state", fields: ["-", "-", expect.any(String)] }]);
    // With the real sed: this process's state and start time.
    const [answer] = parseBatch(run({ PATH: "/usr/bin:/bin" }), requests);
    expect(answer).toMatchObject({
      kind: "state",
      fields: [expect.stringMatching(/^[RS]$/), expect.stringMatching(/^\d+$/), expect.any(String)],
    });
  });

  it("reads a command's exit code and output, and refuses more output than it allows", () => {
    const commands: PollRequest[] = [{ kind: "exec", argv: ["smartctl", "-x", "-j", "/dev/sda"], maxBytes: 5 }];
    expect(parseBatch(Buffer.from("=0 exec 4 2\n{}"), commands)).toEqual([{ kind: "exec", code: 4, data: Buffer.from("{}") }]);
    expect(() => parseBatch(Buffer.from("=0 exec 0 6\n123456"), commands)).toThrow(/cannot read/);
  });

  it.each([
    ["more bytes than the request allows", "=0 log 9\n123456789=1 state S 100 boot\n=2 missing\n"],
    ["a length past the end of the output", "=0 log 8\n1234"],
    ["answers out of order", "=1 state S 100 boot\n=0 log 0\n=2 missing\n"],
    ["an answer of another kind", "=0 state S 100 boot\n=1 state S 100 boot\n=2 missing\n"],
    ["a missing answer", "=0 log 0\n=1 state S 100 boot\n"],
    ["extra output after the last answer", "=0 log 0\n=1 state S 100 boot\n=2 missing\nmore"],
    ["a header line without an end", `=0 log ${"9".repeat(500)}`],
  ])("refuses the whole batch on %s", (_what, text) => {
    expect(() => parseBatch(Buffer.from(text, "latin1"), batch)).toThrow(/output Kiln cannot read.*nothing of it was used/);
  });
});
