// The host-side client with a fake exec: good JSON passes through typed, anything else becomes
// a failure that keeps the raw output.
import t from 'tap';
import { createRemoteProber, isProbeFailure, type ExecResult } from '../src/probe/index.js';

function fake(reply: ExecResult | Error) {
  const calls: string[][] = [];
  const exec = async (argv: string[]): Promise<ExecResult> => {
    calls.push(argv);
    if (reply instanceof Error) throw reply;
    return reply;
  };
  return { calls, prober: createRemoteProber(exec) };
}

const goodResult = {
  probe: 'mempolicy', ok: false, errno: 22, code: 'EINVAL', maxnode: 64,
  set: { ok: false, errno: 22, code: 'EINVAL', mode: 'bind', flags: [], nodes: [2] },
  readback: { ok: true, errno: 0, code: 'OK', mode: 'default', flags: [], nodes: [] },
  memsAllowed: { ok: true, errno: 0, code: 'OK', nodes: [0] },
};

t.test('10 argv is the guest command with --key=value words and --json', async (t) => {
  const { calls, prober } = fake({ stdout: JSON.stringify(goodResult), stderr: '', exitCode: 0 });
  const r = await prober.run('mempolicy', { mode: 'bind', nodes: [0, 1, 2], flags: ['static'] });
  t.same(calls, [['cxl-harness', 'probe', 'mempolicy', '--mode=bind', '--nodes=0-2', '--flags=static', '--json']]);
  t.same(r, goodResult, 'the result comes back as is');
  t.notOk(isProbeFailure(r));
});

t.test('20 misuse throws before anything runs', async (t) => {
  const { calls, prober } = fake({ stdout: '', stderr: '', exitCode: 0 });
  await t.rejects(prober.run('place', { pages: -1 }), { name: 'ProbeArgumentError', message: /--pages must be >= 1/ });
  t.same(calls, []);
});

t.test('30 garbage on stdout is BAD_OUTPUT with the raw text kept', async (t) => {
  const { prober } = fake({ stdout: 'Segmentation fault\n', stderr: 'oops', exitCode: 0 });
  const r = await prober.run('nodes');
  t.match(r, { ok: false, failure: true, code: 'BAD_OUTPUT', stdout: 'Segmentation fault\n', stderr: 'oops', exitCode: 0 });
  const wrongShape = await fake({ stdout: '[1,2]', stderr: '', exitCode: 0 }).prober.run('nodes');
  t.match(wrongShape, { code: 'BAD_OUTPUT' });
  const otherProbe = await fake({ stdout: JSON.stringify(goodResult), stderr: '', exitCode: 0 }).prober.run('nodes');
  t.match(otherProbe, { code: 'BAD_OUTPUT', message: /answered for probe mempolicy/ });
});

t.test('40 a non-zero or missing exit code is a failure that keeps stderr', async (t) => {
  const r = await fake({ stdout: '', stderr: 'cxl-harness: probe place: --pages must be an integer\n', exitCode: 2 }).prober.run('place');
  t.match(r, { ok: false, failure: true, code: 'CHILD_ERROR', exitCode: 2, message: /exited with code 2/ });
  t.match(r, { stderr: /--pages must be an integer/ });
  const killed = await fake({ stdout: '{"probe":"nod', stderr: '', exitCode: null }).prober.run('nodes');
  t.match(killed, { code: 'CHILD_ERROR', exitCode: null, stdout: '{"probe":"nod', message: /killed or lost its connection/ });
});

t.test('50 an exec that throws (ssh down) is EXEC_FAILED', async (t) => {
  const r = await fake(new Error('connection reset')).prober.run('nodes');
  t.match(r, { ok: false, failure: true, code: 'EXEC_FAILED', message: /connection reset/ });
});

t.test('60 a child failure reported by the guest passes through as a failure', async (t) => {
  const crash = { probe: 'place', ok: false, errno: 0, failure: true, code: 'SIGNALED', signal: 'SIGKILL', oom: true, message: 'killed', stderr: '' };
  const r = await fake({ stdout: JSON.stringify(crash), stderr: '', exitCode: 0 }).prober.run('place');
  t.ok(isProbeFailure(r));
  t.match(r, { signal: 'SIGKILL', oom: true });
});
