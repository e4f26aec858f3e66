/**
 * The agent's repro.run verb: the loop (main.ts) in a child process, so a step that hangs in
 * the kernel or gets the loop OOM-killed never takes the agent down; each of its lines goes to
 * the host as progress the moment it arrives. The child gets oom_score_adj 0 (not the agent's
 * -1000) and is SIGKILLed when the request is given up.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../../probe/sibling.js';
import { writeText } from '../../probe/sysfs.js';
import { parseLoopLine, type LoopExit, type LoopLine, type LoopSpec } from '../../contract/repro-protocol.js';

const loopMain = fileURLToPath(siblingModule(import.meta.url, 'main'));
const STDERR_KEPT = 4000;

export function runLoopChild(spec: LoopSpec, progress: (line: LoopLine) => void, signal: AbortSignal): Promise<LoopExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, loopMain], { stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.pid !== undefined) writeText(`/proc/${child.pid}/oom_score_adj`, '0');
    const garbage: string[] = [];
    let stderr = '';
    createInterface({ input: child.stdout }).on('line', (text) => {
      if (!text.trim()) return;
      const line = parseLoopLine(text);
      if (line) progress(line);
      else garbage.push(text);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_KEPT);
    });
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    signal.addEventListener('abort', kill, { once: true });
    child.once('error', (e) => reject(new Error(`could not start the repro loop ${loopMain}: ${e.message}`)));
    child.once('close', (exitCode, sig) => {
      signal.removeEventListener('abort', kill);
      resolve({ exitCode, signal: sig, stderr, garbage });
    });
    // A loop that died before reading its spec is reported by 'close'.
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(spec));
  });
}
