// Pure parts of the probe layer: node lists, the argument catalogue, errno naming.
import t from 'tap';
import { outcome } from '../../src/probe/errno.js';
import { formatNodeList, parseHexMask, parseNodeList } from '../../src/probe/nodelist.js';
import { describeMode, modeAndFlags } from '../../src/probe/policy.js';
import { ProbeArgumentError, describeProbes, formatProbeArgv, parseProbeArgv, probeNames, resolveArgs } from '../../src/probe/spec.js';

t.test('10 node lists parse and print the way the kernel writes them', async (t) => {
  t.same(parseNodeList('0-1,3'), [0, 1, 3]);
  t.same(parseNodeList(' 2 \n'), [2]);
  t.same(parseNodeList(''), []);
  t.equal(formatNodeList([3, 0, 1, 1]), '0-1,3');
  t.equal(formatNodeList([]), '');
  t.throws(() => parseNodeList('0-x'), RangeError);
  t.throws(() => parseNodeList('3-1'), RangeError);
  t.same(parseHexMask('00000000,00000003'), [0, 1]);
  t.same(parseHexMask('00000001,00000000'), [32]);
});

t.test('20 errno values get their names', async (t) => {
  t.same(outcome(0), { ok: true, errno: 0, code: 'OK' });
  t.same(outcome(22), { ok: false, errno: 22, code: 'EINVAL' });
  t.same(outcome(13), { ok: false, errno: 13, code: 'EACCES' });
});

t.test('30 mode words split into mode and flags', async (t) => {
  t.equal(modeAndFlags('bind', ['static']), 2 | (1 << 15));
  t.same(describeMode(2 | (1 << 15)), { mode: 'bind', flags: ['static'] });
  t.same(describeMode(6), { mode: 'weighted-interleave', flags: [] });
  t.same(describeMode(42), { mode: 42, flags: [] });
});

t.test('40 argv parses into typed, defaulted args', async (t) => {
  const args = parseProbeArgv('place', ['--pages', '8', '--policy=bind', '--policyNodes', '0-1,3', '--policyFlags', 'static', '--mbindAfterFill']);
  t.equal(args.pages, 8);
  t.equal(args.policy, 'bind');
  t.same(args.policyNodes, [0, 1, 3]);
  t.same(args.policyFlags, ['static']);
  t.equal(args.mbindAfterFill, true);
  t.equal(args.backing, 'anon', 'default filled in');
  t.equal(parseProbeArgv('mempolicy', ['--mode', '99']).mode, 99, 'raw mode numbers pass through');
});

t.test('50 misuse throws ProbeArgumentError naming the argument', async (t) => {
  t.throws(() => parseProbeArgv('place', ['--pages', 'x']), { name: 'ProbeArgumentError', message: /--pages must be an integer/ });
  t.throws(() => parseProbeArgv('place', ['--pages', '0']), /--pages must be >= 1/);
  t.throws(() => parseProbeArgv('place', ['--bogus', '1']), /unknown argument --bogus/);
  t.throws(() => parseProbeArgv('place', ['--fill', 'ones']), /--fill must be one of zero\|pattern\|random/);
  t.throws(() => parseProbeArgv('place', ['--policyNodes', 'a-b']), /--policyNodes must be a node list/);
  t.throws(() => parseProbeArgv('mempolicy', ['--mode', 'sideways']), /--mode must be one of/);
  t.throws(() => parseProbeArgv('move-pages', []), /--to is required/);
  t.throws(() => parseProbeArgv('place', ['pages', '3']), /unexpected word/);
  t.throws(() => resolveArgs('place', { pages: 1.5 }), ProbeArgumentError);
});

t.test('60 args survive the host -> guest round trip', async (t) => {
  const args = { pages: 16, policy: 'bind', policyNodes: [0, 1, 3], policyFlags: ['static', 'relative'], mbindAfterFill: true };
  const argv = formatProbeArgv('place', args);
  t.same(argv, ['--pages=16', '--policy=bind', '--policyNodes=0-1,3', '--policyFlags=static,relative', '--mbindAfterFill=true']);
  const back = parseProbeArgv('place', argv);
  for (const [k, v] of Object.entries(args)) t.same(back[k], v, k);
});

t.test('70 the catalogue lists every probe with its arguments', async (t) => {
  const text = describeProbes();
  for (const name of probeNames) t.match(text, new RegExp(`^${name}[ :(]`, 'm'), name);
  t.match(text, /--policyNodes <nodes>/);
});
