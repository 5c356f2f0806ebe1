// A Transport for any POSIX host, given something that runs sh scripts there (local process or
// SSH channel). Detached runs, log reads, liveness and kills are shell scripts built here, so
// local and SSH hosts behave the same way.
import { setTimeout as sleep } from "node:timers/promises";
import { PollBatcher } from "./poll-batch.js";
import { shellCommand, shellQuote } from "./shell.js";
import {
  type CommandTimeouts,
  DEFAULT_COMMAND_TIMEOUTS,
  type DetachedProcess,
  type ExecOptions,
  type ExecResult,
  type LogChunk,
  type ProcessIdentity,
  type ProcessState,
  type ShellRunner,
  type Transport,
  TransportError,
} from "./types.js";
import { enterRunDirScript, type RunLocation, removeRunDirScript, runDirOf } from "./work-dir.js";

// Field 22 of /proc/PID/stat is the start time; the command name (field 2) may contain spaces,
// so cut after its closing parenthesis first: field 22 becomes field 20.
const START_TIME = (pid: string) => `sed 's/.*) //' /proc/${pid}/stat | cut -d' ' -f20`;
const BOOT_ID = "cat /proc/sys/kernel/random/boot_id";

export interface PosixHostOptions {
  kind: Transport["kind"];
  /** Prefix privileged commands with `sudo -n` (TrueNAS SCALE has no root login by default). */
  sudo?: boolean;
  /** The command timeouts now (settings); read at every command. */
  timeouts?: () => CommandTimeouts;
}

export class PosixHost implements Transport {
  readonly kind: Transport["kind"];
  private readonly sudo: boolean;
  readonly commandTimeouts: () => CommandTimeouts;

  constructor(
    private readonly runner: ShellRunner,
    options: PosixHostOptions,
  ) {
    this.kind = options.kind;
    this.sudo = options.sudo ?? false;
    this.commandTimeouts = options.timeouts ?? (() => DEFAULT_COMMAND_TIMEOUTS);
  }

  /** Run a script, as root through `sudo -n` when the host wants it; the control timeout unless told. */
  protected script(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    const timed = { ...options, timeoutMs: options.timeoutMs ?? this.commandTimeouts().controlMs };
    return this.runner.run(this.sudo ? `sudo -n sh -c ${shellQuote(script)}` : script, timed);
  }

