// Parser for the combined stdout+stderr of e2fsprogs `badblocks -s -v`.
//
// Pure: no clock, no I/O. Feed raw chunks exactly as they arrive (a chunk may end anywhere, even
// inside a number); time, when the caller cares, is passed in. badblocks redraws its progress
// line in place with backspaces and ends a line with "\n" only at phase ends, so both "\b" runs
// and "\n" terminate a segment; an unterminated tail is kept until the next chunk.
//
// Write mode (-w) tests 4 patterns (0xaa 0x55 0xff 0x00), each a write then a "Reading and
// comparing" pass: 8 phases. "% done" restarts every phase, so the overall percent is
// ((phase - 1) * 100 + phasePct) / 8, and it never moves backwards.

export const STANDARD_PATTERNS = ["0xaa", "0x55", "0xff", "0x00"] as const;
export const WRITE_MODE_PHASES = STANDARD_PATTERNS.length * 2;

export type TestMode = "write" | "read-only" | "non-destructive";
export type PhaseMode = "write" | "verify" | "read";

export interface ErrorCounts {
  read: number;
  write: number;
  corruption: number;
}

export interface PhaseRecord {
  phase: number;
  pattern: string | null;
  mode: PhaseMode;
  /** When the phase was first seen (the `now` passed with the chunk), if the caller gave one. */
  startedAt: number | null;
  /** Set when badblocks printed "done" for the phase. */
  completed: boolean;
}

export type BadblocksEvent =
  | { kind: "testMode"; testMode: TestMode }
  | { kind: "range"; firstBlock: number; lastBlock: number }
  | { kind: "phase"; phase: number; pattern: string | null; mode: PhaseMode }
  | { kind: "progress"; phase: number; phasePct: number; overallPct: number; elapsed: string; errors: ErrorCounts }
  | { kind: "badBlock"; block: number }
  | { kind: "phaseDone"; phase: number }
  | { kind: "completed"; badBlocks: number; errors: ErrorCounts | null }
  | { kind: "interrupted"; block: number };

export interface BadblocksState {
  testMode: TestMode | null;
  firstBlock: number | null;
  lastBlock: number | null;
  /** 1-based phase; 0 before the first phase header. */
  phase: number;
  phaseCount: number;
  phasePct: number;
  overallPct: number;
  pattern: string | null;
  mode: PhaseMode | null;
  elapsed: string | null;
  errors: ErrorCounts;
  /** Bad blocks listed so far (badblocks prints each block number on its own line). */
  badBlocks: number;
  badBlockList: number[];
  /** The count from "Pass completed, N bad blocks found." once seen. */
  reportedBadBlocks: number | null;
  done: boolean;
  interruptedAt: number | null;
  history: PhaseRecord[];
  /** Segments the parser did not recognise (kept so nothing is silently lost; each cut to 200 characters). */
  unrecognised: string[];
  /** Segments longer than MAX_SEGMENT characters: cut, counted, never parsed. */
  overlongSegments: number;
}

export interface BadblocksParserOptions {
  /**
   * The patterns the run tests, in order. A resumed scan (`-t 0xff -t 0x00`) starts at a later
   * pattern; phases keep their standard numbers (0xff write = phase 5) so history stays comparable.
   */
  patterns?: readonly string[];
  /** Bounded list of bad block numbers kept in the state (the count is always exact). */
  maxBadBlockList?: number;
  /** Bounded list of unrecognised segments kept. */
  maxUnrecognised?: number;
}

const PROGRESS =
  /^(?:(Testing with (?:random )?pattern(?: (0x[0-9a-f]+))?|Reading and comparing|Checking for bad blocks \((?:read-only|non-destructive read-write) test\)):)?\s*(\d+(?:\.\d+)?)% done, ([\d:]+) elapsed\. \((\d+)\/(\d+)\/(\d+) errors\)$/i;
const PHASE_HEADER =
  /^(Testing with (?:random )?pattern(?: (0x[0-9a-f]+))?|Reading and comparing|Checking for bad blocks \((read-only|non-destructive read-write) test\)):?$/i;
const COMPLETED = /^Pass completed, (\d+) bad blocks found\.(?: \((\d+)\/(\d+)\/(\d+) errors\))?$/;
const INTERRUPTED = /^Interrupted at block (\d+)$/;
const RANGE = /^(?:From block|Checking blocks) (\d+) to (\d+)$/;
const BAD_BLOCK = /^\d+$/;

/** Longer than any line badblocks prints (its longest, a progress line, is under 100 characters). */
export const MAX_SEGMENT = 4096;
const MAX_KEPT_SEGMENT = 200;

export class BadblocksParser {
  private readonly patterns: readonly string[];
  private readonly maxBadBlockList: number;
  private readonly maxUnrecognised: number;
  private pending = "";
  /** Inside an overlong segment: skip until the next line break. */
  private discarding = false;
  private readonly s: BadblocksState;

