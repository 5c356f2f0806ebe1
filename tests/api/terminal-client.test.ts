// The terminal client (`kiln status | watch | start | cancel | jobs`) as an operator runs it over
// SSH on a NAS: real `kiln` processes talking to a real Kiln over HTTP with an API token. What a
// host reports (a drive's model) cannot reach the terminal as control characters.
import { execFile } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/config.js";
import { type RunningKiln, startKiln } from "../../server/main.js";
import { type Credentials, gqlAs, setUpAccounts } from "../helpers/accounts.js";
import { COMPILED_KILN, ensureCompiled } from "../helpers/kiln-process.js";
import { migratedDataDir, removeTempDirs } from "../helpers/temp-db.js";
import { msOf } from "../helpers/units.js";

const KILN = path.resolve(import.meta.dirname, "..", "..", "bin", "kiln.js");
/** Each `kiln` process compiles Kiln's TypeScript as it starts: seconds on a busy machine, and a test runs up to five. */
const CLI_BUDGET_MS = 180_000;
/** A hard drive of the demo host: the standard profile scans it with fio, no SSD write to confirm. */
const FIO_SERIAL = "KDEMO-A1001";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("the terminal client against a real server", () => {
  let kiln: RunningKiln;
  let creds: Credentials;
  let serials: string[] = [];

  const kilnCli = (args: string[], token: string | null = creds.tokens.operate): Promise<Run> =>
    new Promise((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, KILN_URL: kiln.url };
      if (token) env.KILN_TOKEN = token;
      else delete env.KILN_TOKEN;
      execFile("node", [KILN, ...args], { env, timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  /** A job on the demo drive with this serial (`args`: the profile and options); its id. */
  const startOn = async (serial: string, args: string): Promise<string> => {
    const drives = await gqlAs<{ drives: Array<{ id: string; serial: string }> }>(kiln.url, creds.tokens.read, "{ drives { id serial } }");
    const drive = drives.data?.drives.find((d) => d.serial === serial);
    const started = await gqlAs<{ startBurnIn: { data: Array<{ id: string }> } }>(
      kiln.url,
      creds.tokens.operate,
      `mutation($ids: [ID!]!) { startBurnIn(driveIds: $ids, ${args}) { ... on StartBurnInSuccess { data { id } } } }`,
      { ids: [drive?.id] },
    );
    return started.data?.startBurnIn.data[0]?.id as string;
  };
  /** A 3-second simulated job on the demo drive with this serial; its id. */
  const startSimulated = (serial: string) => startOn(serial, "profile: simulate, options: { simulateSeconds: 3, simulateHz: 4 }");

  /** `kiln watch --job` from the compiled dist/ on a new pty `columns` wide (util-linux `script`), as in an SSH session. */
  const watchInTerminal = (jobId: string, columns: number, timeout = 120_000): Promise<Run> => {
    const shell = `stty cols ${columns} rows 40; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(COMPILED_KILN)} watch --job ${jobId}`;
    return new Promise<Run>((resolve) =>
      execFile(
        "script",
        ["--quiet", "--flush", "--return", "--command", shell, "/dev/null"],
        { env: { ...process.env, KILN_URL: kiln.url, KILN_TOKEN: creds.tokens.read, TERM: "xterm" }, timeout },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  };

  beforeAll(async () => {
    kiln = await startKiln(
      loadConfig(["--port", "0", "--data", migratedDataDir(), "--demo"], {
        KILN_INVENTORY_INTERVAL: "0",
        // The standard profile's fio scan of a 256 MiB demo drive at 32 MiB/s (8 s each way), self-tests of 1 s.
        KILN_DEMO_PACE: "rate=32,short=1,long=1",
      }),
      () => {},
    );
    creds = await setUpAccounts(kiln.url);
    const r = await gqlAs<{ drives: Array<{ serial: string }> }>(kiln.url, creds.tokens.read, "{ drives { serial } }");
    serials = (r.data?.drives ?? []).map((d) => d.serial).sort();
  });
  afterAll(async () => {
    await kiln?.stop();
    removeTempDirs();
  });

  it(
    "shows hosts and drives with a token, and says what is missing without one",
    async () => {
      const refused = await kilnCli(["status"], null);
      expect(refused).toMatchObject({ code: 1, stderr: "kiln: Kiln wants an API token: set KILN_TOKEN (or --token)\n" });
      const shown = await kilnCli(["status"], creds.tokens.read);
      expect(shown.code).toBe(0);
      expect(shown.stdout.split("\n")[0]).toMatch(/^HOST\s+STATUS\s+DEVICE\s+SERIAL\s+MODEL\s+SIZE\s+TEMP\s+STATE$/);
      for (const serial of serials)
        expect(shown.stdout).toMatch(new RegExp(`demo\\s+ok\\s+\\S+\\s+${serial}\\s.*268 MB\\s+\\d+°C\\s+free`));
      expect(shown.stdout).toContain("No jobs running or queued.");
    },
    CLI_BUDGET_MS,
  );

  it(
    "starts and cancels a burn-in by serial, within its token's scope",
    async () => {
      const serial = serials[0] as string;
      const tooLittle = await kilnCli(["start", "--serial", serial, "--profile", "simulate"], creds.tokens.read);
      expect(tooLittle.code).toBe(1);
      expect(tooLittle.stderr).toBe('kiln: startBurnIn needs the operate scope; the token "test-read" of user admin has the read scope\n');
      // Without a profile: what each would take on this drive, then the refusal.
      const choose = await kilnCli(["start", "--serial", serial]);
      expect(choose.code).toBe(1);
      expect(choose.stderr).toBe("kiln: start: --profile is required (standard, full, quick, ssd, nvme, simulate)\n");
      expect(choose.stdout).toMatch(
        new RegExp(`^profiles for ${serial} on demo \\(estimates from its size and kind\\):\nPROFILE\\s+ABOUT\n`),
      );
      for (const profile of ["standard", "full", "quick"]) expect(choose.stdout).toMatch(new RegExp(`\\n${profile}\\s+\\d+m\\d\\ds\\n`));
      expect(choose.stdout).not.toMatch(/simulate/);
      const started = await kilnCli(["start", "--serial", serial, "--profile", "simulate"]);
      expect(started.code).toBe(0);
      const jobId = /^queued job (\S+) \(simulate\) for /.exec(started.stdout)?.[1] as string;
      expect(jobId).toBeTruthy();
      const cancelled = await kilnCli(["cancel", jobId]);
      expect(cancelled).toMatchObject({ code: 0, stdout: `job ${jobId}: cancelled\n` });
      // Asked again: the job has ended, and the answer says so.
      // A profile with an estimate says it once queued.
      const quick = await kilnCli(["start", "--serial", serials[1] as string, "--profile", "quick"]);
      expect(quick.stdout).toMatch(/\nestimated: about \d+m\d\ds \(from the drive's size and a speed curve for its kind\)\n/);
      const quickId = /^queued job (\S+) \(quick\)/.exec(quick.stdout)?.[1] as string;
      expect((await kilnCli(["cancel", quickId])).code).toBe(0);
      const again = await kilnCli(["cancel", jobId]);
      expect(again.code).toBe(1);
      expect(again.stdout).toBe("kiln: not cancelled: job already ended (cancelled)\n");
      expect((await kilnCli(["start", "--serial", "NO-SUCH-SERIAL", "--profile", "quick"])).stderr).toBe(
        "kiln: start: no drive with serial NO-SUCH-SERIAL\n",
      );
    },
    CLI_BUDGET_MS,
  );

  it(
    "follows a job to its end with `watch --job`, exiting 0 when it passed",
    async () => {
      const jobId = await startSimulated(serials[1] as string);
      const watched = await kilnCli(["watch", "--job", jobId], creds.tokens.read);
      expect(watched.code).toBe(0);
      const lines = watched.stdout.trim().split("\n");
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines[0]).toMatch(new RegExp(`^demo/${serials[1]}  (queued|running)  `));
      expect(lines.at(-1)).toMatch(new RegExp(`^demo/${serials[1]}  passed  100\\.0%  .*ETA --$`));
      // A running line carries the vitals: percent, stage, rate, temperature, bad blocks, elapsed, ETA.
      const running = lines.find((l) => l.includes("  running  ") && l.includes("simulate"));
      expect(running).toMatch(
        /running {2}\d+\.\d% {2}simulate( [1-8]\/8 (write|verify) #[1-4] \d+\.\d%)? {2}(-- MB\/s|\d+\.\d MB\/s) {2}(--|\d+)°C {2}bad \d+ {2}elapsed \d+m\d\ds {2}ETA /,
      );

      // The history, as a table and as CSV.
      const table = await kilnCli(["jobs", "--status", "passed"], creds.tokens.read);
      expect(table.stdout).toMatch(new RegExp(`^${jobId}\\s+${serials[1]}\\s+simulate\\s+passed\\s`, "m"));
      const csv = await kilnCli(["jobs", "--csv"], creds.tokens.read);
      expect(csv.stdout.split("\r\n")[0]).toBe(
        "id,serial,model,host,profile,status,verdict,progressPct,createdAt,startedAt,finishedAt,createdBy,errorText",
      );
      // The header, the two jobs started and cancelled above, and this one.
      expect(csv.stdout.split("\r\n").filter(Boolean)).toHaveLength(4);
      expect((await kilnCli(["jobs", "--status", "exploded"])).stderr).toBe(
        "kiln: jobs: --status exploded is not one of queued, running, passed, failed, cancelled, unknown\n",
      );
    },
    CLI_BUDGET_MS,
  );

  it(
    "draws live bars in a real terminal (a pseudo-terminal, 160 and 80 columns), from the compiled dist/",
    async () => {
      ensureCompiled();
      for (const columns of [160, 80]) {
        const jobId = await startSimulated(serials[3] as string);
        // stdout is a TTY there, as in an SSH session.
        const run = await watchInTerminal(jobId, columns);
        expect(run.stdout, `${columns} columns`).not.toMatch(/Cannot read properties|kiln: /);
        expect(run.code, `${columns} columns`).toBe(0);
        // A bar (cursor hidden while it draws, shown again at the end), not the lines of a pipe.
        expect(run.stdout).toContain("\u001b[?25l");
        expect(run.stdout).toContain("\u001b[?25h");
        expect(run.stdout).not.toMatch(/ {2}running {2}\d/);
        // The last drawing of the bar, as the operator sees it: whole, within the terminal's width.
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's escape sequences
        const drawn = run.stdout.split(/\u001b\[[0-9;?]*[A-Za-z]|\r/).filter((part) => part.includes(serials[3] as string));
        const last = drawn.at(-1) ?? "";
        expect(last.trimEnd().length, last).toBeLessThanOrEqual(columns);
        expect(last, `${columns} columns`).toMatch(/\|\u2588+\| ?100% passed (simulate|\|)|100% \|\u2588+\| passed simulate/);
        expect(last, `${columns} columns`).toMatch(/ETA \S+\s*$/);
      }
    },
    CLI_BUDGET_MS,
  );

  it(
    "follows a fio scan as its 2 phases, with each status interval's latencies, piped and in a 160-column terminal",
    async () => {
      ensureCompiled();
      const jobId = await startOn(FIO_SERIAL, "profile: standard");
      expect(jobId).toBeTruthy();
      // Two operators follow it at once: one through a pipe, one in a terminal.
      const [piped, drawn] = await Promise.all([
        kilnCli(["watch", "--job", jobId], creds.tokens.read),
        watchInTerminal(jobId, 160, 170_000),
      ]);
      expect(piped.code, piped.stderr).toBe(0);
      const lines = piped.stdout.trim().split("\n");
      expect(lines.at(-1)).toMatch(new RegExp(`^demo/${FIO_SERIAL}  passed  100\\.0%  `));
      const scan = lines.filter((l) => l.includes(" surface_validate "));
      // fio's pass is 2 phases, the write then the verify: never badblocks' "n/8 ... #pattern".
      expect(scan.some((l) => / surface_validate 1\/2 write \d+\.\d% /.test(l))).toBe(true);
      expect(scan.some((l) => / surface_validate 2\/2 verify \d+\.\d% /.test(l))).toBe(true);
      expect(piped.stdout).not.toMatch(/\/8 |#1/);
      // Each interval's completion latencies as fio reported them: median, 99th percentile, slowest.
      const latencies = scan
        .map((l) => / latency p50 (\S+ \S+) p99 (\S+ \S+) max (\S+ \S+) /.exec(l))
        .filter((m): m is RegExpExecArray => m !== null);
      expect(latencies.length, piped.stdout).toBeGreaterThanOrEqual(2);
      for (const [, p50, p99, max] of latencies) {
        expect(msOf(p50 as string)).toBeGreaterThan(0);
        expect(msOf(p99 as string)).toBeGreaterThanOrEqual(msOf(p50 as string));
        expect(msOf(max as string)).toBeGreaterThanOrEqual(msOf(p99 as string));
      }
      // Other stages have none, and say nothing of it.
      expect(lines.filter((l) => l.includes("latency") && !l.includes(" surface_validate "))).toEqual([]);

      // The terminal: the scan's bar says its phase of 2 and the interval's 99th percentile, within 160 columns.
      expect(drawn.code, drawn.stdout.slice(-2000)).toBe(0);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's escape sequences
      const bars = drawn.stdout.split(/\u001b\[[0-9;?]*[A-Za-z]|\r/).filter((part) => part.includes(FIO_SERIAL));
      const scanning = bars.filter((b) => / surface_validate [12]\/2 (write|verify) \d+\.\d%/.test(b));
      expect(scanning.length, bars.slice(-5).join("\n")).toBeGreaterThan(0);
      expect(scanning.some((b) => /ETA \S+ {2}p99 \d+(\.\d)? (µs|ms|s)\s*$/.test(b))).toBe(true);
      for (const bar of bars) expect(bar.trimEnd().length, bar).toBeLessThanOrEqual(160);
    },
    CLI_BUDGET_MS,
  );

  it(
    "never prints a host's control characters to the terminal",
    async () => {
      await kiln.database.db.drive.updateMany({
        where: { serial: serials[2] },
        data: { model: "\u001b[2J\u001b]0;owned\u0007EVIL\rMODEL" },
      });
      const shown = await kilnCli(["status"], creds.tokens.read);
      expect(shown.stdout).toContain("?[2J?]0;owned?EVIL?MODEL");
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them
      expect(shown.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    },
    CLI_BUDGET_MS,
  );
});
