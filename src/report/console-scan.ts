/**
 * Find the kernel's own problem reports in a console log: panics, oopses, BUGs, WARNINGs,
 * sanitizer reports (KASAN, UBSAN, KFENCE), lockdep splats, hung tasks, RCU stalls,
 * soft/hard lockups and OOM kills. Each finding carries the report's lines, call trace
 * included, up to the kernel's end marker, and the harness step that was running.
 *
 * Lines may carry printk timestamps (`[    1.234567] `) and caller ids (`[    T1] `), or not.
 * When the report's first line is timestamped, untimestamped lines inside it are taken to be
 * other output interleaved on the serial console and left out of the finding.
 */
import { STEP_MARKER_PREFIX } from '../contract/markers.js';
import type { ConsoleFinding, FindingKind } from './model.js';

/** The step named by a marker line, or undefined when the line is not a marker. */
export function parseStepMarker(line: string): string | undefined {
  const body = stripConsolePrefix(line).body.trim();
  if (!body.startsWith(STEP_MARKER_PREFIX)) return undefined;
  const step = body.slice(STEP_MARKER_PREFIX.length).trim();
  return step === '' ? undefined : step;
}

/** A step start known by line number (1-based: the step began at this line of the text). */
export interface StepMark {
  line: number;
  step: string;
}

const PREFIX = /^(?:<\d>)?(\[\s*\d+\.\d+\])?(?:\[\s*[TC]\d+\])?/;

/** Split a console line into its printk prefix (timestamp, caller id) and the message. */
export function stripConsolePrefix(line: string): { body: string; stamped: boolean } {
  const m = PREFIX.exec(line);
  if (!m || m[0] === '') return { body: line, stamped: false };
  // printk separates its prefix from the message with one space; the message's own indentation stays.
  const rest = line.slice(m[0].length);
  return { body: rest.startsWith(' ') ? rest.slice(1) : rest, stamped: m[1] !== undefined };
}

/** How a report ends: at the kernel's end marker, at a `====` rule (sanitizers), at `</TASK>`, or at the OOM kill line. */
type Ending = 'panic-marker' | 'end-trace' | 'rule' | 'task' | 'oom';

interface StartRule {
  kind: FindingKind;
  re: RegExp;
  ending: Ending;
  /** The kernel prints an `Oops:` line right after this one, as part of the same report. */
  oopsFollows?: boolean;
}

/** Order matters: the specific forms of `BUG:` and `WARNING:` come before the general ones. */
const START_RULES: StartRule[] = [
  { kind: 'panic', re: /^Kernel panic - not syncing/, ending: 'panic-marker' },
  { kind: 'soft-lockup', re: /\bBUG: soft lockup\b/, ending: 'task' },
  { kind: 'hard-lockup', re: /Watchdog detected hard LOCKUP/, ending: 'task' },
  { kind: 'kasan', re: /^BUG: KASAN: /, ending: 'rule' },
  { kind: 'kfence', re: /^BUG: KFENCE: /, ending: 'rule' },
  { kind: 'ubsan', re: /^UBSAN: /, ending: 'rule' },
  {
    kind: 'lockdep',
    re: /^WARNING: (possible circular locking dependency|possible recursive locking|inconsistent lock state|possible irq lock inversion dependency|suspicious RCU usage|bad unlock balance|held lock freed|lock held when returning to user space|Nested lock was not taken|.*lock order detected)/,
    ending: 'task',
  },
  { kind: 'hung-task', re: /^INFO: task \S.* blocked for more than \d+ seconds/, ending: 'task' },
  { kind: 'rcu-stall', re: /^(rcu: )?INFO: rcu_\w+ (self-)?detected (expedited )?stalls?/, ending: 'task' },
  {
    kind: 'oops',
    re: /^(BUG: unable to handle |BUG: kernel NULL pointer dereference|Unable to handle kernel (paging request|NULL pointer dereference|access))/,
    ending: 'end-trace',
    oopsFollows: true,
  },
  { kind: 'oops', re: /^(Oops(:| -) |Internal error: Oops|general protection fault)/, ending: 'end-trace' },
  { kind: 'bug', re: /^kernel BUG at /, ending: 'end-trace', oopsFollows: true },
  { kind: 'bug', re: /^BUG: /, ending: 'task' },
  { kind: 'warning', re: /^WARNING: (CPU: \d+ PID: \d+ at |at )/, ending: 'end-trace' },
  { kind: 'oom', re: / invoked oom-killer: /, ending: 'oom' },
  { kind: 'oom', re: /^(Memory cgroup )?[Oo]ut of memory: Kill(ed)? process/, ending: 'oom' },
];

