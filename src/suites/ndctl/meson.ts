/**
 * What meson says about ndctl's tests, read: the list (`meson test --list`: "ndctl:cxl /
 * cxl-topology.sh"), and one test's record in its JSON log (meson-logs/<logbase>.json, one
 * object per line: name, result, returncode, duration, stdout, stderr), turned into a verdict.
 * Exit 77 is meson's SKIP, and the test says why in its last words (ndctl's do_skip prints
 * "kernel <release>: <why>"); TIMEOUT is a test that hung past meson's bound.
 */
export type MesonResult = 'OK' | 'FAIL' | 'SKIP' | 'TIMEOUT' | 'ERROR' | 'INTERRUPT' | 'EXPECTEDFAIL' | 'UNEXPECTEDPASS';

export interface MesonTest {
  name: string;
  result: MesonResult;
  returncode: number;
  duration: number;
  stdout: string;
  stderr?: string;
}

/** The tests of one suite in `meson test --list` output, by their own names (cxl-topology.sh). */
export function listedTests(text: string, suite: string): string[] {
  return text.split('\n').map((l) => l.trim()).flatMap((l) => {
    const m = /^[^:\s]+:([^\s/]+) \/ (\S+)$/.exec(l);
    return m && m[1]!.split('+').includes(suite) ? [m[2]!] : [];
  });
}

/** A test's check id: ndctl.cxl.topology for cxl-topology.sh. */
export function checkIdOf(test: string, suite = 'cxl'): string {
  return `ndctl.${suite}.${test.replace(/\.sh$/, '').replace(new RegExp(`^${suite}-`), '')}`;
}

/** The record of `test` in a meson JSON log; undefined when the log does not have it. */
export function testRecord(jsonl: string, test: string): MesonTest | undefined {
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    let o: Partial<MesonTest>;
    try {
      o = JSON.parse(line) as Partial<MesonTest>;
    } catch {
      continue;
    }
    if (typeof o.name === 'string' && (o.name === test || o.name.endsWith(` / ${test}`)) && typeof o.result === 'string') {
      return { name: o.name, result: o.result, returncode: Number(o.returncode ?? NaN), duration: Number(o.duration ?? NaN), stdout: o.stdout ?? '', ...(o.stderr ? { stderr: o.stderr } : {}) };
    }
  }
  return undefined;
}

const lines = (text: string | undefined): string[] => (text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);

/**
 * What the test said, its own words: its output and what it wrote to stderr that is not bash's
 * `set -x` trace (lines of +); the trace's last lines only when it said nothing else.
 */
function words(t: MesonTest, n: number): string {
  const said = [...lines(t.stderr).filter((l) => !l.startsWith('+')), ...lines(t.stdout)];
  return (said.length ? said : lines(t.stderr)).slice(-n).join(' | ') || 'nothing';
}

export type MesonVerdict = { verdict: 'pass' } | { verdict: 'skip'; reason: string } | { verdict: 'fail'; reason: string };

/** The verdict meson's result means, with the test's own words for anything but a pass. */
export function verdictOf(t: MesonTest, boundS: number): MesonVerdict {
  switch (t.result) {
    case 'OK':
    case 'EXPECTEDFAIL':
      return { verdict: 'pass' };
    case 'SKIP': {
      // do_skip: "kernel 7.2.13: <why>"; a bare exit 77 (a missing prerequisite) says less.
      const said = [...`${t.stdout}\n${t.stderr ?? ''}`.matchAll(/^kernel \S+: (.+)$/gm)].at(-1)?.[1];
      return { verdict: 'skip', reason: `ndctl's test skipped itself (exit 77): ${said ?? words(t, 2)}` };
    }
    case 'TIMEOUT':
      // Its trace's last line is what it was in when meson killed it.
      return { verdict: 'fail', reason: `hung: still running after meson's bound of ${boundS} s (killed), in: ${lines(t.stderr).at(-1) ?? lines(t.stdout).at(-1) ?? 'nothing it said'}` };
    default:
      return { verdict: 'fail', reason: `${t.result} (exit ${t.returncode}): ${words(t, 2)}` };
  }
}
