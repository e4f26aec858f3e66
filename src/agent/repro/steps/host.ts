/**
 * Steps about the host and the kernel log: a fault the host injects through QMP (the guest
 * asks with a sync line in the kernel log and waits for the answer file), the memdevs' poison
 * lists read through the cxl_poison trace event, and the kernel log of the iteration matched.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CXL, memdevs, read, run, waitFor } from '../../cxl/index.js';
import { syncLine } from '../../../contract/markers.js';
import { kmsg, writeAttr } from '../io.js';
import { SYNC_DIR, type SyncAnswer } from '../../../contract/repro-protocol.js';
import type { StepHandlers } from '../state.js';

const TRACING = '/sys/kernel/tracing';

function readAnswer(file: string): SyncAnswer {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SyncAnswer;
  } catch {
    return {};
  }
}

export const hostSteps: StepHandlers<'fault' | 'trigger-poison-list' | 'expect-log'> = {
  fault: (_step, _st, ctx) => {
    const token = `${ctx.iteration}-${ctx.index}-${Math.floor(ctx.rand() * 1e9)}`;
    mkdirSync(SYNC_DIR, { recursive: true });
    const file = join(SYNC_DIR, token);
    kmsg(syncLine({ token, phase: ctx.phase, index: ctx.index, iteration: ctx.iteration }));
    if (!waitFor(() => existsSync(file), ctx.syncTimeoutMs, 20)) return { ok: false, code: 'NO_HOST', error: `the host did not answer sync ${token} within ${ctx.syncTimeoutMs} ms` };
    const answer = readAnswer(file);
    rmSync(file, { force: true });
    return { ok: answer.ok !== false, ...(answer.ok === false ? { code: answer.code ?? 'HOST_FAILED', error: answer.error } : {}), host: answer };
  },

  'trigger-poison-list': () => {
    writeAttr(join(TRACING, 'events/cxl/cxl_poison/enable'), 1);
    writeAttr(join(TRACING, 'trace'), '');
    const writes = memdevs().map((m) => ({ memdev: m, ...writeAttr(join(CXL, m, 'trigger_poison_list'), 1) }));
    const trace = (read(join(TRACING, 'trace')) ?? '').split('\n').filter((l) => l.includes('cxl_poison'));
    const ok = writes.some((w) => w.ok);
    return { ok, ...(ok ? {} : { code: writes[0]?.code ?? 'NO_MEMDEV', error: 'trigger_poison_list refused on every memdev' }), writes, poisonRecords: trace.length, trace: trace.slice(0, 20) };
  },

  'expect-log': (step, _st, ctx) => {
    // The whole log (not a capped copy): the iteration's marker and what follows it lie far
    // past the first 2000 characters, which hold only boot messages.
    const text = run(['dmesg']).stdout;
    const since = ctx.marker === undefined ? -1 : text.lastIndexOf(ctx.marker);
    const lines = text.slice(Math.max(since, 0)).split('\n');
    const re = new RegExp(step.pattern);
    const hits = lines.filter((l) => re.test(l));
    const want = step.present !== false;
    const ok = want ? hits.length > 0 : hits.length === 0;
    return { ok, ...(ok ? {} : { code: 'LOG', error: want ? `no kernel log line matches /${step.pattern}/ in this iteration` : `${hits.length} kernel log line(s) match /${step.pattern}/` }), hits: hits.slice(0, 20) };
  },
};