  async exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    let result: ExecResult;
    try {
      result = await this.script(shellCommand(argv), options);
    } catch (error) {
      if (error instanceof TransportError && (error.reason === "output_too_large" || error.reason === "command_timeout")) {
        throw new TransportError(error.reason, `${argv[0]}: ${error.message}`);
      }
      throw error;
    }
    if (result.code === 127) {
      throw new TransportError("command_missing", `${argv[0]} is not installed on the host (or not on its PATH)`);
    }
    return result;
  }

  async startDetached(argv: readonly string[], location: RunLocation): Promise<DetachedProcess> {
    const dir = runDirOf(location);
    // The wrapper runs in its own session (setsid -f), so it and the command form a process
    // group that survives the connection; it waits for the command and writes its exit status.
    // The command records its own identity before it becomes the command (exec keeps its pid and
    // start time): read from the wrapper, a command that ends at once (badblocks refusing a
    // device) could be reaped by the wrapper's shell before its /proc entry was read. Every file
    // is created with O_EXCL (set -C) and written as tmp + mv so a reader never sees half.
    const recordSelf = `set -C; echo "$$ $(${START_TIME("$$")}) $(${BOOT_ID})" > identity.tmp && mv identity.tmp identity && exec "$@"`;
    const wrapper = [
      "set -C",
      "echo $$ > pgid.tmp && mv pgid.tmp pgid",
      `sh -c ${shellQuote(recordSelf)} kiln-run ${shellCommand(argv)} > log 2>&1 &`,
      "child=$!",
      "wait $child",
      "echo $? > exit.tmp && mv exit.tmp exit",
    ].join("\n");
    // An earlier start of this stage whose command still runs (the Kiln that started it died, or
    // lost the job to another instance, before recording it) is this stage's run: it is adopted,
    // never started a second time on the same drive. Its identity must still match the process.
    const adopt = [
      'if [ -d "$stage" ] && [ ! -L "$stage" ] && [ -s "$stage/identity" ] && [ -s "$stage/pgid" ] && [ ! -e "$stage/exit" ]; then',
      '  own_dir "$stage"',
      '  set -- $(cat "$stage/identity")',
      // "<state> <start time>" of that pid now; a zombie (Z) is a dead run.
      `  now=$([ $# -eq 3 ] && [ -r "/proc/$1/stat" ] && sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1,20)`,
      `  if [ -n "$now" ] && [ "\${now#Z }" = "$now" ] && [ "\${now#* }" = "$2" ] && [ "$(${BOOT_ID})" = "$3" ]; then`,
      '    echo "$(cat "$stage/pgid") $1 $2 $3"; echo adopted >&2; exit 0',
      "  fi",
      "fi",
    ].join("\n");
    const start = [
      enterRunDirScript(location, { beforeFresh: adopt }),
      // All three streams redirected, or the channel stays open until the command ends.
      `setsid -f sh -c ${shellQuote(wrapper)} </dev/null >wrapper.err 2>&1`,
      // Wait (bounded) for the wrapper to record who it started.
      "i=0; while [ ! -s identity ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done",
      'if [ -s identity ]; then echo "$(cat pgid) $(cat identity)"; else cat wrapper.err >&2; exit 3; fi',
    ].join("\n");
    const result = await this.script(start);
    if (result.code === 4) throw new TransportError("unsafe_work_dir", `${result.stderr.trim()}; nothing was started`);
    const fields = result.stdout.toString().trim().split(/\s+/);
    if (result.code !== 0 || fields.length !== 4) {
      throw new TransportError("failed", `could not start ${argv[0]} detached in ${dir}: ${result.stderr.trim() || `exit ${result.code}`}`);
    }
    const [pgid, pid, startTime, bootId] = fields as [string, string, string, string];
    return {
      ...(result.stderr.toString().trim() === "adopted" ? { adopted: true } : {}),
      pgid: Number(pgid),
      pid: Number(pid),
      startTime,
      bootId,
      dir,
      logPath: `${dir}/log`,
      exitPath: `${dir}/exit`,
    };
  }

  async removeRun(process: DetachedProcess): Promise<void> {
    await this.script(removeRunDirScript(process.dir));
  }

  /** Log reads and liveness checks of all the host's scans, one script per poll (poll-batch.ts). */
  readonly polls = new PollBatcher((script, options) => this.script(script, options));

  execPolled(argv: readonly string[], maxStdoutBytes: number): Promise<ExecResult> {
    return this.polls.exec(argv, maxStdoutBytes);
  }

  readLog(logPath: string, offset: number, maxBytes = 1 << 20): Promise<LogChunk> {
    return this.polls.readLog(logPath, offset, maxBytes);
  }

  async readExitCode(exitPath: string): Promise<number | null> {
    const result = await this.script(`cat ${shellQuote(exitPath)} 2>/dev/null || true`);
    const text = result.stdout.toString().trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  }

  processState(identity: ProcessIdentity): Promise<ProcessState> {
    return this.polls.processState(identity);
  }

  async killGroup(process: DetachedProcess, options: { signal?: "TERM" | "KILL"; timeoutMs?: number } = {}): Promise<boolean> {
    if ((await this.processState(process)) === "gone") return true;
    const signal = options.signal ?? "TERM";
    // The command is still ours (checked above), so the group its wrapper leads is ours too.
    await this.script(
      `kill -s ${signal} -- -${Math.floor(process.pgid)} 2>/dev/null; kill -s ${signal} ${Math.floor(process.pid)} 2>/dev/null; true`,
    );
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    while (Date.now() < deadline) {
      if ((await this.processState(process)) === "gone") return true;
      await sleep(100);
    }
    if (signal === "TERM") {
      return this.killGroup(process, { signal: "KILL", timeoutMs: options.timeoutMs });
    }
    return false;
  }

  async signalGroup(process: DetachedProcess, signal: "STOP" | "CONT"): Promise<boolean> {
    // Only while the process is still the one Kiln started (pid, start time and boot checked).
    if ((await this.processState(process)) === "gone") return false;
    await this.script(
      `kill -s ${signal} -- -${Math.floor(process.pgid)} 2>/dev/null; kill -s ${signal} ${Math.floor(process.pid)} 2>/dev/null; true`,
    );
    return true;
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
