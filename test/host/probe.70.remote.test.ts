// The host-side client with a fake transport: a good result passes through typed, anything
// else becomes a failure that keeps what came back.
import t from 'tap';
import { createRemoteProber, isProbeFailure, type ProbeAnswer } from '../../src/probe/index.js';

function fake(reply: ProbeAnswer | Error, defaults?: Record<string, unknown>) {
  const calls: { name: string; args: Record<string, unknown>; argv: string[] }[] = [];
  const prober = createRemoteProber(async (name, args, argv) => {
    calls.push({ name, args, argv });
    if (reply instanceof Error) throw reply;
    return reply;
  }, defaults ? { defaults } : {});
  return { calls, prober };
}

const goodResult = {
  probe: 'mempolicy', ok: false, errno: 22, code: 'EINVAL', maxnode: 64,
  set: { ok: false, errno: 22, code: 'EINVAL', mode: 'bind', flags: [], nodes: [2] },
  readback: { ok: true, errno: 0, code: 'OK', mode: 'default', flags: [], nodes: [] },
  memsAllowed: { ok: true, errno: 0, code: 'OK', nodes: [0] },
};

t.test('10 the request carries the arguments; its argv is the guest command with --key=value words', async (t) => {
  const { calls, prober } = fake({ ok: true, result: goodResult });
  const r = await prober.run('mempolicy', { mode: 'bind', nodes: [0, 1, 2], flags: ['static'] });
  t.same(calls, [{
    name: 'mempolicy',
    args: { mode: 'bind', nodes: [0, 1, 2], flags: ['static'] },
    argv: ['cxl-harness', 'probe', 'mempolicy', '--mode=bind', '--nodes=0-2', '--flags=static', '--json'],
  }]);
  t.same(r, goodResult, 'the result comes back as is');
  t.notOk(isProbeFailure(r));
});

t.test('15 a prober\'s defaults go with every probe, and into its argv', async (t) => {
  const { calls, prober } = fake({ ok: true, result: { probe: 'place', ok: true, errno: 0, code: 'OK' } }, { oomScoreAdj: 1000 });
  await prober.run('place', { pages: 4 });
  t.same(calls[0]?.args, { oomScoreAdj: 1000, pages: 4 });
  t.match(calls[0]?.argv, ['cxl-harness', 'probe', 'place', '--oomScoreAdj=1000', '--pages=4', '--json']);
});

t.test('20 misuse throws before anything is sent', async (t) => {
  const { calls, prober } = fake({ ok: true, result: {} });
  await t.rejects(prober.run('place', { pages: -1 }), { name: 'ProbeArgumentError', message: /--pages must be >= 1/ });
  t.same(calls, []);
});

t.test('30 an answer of the wrong shape is BAD_OUTPUT with what came back kept', async (t) => {
  const r = await fake({ ok: true, result: 'Segmentation fault' }).prober.run('nodes');
  t.match(r, { ok: false, failure: true, code: 'BAD_OUTPUT', stdout: '"Segmentation fault"' });
  const wrongShape = await fake({ ok: true, result: [1, 2] }).prober.run('nodes');
  t.match(wrongShape, { code: 'BAD_OUTPUT' });
  const otherProbe = await fake({ ok: true, result: goodResult }).prober.run('nodes');
  t.match(otherProbe, { code: 'BAD_OUTPUT', message: /answered for probe mempolicy/ });
});

t.test('40 no answer is a failure naming why; a timeout says so', async (t) => {
  const lost = await fake({ ok: false, error: 'AGENT_LOST: the agent (pid 412) went away' }).prober.run('place');
  t.match(lost, { ok: false, failure: true, code: 'CHILD_ERROR', message: /went away/ });
  t.notOk((lost as { timedOut?: boolean }).timedOut);
  const hung = await fake({ ok: false, error: 'probe did not finish within 180000 ms', timedOut: true }).prober.run('place');
  t.match(hung, { code: 'TIMED_OUT', timedOut: true, message: /did not finish/ });
});

t.test('50 a transport that throws (ssh down) is EXEC_FAILED', async (t) => {
  const r = await fake(new Error('connection reset')).prober.run('nodes');
  t.match(r, { ok: false, failure: true, code: 'EXEC_FAILED', message: /connection reset/ });
});

t.test('60 a child failure reported by the guest passes through as a failure', async (t) => {
  const crash = { probe: 'place', ok: false, errno: 0, failure: true, code: 'SIGNALED', signal: 'SIGKILL', oom: true, message: 'killed', stderr: '' };
  const r = await fake({ ok: true, result: crash }).prober.run('place');
  t.ok(isProbeFailure(r));
  t.match(r, { signal: 'SIGKILL', oom: true });
});
