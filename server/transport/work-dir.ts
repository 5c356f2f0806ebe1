// The directory on a host where detached runs keep their pid, identity, log and exit files.
//
// Root writes there and later trusts what it reads back (the exit code decides a verdict), so
// nobody else may be able to plant, replace or redirect anything in it: Kiln creates it with
// mode 0700, refuses it when it is a symlink, belongs to another user or is writable by group or
// others, checks that every directory above it can only be changed by root or Kiln's user (or has
// the sticky bit, like /tmp), and creates each file inside with O_EXCL (sh's noclobber).
import path from "node:path";
import { shellQuote } from "./shell.js";
import { UnsafeArgumentError } from "./types.js";

/** Where one stage's run lives: <workDir>/<job>/<stage>. */
export interface RunLocation {
  workDir: string;
  job: string;
  stage: string;
}

/** An absolute, normalised directory path: no `.` or `..` segments, no empty ones, not "/". */
export function checkWorkDir(dir: string, field = "remoteWorkDir"): string {
  if (!path.isAbsolute(dir)) throw new UnsafeArgumentError(field, `"${dir}" is not an absolute path`);
  if (/[\0\n]/.test(dir)) throw new UnsafeArgumentError(field, "contains a NUL or newline");
  const segments = dir.split("/").slice(1);
  if (dir === "/" || segments.some((s) => s === "" || s === "." || s === "..")) {
    throw new UnsafeArgumentError(field, `"${dir}" must be a plain absolute path (no "." or ".." parts, no "//", not "/")`);
  }
  return dir;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function runDirOf(location: RunLocation): string {
  if (!NAME.test(location.job) || !NAME.test(location.stage)) throw new UnsafeArgumentError("run", "job and stage ids must be plain names");
  return `${checkWorkDir(location.workDir)}/${location.job}/${location.stage}`;
}

/**
 * A sh fragment that makes the run directory safe to use and leaves the shell in it, with
 * umask 077 and noclobber set. It exits 4 with "work directory: <why>" on stderr when the
 * directory cannot be trusted.
 */
export function enterRunDirScript(location: RunLocation, options: { beforeFresh?: string } = {}): string {
  runDirOf(location); // validates every part
  return [
    `base=${shellQuote(location.workDir)} job=${shellQuote(location.job)} stage=${shellQuote(location.stage)}`,
    "umask 077",
    'fail() { echo "work directory: $*" >&2; exit 4; }',
    "me=$(id -u)",
    // A real directory of Kiln's user that no one else can write to.
    "own_dir() {",
    '  [ -L "$1" ] && fail "$1 is a symbolic link"',
    '  [ -d "$1" ] || fail "$1 is not a directory"',
    '  s=$(stat -c "%u %a" -- "$1") || fail "cannot read the owner of $1"',
    '  set -- "$1" $s',
    '  [ "$2" = "$me" ] || fail "$1 belongs to uid $2, not to uid $me that Kiln runs as"',
    '  [ $((0$3 & 022)) -eq 0 ] || fail "$1 is writable by group or others (mode $3)"',
    "}",
    '[ -L "$base" ] && fail "$base is a symbolic link"',
    'mkdir -p -- "$base" || fail "cannot create $base"',
    'own_dir "$base"',
    // Every directory above it: only root or Kiln's user may rename or replace what is in it.
    'real=$(cd -P -- "$base" && pwd -P) || fail "cannot enter $base"',
    'p=$(dirname -- "$real")',
    "while :; do",
    '  s=$(stat -L -c "%u %a" -- "$p") || fail "cannot read the owner of $p"',
    "  set -- $s",
    '  [ "$1" = 0 ] || [ "$1" = "$me" ] || fail "$p belongs to uid $1: another user could replace $base"',
    '  [ $((0$2 & 022)) -eq 0 ] || [ $((0$2 & 01000)) -ne 0 ] || fail "$p is writable by others without the sticky bit (mode $2)"',
    '  [ "$p" = / ] && break',
    '  p=$(dirname -- "$p")',
    "done",
    'cd -- "$real" || fail "cannot enter $base"',
    '[ -e "$job" ] || [ -L "$job" ] || mkdir -- "$job" || fail "cannot create $base/$job"',
    'own_dir "$job"',
    'cd -- "$job" || fail "cannot enter $base/$job"',
    // Run in the job's directory, before an earlier start's directory is removed (it may end the script).
    ...(options.beforeFresh ? [options.beforeFresh] : []),
    // A directory left by an earlier start of this stage (Kiln died before recording it) is ours: start afresh.
    'if [ -e "$stage" ] || [ -L "$stage" ]; then own_dir "$stage"; rm -rf -- "$stage"; fi',
    'mkdir -- "$stage" || fail "cannot create $base/$job/$stage"',
    'own_dir "$stage"',
    'cd -- "$stage" || fail "cannot enter $base/$job/$stage"',
    "set -C",
  ].join("\n");
}

/** Remove a run's directory and, when that was its last run, the job's directory. */
export function removeRunDirScript(runDir: string): string {
  checkWorkDir(runDir, "run directory");
  return `rm -rf -- ${shellQuote(runDir)}; rmdir -- ${shellQuote(path.dirname(runDir))} 2>/dev/null; true`;
}