  constructor(options: BadblocksParserOptions = {}) {
    this.patterns = (options.patterns ?? STANDARD_PATTERNS).map((p) => p.toLowerCase());
    this.maxBadBlockList = options.maxBadBlockList ?? 10_000;
    this.maxUnrecognised = options.maxUnrecognised ?? 50;
    this.s = {
      testMode: null,
      firstBlock: null,
      lastBlock: null,
      phase: 0,
      phaseCount: WRITE_MODE_PHASES,
      phasePct: 0,
      overallPct: 0,
      pattern: null,
      mode: null,
      elapsed: null,
      errors: { read: 0, write: 0, corruption: 0 },
      badBlocks: 0,
      badBlockList: [],
      reportedBadBlocks: null,
      done: false,
      interruptedAt: null,
      history: [],
      unrecognised: [],
      overlongSegments: 0,
    };
  }

  /** Consume one raw chunk; returns the events it completed, in order. */
  push(chunk: string, now: number | null = null): BadblocksEvent[] {
    const events: BadblocksEvent[] = [];
    // Only the new text is scanned: the unterminated tail is never re-read, so a log without line
    // breaks costs linear time, not quadratic.
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 8 /* \b */ || c === 10 /* \n */ || c === 13 /* \r */) {
        // Most terminators end nothing (a redraw is a run of backspaces): one check for those.
        if (i > start || this.pending !== "" || this.discarding) this.terminate(chunk, start, i, now, events);
        start = i + 1;
      }
    }
    if (!this.discarding) {
      this.pending += chunk.slice(start);
      if (this.pending.length > MAX_SEGMENT) this.cutOverlong();
    }
    return events;
  }

  /** A line break at `end` in `chunk`: the segment since `start` (after any pending text) ends. */
  private terminate(chunk: string, start: number, end: number, now: number | null, events: BadblocksEvent[]): void {
    if (this.discarding) {
      this.discarding = false; // the overlong segment ends here; the next one starts clean
    } else if (this.pending.length + end - start > MAX_SEGMENT) {
      this.pending += chunk.slice(start, start + MAX_KEPT_SEGMENT);
      this.cutOverlong();
      this.discarding = false;
    } else {
      this.segment(this.pending === "" ? chunk.slice(start, end) : this.pending + chunk.slice(start, end), now, events);
    }
    this.pending = "";
  }

  /** The stream ended: parse whatever is left unterminated. */
  end(now: number | null = null): BadblocksEvent[] {
    const events: BadblocksEvent[] = [];
    const rest = this.pending;
    this.pending = "";
    this.discarding = false;
    if (rest) this.segment(rest, now, events);
    return events;
  }

  /**
   * A segment longer than any line badblocks prints is not badblocks talking: keep its start as
   * unrecognised, count it, and skip the rest of it up to the next line break. It is never joined
   * with what follows.
   */
  private cutOverlong(): void {
    this.s.overlongSegments += 1;
    this.remember(this.pending);
    this.pending = "";
    this.discarding = true;
  }

  private remember(segment: string): void {
    if (this.s.unrecognised.length < this.maxUnrecognised) this.s.unrecognised.push(segment.slice(0, MAX_KEPT_SEGMENT));
  }

  /** A copy of the current state. */
  state(): BadblocksState {
    return {
      ...this.s,
      errors: { ...this.s.errors },
      badBlockList: [...this.s.badBlockList],
      history: this.s.history.map((h) => ({ ...h })),
      unrecognised: [...this.s.unrecognised],
    };
  }

  private segment(raw: string, now: number | null, events: BadblocksEvent[]): void {
    const seg = raw.trim();
    if (!seg) return;
    const s = this.s;

    if (BAD_BLOCK.test(seg)) {
      const block = Number(seg);
      s.badBlocks += 1;
      if (s.badBlockList.length < this.maxBadBlockList) s.badBlockList.push(block);
      events.push({ kind: "badBlock", block });
      return;
    }
    const progress = PROGRESS.exec(seg);
    if (progress) {
      if (progress[1]) this.enterPhase(progress[1], progress[2], now, events);
      this.progress(Number(progress[3]), progress[4] as string, progress, events);
      return;
    }
    const header = PHASE_HEADER.exec(seg);
    if (header) {
      this.enterPhase(header[1] as string, header[2], now, events);
      return;
    }
    if (seg === "done") {
      if (s.phase > 0) {
        s.phasePct = 100;
        this.raiseOverall(this.overallFor(s.phase, 100));
        const current = s.history[s.history.length - 1];
        if (current && current.phase === s.phase) current.completed = true;
        events.push({ kind: "phaseDone", phase: s.phase });
      }
      return;
    }
    const completed = COMPLETED.exec(seg);
    if (completed) {
      s.reportedBadBlocks = Number(completed[1]);
      const errors = completed[2] === undefined ? null : countsFrom(completed, 2);
      if (errors) s.errors = errors;
      s.done = true;
      s.overallPct = 100;
      events.push({ kind: "completed", badBlocks: s.reportedBadBlocks, errors });
      return;
    }
    const interrupted = INTERRUPTED.exec(seg);
    if (interrupted) {
      s.interruptedAt = Number(interrupted[1]);
      events.push({ kind: "interrupted", block: s.interruptedAt });
      return;
    }
    const range = RANGE.exec(seg);
    if (range) {
      s.firstBlock = Number(range[1]);
      s.lastBlock = Number(range[2]);
      events.push({ kind: "range", firstBlock: s.firstBlock, lastBlock: s.lastBlock });
      return;
    }
    const testMode = modeFromBanner(seg);
    if (testMode) {
      s.testMode = testMode;
      s.phaseCount = testMode === "write" ? WRITE_MODE_PHASES : 1;
      events.push({ kind: "testMode", testMode });
      return;
    }
    this.remember(seg);
  }

  private enterPhase(header: string, patternText: string | undefined, now: number | null, events: BadblocksEvent[]): void {
    const s = this.s;
    let phase: number;
    let mode: PhaseMode;
    let pattern: string | null = s.pattern;
    if (/^Reading and comparing/i.test(header)) {
      mode = "verify";
      // The verify pass follows its write pass; a stray verify header before any write is phase 2.
      phase = s.phase > 0 && s.mode === "write" ? s.phase + 1 : Math.max(s.phase, 2);
    } else if (/^Checking for bad blocks/i.test(header)) {
      mode = "read";
      phase = 1;
      if (!s.testMode) {
        s.testMode = /read-only/i.test(header) ? "read-only" : "non-destructive";
        s.phaseCount = 1;
      }
    } else {
      mode = "write";
      pattern = patternText ? patternText.toLowerCase() : "random";
      phase = this.writePhaseFor(pattern);
      if (!s.testMode) s.testMode = "write";
    }
    if (phase === s.phase && mode === s.mode && s.history.length > 0) return;
    if (phase < s.phase) {
      // badblocks never goes back; a lower number means a later pass (-p) or an odd pattern list.
      // Keep moving forward so the overall percent cannot drop.
      phase = s.phase;
    }
    s.phase = phase;
    s.phasePct = 0;
    s.mode = mode;
    s.pattern = pattern;
    // A re-entered phase keeps its first timestamp.
    if (!s.history.some((h) => h.phase === phase)) {
      s.history.push({ phase, pattern, mode, startedAt: now, completed: false });
    }
    this.raiseOverall(this.overallFor(phase, 0));
    events.push({ kind: "phase", phase, pattern, mode });
  }

  /** Standard patterns keep their standard phase numbers; others count on from the last phase. */
  private writePhaseFor(pattern: string): number {
    const s = this.s;
    if (s.testMode === "non-destructive") return 1;
    const standard = STANDARD_PATTERNS.indexOf(pattern as (typeof STANDARD_PATTERNS)[number]);
    // ">=": the same header seen again (a log re-read from an earlier offset) stays on its phase.
    if (standard >= 0 && 2 * standard + 1 >= s.phase) return 2 * standard + 1;
    const listed = this.patterns.indexOf(pattern);
    if (s.phase === 0 && listed >= 0) return 2 * listed + 1;
    // Next odd phase after the current one, capped at the last write phase.
    return Math.min(s.phase + (s.phase % 2 === 0 ? 1 : 2), WRITE_MODE_PHASES - 1);
  }

  private progress(phasePct: number, elapsed: string, m: RegExpExecArray, events: BadblocksEvent[]): void {
    const s = this.s;
    s.elapsed = elapsed;
    s.errors = countsFrom(m, 5);
    if (s.phase === 0) {
      // Progress before any header (a log read from the middle): assume the first phase.
      s.phase = 1;
      s.mode = s.testMode === "write" || s.testMode === null ? "write" : "read";
    }
    s.phasePct = Math.min(100, Math.max(0, phasePct));
    this.raiseOverall(this.overallFor(s.phase, s.phasePct));
    events.push({ kind: "progress", phase: s.phase, phasePct: s.phasePct, overallPct: s.overallPct, elapsed, errors: { ...s.errors } });
  }

  private overallFor(phase: number, phasePct: number): number {
    const value = ((phase - 1) * 100 + phasePct) / this.s.phaseCount;
    // 100% is reserved for "Pass completed": the last phase at 100% is not the end of the run.
    return Math.min(value, 99.99);
  }

  private raiseOverall(value: number): void {
    if (value > this.s.overallPct && !this.s.done) this.s.overallPct = Math.round(value * 100) / 100;
  }
}

function countsFrom(m: RegExpExecArray, from: number): ErrorCounts {
  return { read: Number(m[from]), write: Number(m[from + 1]), corruption: Number(m[from + 2]) };
}

function modeFromBanner(seg: string): TestMode | null {
  if (/^Checking for bad blocks in non-destructive read-write mode$/i.test(seg)) return "non-destructive";
  if (/^Checking for bad blocks in read-write mode$/i.test(seg)) return "write";
  if (/^Checking for bad blocks in read-only mode$/i.test(seg)) return "read-only";
  return null;
}

/** Parse a whole recorded output at once. */
export function parseBadblocksOutput(text: string, options?: BadblocksParserOptions): BadblocksState {
  const parser = new BadblocksParser(options);
  parser.push(text);
  parser.end();
  return parser.state();
}
