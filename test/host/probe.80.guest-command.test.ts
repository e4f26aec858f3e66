// The guest's `cxl-harness probe` command, spawned on the host as the guest would run it.
// It loads ../dist/probe, so the probe layer is compiled first (the same tsc the build runs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const script = `${repo}dist/agent/cli.js`;

t.before(() => {
  const tsc = spawnSync(process.execPath, [`${repo}node_modules/typescript/bin/tsc`, '-p', `${repo}tsconfig.json`], { encoding: 'utf8' });
  // tsc emits despite type errors elsewhere; only errors in src/probe or src/agent make dist suspect.
  t.notMatch(tsc.stdout, /src\/(probe|agent)\//, "src/probe and src/agent compile cleanly");
});

function guest(...argv: string[]) {
  // A plain node, without the test runner's TypeScript loader, like the guest has.
  const r = spawnSync(process.execPath, [script, ...argv], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('10 a probe prints exactly one JSON object and exits 0, even when the kernel says no', async (t) => {
  const ok = guest('probe', 'mempolicy', '--mode', 'bind', '--nodes', '0', '--json');
  t.equal(ok.status, 0, ok.stderr);
  t.equal(ok.stdout.trim().split('\n').length, 1, 'one line');
  t.match(JSON.parse(ok.stdout), { probe: 'mempolicy', ok: true, readback: { mode: 'bind', nodes: [0] } });
  const no = guest('probe', 'mempolicy', '--mode=bind', '--nodes=63', '--json');
  t.equal(no.status, 0);
  t.match(JSON.parse(no.stdout), { ok: false, errno: 22, code: 'EINVAL' });
});

t.test('20 placement runs in its child from the compiled dist', async (t) => {
  const r = guest('probe', 'place', '--pages', '8', '--fill', 'random', '--policy', 'bind', '--policyNodes', '0', '--json');
  t.equal(r.status, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { probe: 'place', ok: true, placed: { nodes: { 0: 8 } }, corruptPages: 0 });
});

t.test('30 misuse exits 2 with the reason on stderr and nothing on stdout', async (t) => {
  for (const [argv, reason] of [
    [['probe', 'place', '--pages', 'many', '--json'], /--pages must be an integer/],
    [['probe', 'place', '--policyNodes', '1-a', '--json'], /--policyNodes must be a node list/],
    [['probe', 'no-such-probe', '--json'], /unknown probe no-such-probe/],
    [['probe', 'move-pages', '--json'], /--to is required/],
    [['probe', '--json'], /no probe name/],
    [['frobnicate'], /unknown command frobnicate/],
  ] as const) {
    const r = guest(...argv);
    t.equal(r.status, 2, argv.join(' '));
    t.match(r.stderr, reason);
    t.equal(r.stdout, '');
  }
});

t.test('40 --list names every probe and its arguments; --list --json is the catalogue', async (t) => {
  const text = guest('probe', '--list');
  t.equal(text.status, 0);
  t.match(text.stdout, /^move-pages \(runs in a child process\)/m);
  t.match(text.stdout, /--to <int> \(required\)/);
  const json = JSON.parse(guest('probe', '--list', '--json').stdout) as Record<string, { args: object }>;
  t.ok('zswap' in json && 'pages' in json.zswap!.args);
});