const OOPS_LINE = /^(Oops(:| -) |Internal error: Oops)/;
const END_TRACE = /---\[ end trace\b/;
const END_PANIC = /---\[ end Kernel panic\b/;
const RULE = /^={20,}$/;
const CUT_HERE = /^-+\[ cut here \]-+$/;
const TASK_END = /^<\/TASK>$/;
const OOM_KILL = /^(Memory cgroup )?[Oo]ut of memory: Kill(ed)? process/;

/** A report with no end marker in sight stops after this many lines, so one lost marker cannot swallow the log. */
const MAX_LINES: Record<Ending, number> = { 'panic-marker': 1000, 'end-trace': 1000, rule: 1000, task: 300, oom: 300 };

function matchStart(body: string): StartRule | undefined {
  return START_RULES.find((r) => r.re.test(body));
}

interface Open {
  rule: StartRule;
  finding: ConsoleFinding;
  stamped: boolean;
  expectOops: boolean;
  /** `</TASK>` was seen: only an immediately following end-trace line still belongs. */
  tailOnly: boolean;
}

/**
 * The scanner, fed one console line at a time: live by the console watcher while the guest
 * runs (so a panic is known the moment its line arrives), or over a whole log by scanConsole.
 * Step attribution uses marker lines in the text (src/contract/markers.ts formatStepMarker) and
 * any `stepMarks` given by line number; a finding belongs to the last step started at or
 * before its first line.
 */
export class ConsoleScanner {
  private readonly marks: StepMark[];
  private readonly closed: ConsoleFinding[] = [];
  private open: Open | undefined;
  /** A `cut here` or `====` line just before a report belongs to it. */
  private lead: string | undefined;
  private lineNo = 0;

  constructor(stepMarks: readonly StepMark[] = []) {
    this.marks = [...stepMarks].sort((a, b) => a.line - b.line);
  }

  /** One console line, without its newline. */
  push(line: string): void {
    const raw = line.replace(/\r+$/, '');
    const lineNo = ++this.lineNo;
    const step = parseStepMarker(raw);
    if (step !== undefined) {
      const at = this.marks.findIndex((m) => m.line > lineNo);
      this.marks.splice(at < 0 ? this.marks.length : at, 0, { line: lineNo, step });
      return;
    }
    const { body, stamped } = stripConsolePrefix(raw);
    const t = body.trim();

    if (this.open) {
      const o: Open = this.open;
      const interleaved = o.stamped && !stamped;
      if (o.tailOnly) {
        if (interleaved) return;
        if (END_TRACE.test(t)) {
          o.finding.lines.push(raw);
          this.close();
          return;
        }
        this.close();
      } else {
        if (!interleaved && o.rule.ending === 'oom' && OOM_KILL.test(t)) {
          o.finding.lines.push(raw);
          this.close();
          return;
        }
        const start = interleaved ? undefined : matchStart(t);
        if (start && o.expectOops && OOPS_LINE.test(t)) {
          o.expectOops = false;
          o.finding.lines.push(raw);
          return;
        }
        if (start) {
          this.close();
        } else {
          if (interleaved) return;
          o.finding.lines.push(raw);
          const ending = o.rule.ending;
          const ended =
            (ending === 'panic-marker' && END_PANIC.test(t)) ||
            (ending !== 'panic-marker' && (END_TRACE.test(t) || END_PANIC.test(t))) ||
            (ending === 'rule' && RULE.test(t)) ||
            (ending === 'oom' && OOM_KILL.test(t));
          if (ended || o.finding.lines.length >= MAX_LINES[ending]) this.close();
          else if (ending === 'task' && TASK_END.test(t)) o.tailOnly = true;
          return;
        }
      }
    }

    const rule = matchStart(t);
    if (!rule) {
      this.lead = CUT_HERE.test(t) || RULE.test(t) ? raw : undefined;
      return;
    }
    const lines = this.lead !== undefined ? [this.lead, raw] : [raw];
    this.lead = undefined;
    this.open = {
      rule,
      finding: { kind: rule.kind, title: t, lines, line: lineNo, ...this.stepAt(lineNo) },
      stamped,
      expectOops: rule.oopsFollows === true,
      tailOnly: false,
    };
    // A one-line OOM kill report is complete as it stands.
    if (rule.kind === 'oom' && OOM_KILL.test(t)) this.close();
  }

  /** Every finding so far, the one still open (its end not yet seen) included, in log order. */
  findings(): ConsoleFinding[] {
    return this.open ? [...this.closed, { ...this.open.finding, lines: [...this.open.finding.lines] }] : [...this.closed];
  }

  /** The kernel's panic line, once one has been seen: the guest kernel is gone. */
  panic(): ConsoleFinding | undefined {
    return this.findings().find((f) => f.kind === 'panic');
  }

  private close(): void {
    if (this.open) this.closed.push(this.open.finding);
    this.open = undefined;
  }

  private stepAt(line: number): { step?: string } {
    let current: string | undefined;
    for (const m of this.marks) {
      if (m.line > line) break;
      current = m.step;
    }
    return current !== undefined ? { step: current } : {};
  }
}

/** Scan a whole console log (see ConsoleScanner). */
export function scanConsole(text: string, stepMarks: readonly StepMark[] = []): ConsoleFinding[] {
  const scanner = new ConsoleScanner(stepMarks);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop(); // the newline ending the last line starts no line
  for (const line of lines) scanner.push(line);
  return scanner.findings();
}
