/**
 * What the host does for a repro step (a QMP fault on the topology's device): whether QEMU can
 * inject each fault a scenario names, and the answer to a step's sync request, written where
 * the guest waits for it (contract/repro-protocol.ts SYNC_DIR).
 */
import type { SyncRequest } from '../contract/markers.js';
import { SYNC_DIR, type SyncAnswer } from '../contract/repro-protocol.js';
import { injectFault, queryFaultSupport, unsupportedFault, type FaultSpec } from '../qemu/faults.js';
import type { Vm } from '../qemu/vm.js';
import type { BootState } from './boot-state.js';
import { allSteps, faultSteps, type FaultStep, type Scenario } from './scenario.js';

/** Why QEMU cannot inject a fault the scenario needs (a skip), or undefined. */
export async function faultSupportProblem(vm: Vm, scenario: Scenario): Promise<string | undefined> {
  const support = await queryFaultSupport(await vm.qmp());
  for (const f of faultSteps(scenario)) {
    const why = unsupportedFault(f.fault, support);
    if (why) return why;
  }
  return undefined;
}

/** A guest step asked for a host action (a QMP fault): do it and hand the result back. */
export async function answerSync(b: BootState, scenario: Scenario, { token, phase, index, iteration }: SyncRequest, log: (l: string) => void): Promise<void> {
  const where = allSteps(scenario).find((s) => s.phase === phase && s.index === index);
  let answer: SyncAnswer;
  if (!where || where.step.do !== 'fault') {
    answer = { ok: false, code: 'BAD_SYNC', error: `no fault step at ${phase}[${index}]` };
  } else {
    const r = await injectFault(await b.vm.qmp(), faultForIteration(where.step as FaultStep, iteration));
    log(`fault ${(where.step as FaultStep).fault} on ${String((where.step as FaultStep).device)}: ${r.ok ? 'injected' : r.error}`);
    answer = r.ok ? { ...r } : { ...r, code: 'QMP_ERROR' };
  }
  b.watchdog.kick();
  if (!/^[0-9-]+$/.test(token)) return;
  await b.guest.run('repro-sync', ['sh', '-c', `mkdir -p ${SYNC_DIR} && cat > ${SYNC_DIR}/.${token} && mv ${SYNC_DIR}/.${token} ${SYNC_DIR}/${token}`], { input: JSON.stringify(answer), timeoutMs: 30_000 });
}

/** A fault step's spec for one iteration: `stride` moves the offset on each iteration (QEMU refuses overlapping poison). */
export function faultForIteration(step: FaultStep, iteration: number): FaultSpec {
  const { do: _d, expect: _e, stride, ...spec } = step;
  const offset = typeof spec.offset === 'number' ? spec.offset + Math.max(0, iteration - 1) * (stride ?? 0) : undefined;
  return { ...spec, ...(offset !== undefined ? { offset } : {}) } as unknown as FaultSpec;
}
