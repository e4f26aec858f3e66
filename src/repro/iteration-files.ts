/** iterations/NNN/ of a repro results dir: a failing iteration's record, console slice, dmesg and commands. */
import { iterationId } from '../contract/markers.js';
import type { LoopLine } from '../contract/repro-protocol.js';
import { parseStepMarker } from '../report/console-scan.js';
import type { Results } from '../results/results.js';
import type { BootState } from './boot-state.js';
import type { IterationRecord } from './report.js';
import type { Scenario } from './scenario.js';

/** iterations/NNN/: the record, the console and dmesg of that iteration, and its commands. */
export async function writeIterationFolder(b: BootState, results: Results, scenario: Scenario, r: IterationRecord, chunkLog: string, lines: LoopLine[]): Promise<void> {
  const folder = `iterations/${String(r.iteration).padStart(3, '0')}`;
  r.folder = folder;
  const id = iterationId(scenario.name, r.iteration);
  const consoleText = b.vm.console.contents();
  await results.writeText(`${folder}/console.txt`, sliceByMarker(consoleText, id, r.failure?.kind === 'kernel-crash' || r.failure?.kind === 'hang'));
  if (!b.vm.exited && !b.ssh.isClosed) {
    const d = await b.ssh.exec(['dmesg'], { timeoutMs: 15_000 });
    if (d.exitCode === 0) await results.writeText(`${folder}/dmesg.txt`, sliceByMarker(d.stdout, id, false));
  } else {
    await results.writeText(`${folder}/dmesg.txt`, `# the guest was gone (${r.failure?.kind ?? 'stopped'}): its kernel log up to the end is console.txt\n`);
  }
  const mine = lines.filter((l) => 'iteration' in l && l.iteration === r.iteration);
  await results.writeText(`${folder}/iteration.json`, JSON.stringify({ ...r, chunkLog, lines: mine }, null, 2) + '\n');
  await results.writeText(`${folder}/commands.txt`, describeSteps(r, chunkLog));
}

/** The lines of one iteration: from its marker to the next iteration marker (or to the end). */
export function sliceByMarker(text: string, id: string, toEnd: boolean): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => parseStepMarker(l) === id);
  if (start < 0) return `# no marker for ${id} in this log (the iteration may not have started); the whole log follows\n${text}`;
  let end = lines.length;
  if (!toEnd) {
    const rel = lines.slice(start + 1).findIndex((l) => (parseStepMarker(l) ?? '').startsWith('repro.'));
    if (rel >= 0) end = start + 1 + rel;
  }
  return lines.slice(start, end).join('\n') + '\n';
}

function describeSteps(r: IterationRecord, chunkLog: string): string {
  const out = [`# iteration ${r.iteration}: ${r.ok ? 'ok' : `FAILED (${r.failure?.kind}): ${r.failure?.reason}`}`, `# full output of the guest loop process: ${chunkLog}`, ''];
  for (const s of r.steps) {
    out.push(`== ${s.do}${s.expect ? ` (expect ${s.expect})` : ''}: ${s.passed ? 'as expected' : 'NOT as expected'} ok=${s.ok}${s.code ? ` code=${s.code}` : ''} ${s.ms} ms${s.from === 'console' ? ' (from the kernel log: its own line was lost to the crash)' : ''}`);
    if (s.error) out.push(`   error: ${s.error}`);
    for (const sub of (s.sub as Record<string, unknown>[] | undefined) ?? []) {
      if (Array.isArray(sub.run)) out.push(`   $ ${(sub.run as string[]).join(' ')}  -> exit ${String(sub.exitCode)}${sub.stderr ? `\n     stderr: ${String(sub.stderr).trim()}` : ''}`);
      else if (sub.write) out.push(`   echo ${String(sub.value)} > ${String(sub.write)}  -> ${sub.ok ? 'ok' : String(sub.code)}`);
    }
  }
  if (r.steps.length === 0) out.push('(no step finished in this iteration)');
  return out.join('\n') + '\n';
}
