/**
 * selftest-faults: a suite that breaks things on purpose, so that the harness's answer to
 * each fault can be tested for real (test/e2e/2*.faults*.test.ts). Never for validating a
 * kernel. The faults, in order, come from $CXL_HARNESS_FAULT (comma-separated):
 * - panic: `echo c > /proc/sysrq-trigger`;
 * - hang: a command that never returns (`sleep`), for the check watchdog;
 * - garbage: the guest agent prints garbage instead of its hello and dies;
 * - drop-ssh: the SSH connection dies under a running command, then a next check runs;
 * - wait: a long command, for faults injected from outside (signals, killing QEMU).
 * Before a fault fires, `selftest-armed.txt` in the results dir names it, so a test knows when.
 */
import { HarnessError } from '../errors.js';
import { shellQuote } from '../exec.js';
import { AGENT_COMMAND, killAgentCommand } from '../remote/agent.js';
import type { CheckApi, Suite, SuiteContext } from './check.js';

const AGENT_MAIN = AGENT_COMMAND[1]!;

export const FAULTS = ['panic', 'hang', 'garbage', 'drop-ssh', 'wait'] as const;
export type Fault = (typeof FAULTS)[number];

export const FAULT_ENV = 'CXL_HARNESS_FAULT';
const FOREVER_MS = 24 * 3600 * 1000;

export function parseFaults(value: string | undefined): Fault[] {
  const names = (value ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  for (const n of names) {
    if (!(FAULTS as readonly string[]).includes(n)) {
      throw new HarnessError('USAGE', `${FAULT_ENV}: unknown fault "${n}"`, { hint: `use one or more of: ${FAULTS.join(', ')} (comma-separated)` });
    }
  }
  return names as Fault[];
}

async function arm(ctx: SuiteContext, fault: Fault): Promise<void> {
  await ctx.results.writeText('selftest-armed.txt', `${fault}\n`);
}

const FAULT_CHECKS: Record<Fault, (ctx: SuiteContext) => Promise<unknown>> = {
  panic: (ctx) =>
    ctx.check('selftest.panic', 'sysrq-c panics the guest kernel (the harness must report kernel-crash)', async (c: CheckApi) => {
      await arm(ctx, 'panic');
      const r = await c.guest.run('sysrq-c', 'echo c > /proc/sysrq-trigger', { timeoutMs: 120_000 });
      c.require('the guest answered after sysrq-c', !r.disconnected && r.exitCode !== null, 'the connection was lost');
      return { passed: false, expected: 'a kernel panic', observed: { exitCode: r.exitCode, disconnected: r.disconnected }, reason: 'the guest survived sysrq-c' };
    }),
  hang: (ctx) =>
    ctx.check('selftest.hang', 'a command that never returns (the check watchdog must end the run as a hang)', async (c: CheckApi) => {
      await arm(ctx, 'hang');
      const r = await c.guest.run('stuck', ['sleep', '86400'], { timeoutMs: FOREVER_MS });
      return { passed: false, expected: 'never returns', observed: { exitCode: r.exitCode }, reason: 'the stuck command returned' };
    }),
  garbage: (ctx) =>
    ctx.check('selftest.garbage', 'the guest agent prints garbage and dies (the check must be error, what it printed kept)', async (c: CheckApi) => {
      // The running agent is killed (once it runs: it is started while the run goes on); the
      // one started in its place is this script.
      const up = await c.guest.request('agent-ping', 'ping', {}, 120_000);
      c.require('the agent is up before it is replaced', up.answer.ok, up.answer.ok ? undefined : up.answer.error);
      const garbage = 'process.stdout.write(\'{"probe": "nodes", "ok": tru\\u0001\\u00ff garbage\\n\'); process.stderr.write(\'half a traceback\\n\'); process.exit(1);\n';
      const setup = await c.guest.run('garbage-setup', [
        `printf '%s' ${shellQuote(garbage)} > /tmp/garbage.js`,
        `mount --bind /tmp/garbage.js ${AGENT_MAIN}`,
        killAgentCommand(),
      ].join(' && '));
      c.require('the garbage agent is in place', setup.exitCode === 0, setup.stderr.trim());
      // The next request must find the old agent gone, not race its channel's close.
      for (const t0 = Date.now(); c.guest.agent.running && Date.now() - t0 < 10_000;) await new Promise((r) => setTimeout(r, 50));
      c.require('the host saw the agent go', !c.guest.agent.running, 'its channel did not close within 10 s');
      await arm(ctx, 'garbage');
      try {
        const r = await c.guest.probe.run('nodes');
        c.require('the nodes probe answered', !('failure' in r), 'failure' in r ? r.message : undefined);
        return { passed: true, expected: 'a probe answer', observed: r };
      } finally {
        await c.guest.run('garbage-teardown', ['umount', AGENT_MAIN]);
      }
    }),
  'drop-ssh': async (ctx) => {
    await ctx.check('selftest.drop-ssh', 'the SSH connection dies under a running command (the check must be error, not pass)', async (c: CheckApi) => {
      await arm(ctx, 'drop-ssh');
      // The command's parent is the sshd session process of this connection: killing it drops the connection.
      const r = await c.guest.json<unknown>('drop-ssh', 'kill -9 $PPID; sleep 5; echo "{}"', { timeoutMs: 60_000 });
      c.require('the command answered', r.ok, r.ok ? undefined : r.error);
      return { passed: true, expected: 'an answer', observed: r.value };
    });
    await ctx.check('selftest.after-drop', 'the next command runs on a new connection', async (c: CheckApi) => {
      const r = await c.guest.run('after-drop', ['echo', 'still here']);
      return { passed: r.exitCode === 0 && r.stdout.trim() === 'still here', expected: { exitCode: 0, stdout: 'still here' }, observed: { exitCode: r.exitCode, stdout: r.stdout.trim(), stderr: r.stderr.trim() } };
    });
  },
  wait: (ctx) =>
    ctx.check('selftest.wait', 'a long command, for faults injected from outside the harness', async (c: CheckApi) => {
      await arm(ctx, 'wait');
      const r = await c.guest.run('wait', ['sleep', '86400'], { timeoutMs: FOREVER_MS });
      return { passed: false, expected: 'to be interrupted', observed: { exitCode: r.exitCode, disconnected: r.disconnected }, reason: 'nothing interrupted the wait' };
    }),
};

export const faultSuite: Suite = {
  name: 'selftest-faults',
  description: `harness self-test: injects the faults named by $${FAULT_ENV} (${FAULTS.join(', ')}); not a kernel test`,
  defaultTopology: 'default',
  async run(ctx: SuiteContext) {
    const faults = parseFaults(process.env[FAULT_ENV]);
    await ctx.check('selftest.alive', 'the guest runs a command and answers', async (c: CheckApi) => {
      const r = await c.guest.run('uname', ['uname', '-r']);
      return { passed: r.exitCode === 0 && r.stdout.trim() !== '', expected: { exitCode: 0 }, observed: { exitCode: r.exitCode, release: r.stdout.trim() } };
    });
    for (const fault of faults) await FAULT_CHECKS[fault](ctx);
  },
};
