/**
 * Pressure steps: a child process holding memory on node 0 (a share of its free memory, or
 * so many MiB), with oom_score_adj 1000 so it is the OOM killer's first choice; stopped, it
 * says whether it was still alive.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../../../probe/sibling.js';
import { NODES, nodeMemory, read } from '../../cxl/index.js';
import { writeAttr } from '../io.js';
import type { StepResult } from '../../../contract/repro-protocol.js';
import type { StepHandlers } from '../state.js';

const pressureChild = fileURLToPath(siblingModule(import.meta.url, '../pressure-child'));

export const pressureSteps: StepHandlers<'pressure-start' | 'pressure-stop'> = {
  'pressure-start': (step, st, ctx) => {
    const free = Number(/MemFree:\s+(\d+)/.exec(read(join(NODES, 'node0', 'meminfo')) ?? '')?.[1] ?? 0);
    const mib = step.mib ?? Math.floor(((free / 1024) * (step.percent ?? 80)) / 100);
    const child = spawn(process.execPath, [...process.execArgv, pressureChild, String(mib)], { stdio: ['ignore', 'pipe', 'inherit'] });
    writeAttr(`/proc/${child.pid}/oom_score_adj`, 1000);
    st.pressure = child;
    let out = '';
    return new Promise<StepResult>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, code: 'TIMEOUT', error: `pressure child did not fill ${mib} MiB in time`, mib }), ctx.timeoutMs * 4);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (!out.includes('\n')) return;
        clearTimeout(timer);
        resolve({ ok: true, mib, node0Before: free, node0After: nodeMemory(0) });
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ ok: false, code: 'CHILD_DIED', error: `pressure child ended (${code ?? signal}); OOM?`, mib });
      });
    });
  },

  'pressure-stop': (_step, st) => {
    if (!st.pressure) return { ok: false, code: 'NO_PRESSURE', error: 'no pressure child: run pressure-start first' };
    const alive = st.pressure.exitCode === null && st.pressure.signalCode === null;
    st.pressure.kill('SIGKILL');
    st.pressure = undefined;
    return { ok: alive, ...(alive ? {} : { code: 'CHILD_DIED', error: 'the pressure child had died (OOM-killed?)' }) };
  },
};
