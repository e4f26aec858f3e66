/**
 * The MCP server, through the SDK's own Client over an in-memory transport: its tools and their
 * schemas, what it lists (topologies, checks, the kernels of a cache made here), zod refusing
 * input of the wrong shape, and the reading tools on a recorded results dir (test/fixtures/mcp/).
 * The real CLI refusing a start is test/host/mcp.cli.test.ts (it needs dist/).
 */
import t, { type Test } from 'tap';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { parse } from '../../src/cli/args.js';
import { LOOP_OPTIONS } from '../../src/cli/loop-options.js';
import { KERNEL_OPTIONS, MACHINE_OPTIONS, RESULTS_OPTIONS } from '../../src/cli/options.js';
import { RUN_HELP, runOptions } from '../../src/cli/run.js';
import { createHarnessServer } from '../../src/mcp/server.js';
import { EXEC_INPUT, optionName, REPRO_INPUT, RUN_INPUT, runArgv } from '../../src/mcp/inputs.js';
import { builtinTopologies } from '../../src/qemu/topology.js';
import type { RunSummary } from '../../src/report/model.js';
import { suiteNames } from '../../src/suites/index.js';
import { GENERATIONS } from '../../src/suites/spm/generations/index.js';
import { ROWS } from '../../src/suites/spm/rows.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/mcp/spm-run', import.meta.url));
const fixtureSummary = JSON.parse(readFileSync(join(FIXTURE, 'summary.json'), 'utf8')) as RunSummary;

const TOOLS = ['check_evidence', 'console_tail', 'dmesg', 'exec', 'list_checks', 'list_kernels', 'list_topologies', 'run_status', 'run_summary', 'start_repro', 'start_run', 'stop_run'];

/** A server with its own results base, and a client connected to it. */
async function connect(t: Test) {
  const base = mkdtempSync(join(tmpdir(), 'cxlh-mcp-'));
  const logged: string[] = [];
  const harness = createHarnessServer({ resultsBase: join(base, 'results'), cwd: base, log: (l) => logged.push(l) });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await harness.server.connect(serverSide);
  const client = new Client({ name: 'mcp.server.test', version: '1' });
  await client.connect(clientSide);
  t.teardown(async () => {
    await client.close();
    await harness.shutdown();
  });
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return { base, results: join(base, 'results'), harness, client, call, logged };
}

const text = (r: CallToolResult): string => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
const data = <T = Record<string, unknown>>(r: CallToolResult): T => {
  if (r.isError) throw new Error(`the tool failed: ${text(r)}`);
  return r.structuredContent as T;
};

t.test('10 every tool is listed with its input schema; the start tools take exactly the CLI\'s options', async (t) => {
  const { client } = await connect(t);
  const { tools } = await client.listTools();
  t.same(tools.map((x) => x.name).sort(), TOOLS);
  const byName = Object.fromEntries(tools.map((x) => [x.name, x]));
  for (const x of tools) t.ok(x.description && x.description.length > 40, `${x.name} says what it does`);

  const run = byName.start_run!.inputSchema as { properties: Record<string, { enum?: string[]; type?: string }>; additionalProperties?: boolean };
  t.same(run.properties.suite?.enum, suiteNames(), 'the suites are the suite table\'s');
  t.equal(run.additionalProperties, false, 'an unknown field is refused, not dropped');
  t.equal(run.properties.checkTimeout?.type, 'number');
  t.same((byName.run_status!.inputSchema as { required?: string[] }).required, ['run']);
  t.same((byName.check_evidence!.inputSchema as { required?: string[] }).required, ['run', 'check']);
  t.equal(byName.run_status!.annotations?.readOnlyHint, true);

  // Each field is the option of the same name of the command the tool runs: no field the CLI would refuse as unknown.
  const takes = (fields: string[], options: object, own: Record<string, string>) =>
    fields.filter((f) => !(f in own)).filter((f) => !Object.hasOwn(options, optionName(f).slice(2)));
  t.same(takes(Object.keys(RUN_INPUT.shape), runOptions, {}), [], 'start_run: every field is a run option');
  t.same(takes(Object.keys(REPRO_INPUT.shape), { ...KERNEL_OPTIONS, ...LOOP_OPTIONS }, { scenario: 'the positional' }), [], 'start_repro: every field is a repro option');
  t.same(takes(Object.keys(EXEC_INPUT.shape), { ...KERNEL_OPTIONS, ...MACHINE_OPTIONS, ...RESULTS_OPTIONS, exec: {} }, {}).filter((f) => f !== 'command'), [], 'exec: every field is an ssh option');
  t.equal(optionName('command'), '--command', 'command is the one field named apart (it is --exec)');
});

t.test('15 a tool input becomes the argv the CLI parses back to the same values', async (t) => {
  const argv = runArgv({ suite: 'hotplug', kernelSuite: 'trixie', configFragment: ['a.config', 'b.config'], debugConfig: false, kvm: true, cmdline: '-q loglevel=8', checkTimeout: 30, kernelSrc: '~/linux', patches: 'v1..v2' }, '/r/x');
  t.equal(argv[0], 'run');
  const { values } = parse(argv.slice(1), runOptions, RUN_HELP);
  t.same(values, {
    suite: 'hotplug', 'kernel-suite': 'trixie', 'config-fragment': ['a.config', 'b.config'], kvm: true, cmdline: '-q loglevel=8',
    'check-timeout': '30', 'kernel-src': '~/linux', patches: 'v1..v2', results: '/r/x', format: 'none',
  }, 'a value starting with "-" stays a value; false sets nothing');
});

t.test('20 list_topologies: every preset, with the suites that can run on it', async (t) => {
  const { call } = await connect(t);
  const { topologies } = data<{ topologies: Array<{ name: string; description: string; suites: string[]; defaultOf: string[]; regions: number }> }>(await call('list_topologies'));
  t.same(topologies.map((x) => x.name), builtinTopologies());
  const find = (name: string) => topologies.find((x) => x.name === name)!;
  const fits = (name: string) => ({ regions: find(name).regions, spm: find(name).suites.includes('spm'), hotplug: find(name).suites.includes('hotplug') });
  t.same(fits('default'), { regions: 1, spm: false, hotplug: true }, 'spm needs two regions');
  t.same(fits('spm-pair'), { regions: 2, spm: true, hotplug: true });
  t.ok(find('default').defaultOf.includes('hotplug') && find('spm-pair').defaultOf.includes('spm'), 'each suite\'s default topology says so');
  t.ok(topologies.every((x) => x.description.length > 0), 'each with its description');
});

t.test('25 list_checks: the suites, and the SPM table as `cxl-harness checks` prints it', async (t) => {
  const { call } = await connect(t);
  const c = data<{ suites: Array<{ name: string; defaultTopology: string }>; spm: { generations: Array<{ short: string; unproven?: string }>; checks: Array<{ id: string; byGeneration: Record<string, { expect?: string; skip?: string }> }> } }>(await call('list_checks'));
  t.same(c.suites.map((s) => s.name), suiteNames(), 'the suite table\'s suites');
  t.same(c.suites.slice(0, 2).map((s) => [s.name, s.defaultTopology]), [['spm', 'spm-pair'], ['hotplug', 'default']]);
  t.same(c.spm.checks.map((x) => x.id), Object.values(ROWS).map((r) => r.id));
  t.same(c.spm.generations.map((g) => g.short), GENERATIONS.map((g) => g.short));
  t.ok(c.spm.generations.some((g) => g.unproven), 'a version no kernel proved says so');
  const leak = c.spm.checks.find((x) => x.id === 'spm.zswap.leak')!;
  t.same(Object.keys(leak.byGeneration), GENERATIONS.map((g) => g.short));
  t.match(leak.byGeneration.stock, { expect: String });
  const spmNodeAttrs = c.spm.checks.find((x) => x.id === 'spm.sysfs.spm_node_invalid')!;
  t.match(spmNodeAttrs.byGeneration.stock, { skip: String }, 'a row without meaning on a version says why it skips');
});

t.test('30 list_kernels: the complete kernels of the cache, each with the start_run input that boots it', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'cxlh-mcp-cache-'));
  const saved = process.env.CXL_HARNESS_CACHE;
  process.env.CXL_HARNESS_CACHE = cache;
  t.teardown(() => { process.env.CXL_HARNESS_CACHE = saved; });
  const entry = (kind: string, key: string, meta: object, files: Record<string, string>, complete = true) => {
    const dir = join(cache, kind, key);
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), content);
    }
    writeFileSync(join(dir, '.meta.json'), JSON.stringify({ kind, key, createdAt: '2026-12-06T15:12:38.847Z', ...meta }));
    if (complete) writeFileSync(join(dir, '.complete'), '');
    return dir;
  };
  const release = '7.2.13+deb14-amd64';
  const sid = entry('kernels', 'debian-sid-linux-image-7.2.13', { suite: 'sid', package: `linux-image-${release}`, version: '7.2.13-1' }, {
    [`root/usr/lib/modules/${release}/kernel/.keep`]: '',
    [`root/usr/lib/modules/${release}/vmlinuz`]: 'bzImage',
  });
  entry('kernels', 'debian-trixie-linux-image-6.12', { suite: 'trixie', package: 'linux-image-6.12.117-amd64', version: '6.12.117-1' }, {
    'root/usr/lib/modules/6.12.117-amd64/kernel/.keep': '',
  });
  entry('kernels', 'debian-sid-being-built', { suite: 'sid', package: 'linux-image-7.3', version: '7.3-1' }, { 'root/x': '' }, false);
  const build = entry('kernel', 'dd42e2bb', { source: 'debian:linux-source-7.2=7.2.13-1:30a8', patches: ['gfp: Add GFP_PROTECTED', 'cpuset: introduce cpuset.mems.default'] }, {
    bzImage: 'bzImage',
    config: 'CONFIG_CXL_BUS=y\n',
    'modules/lib/modules/7.2.13/modules.dep': '',
    'artifact.json': JSON.stringify({ image: 'bzImage', release: '7.2.13', modulesDir: 'modules/lib/modules/7.2.13', config: 'config', identity: { origin: 'source', release: '7.2.13', sourceVersion: '7.2.13', patches: [], patchsetHash: 'ab' } }),
  });
  entry('kernel-src', '30a8', { suite: 'sid', package: 'linux-source-7.2', version: '7.2.13-1' }, { 'tree/Makefile': '' });

  const { call } = await connect(t);
  const k = data<{ cache: string; distro: Array<Record<string, unknown>>; builds: Array<Record<string, unknown>>; sources: Array<Record<string, unknown>> }>(await call('list_kernels'));
  t.equal(k.cache, cache);
  t.equal(k.distro.length, 2, 'the entry still being built is not listed');
  t.match(k.distro.find((d) => d.suite === 'sid'), {
    dir: sid, release, image: join(sid, `root/usr/lib/modules/${release}/vmlinuz`), package: `linux-image-${release}`, version: '7.2.13-1',
    use: { kernelSuite: 'sid', kernelPackage: `linux-image-${release}` },
  });
  const trixie = k.distro.find((d) => d.suite === 'trixie')!;
  t.match(trixie.problem, /holds no vmlinuz for 6\.12\.117-amd64/, 'an entry a run would refuse says why');
  t.notOk('use' in trixie, 'and offers no way to boot it');
  t.match(k.builds, [{
    dir: build, release: '7.2.13', image: join(build, 'bzImage'), patches: ['gfp: Add GFP_PROTECTED', 'cpuset: introduce cpuset.mems.default'],
    identity: { origin: 'source', sourceVersion: '7.2.13' },
    use: { kernel: join(build, 'bzImage'), modules: join(build, 'modules/lib/modules/7.2.13') },
  }]);
  t.match(k.sources, [{ package: 'linux-source-7.2', version: '7.2.13-1', suite: 'sid' }]);
});

t.test('40 input of the wrong shape is refused by the schema, naming the field', async (t) => {
  const { call, results } = await connect(t);
  const refused = async (tool: string, args: Record<string, unknown>, why: RegExp) => {
    const r = await call(tool, args);
    t.equal(r.isError, true, `${tool} ${JSON.stringify(args)} is refused`);
    t.match(text(r), why);
  };
  const oneOf = suiteNames().map((n) => `"${n}"`).join('|').replace(/\|/g, '\\|');
  await refused('start_run', { suite: 'stress' }, new RegExp(`Input validation error: Invalid arguments for tool start_run: Invalid option: expected one of ${oneOf} at suite`));
  await refused('start_run', { checkTimeout: '5 min' }, /expected number, received string at checkTimeout/);
  await refused('start_run', { kernal: 'bzImage' }, /Unrecognized key: "kernal"/);
  await refused('start_run', { configFragment: 'one.config' }, /expected array.*at configFragment/s);
  await refused('start_repro', { iterations: 5 }, /expected string, received undefined at scenario/);
  await refused('start_repro', { scenario: 'online-offline', iterations: 2.5 }, /expected int.*at iterations/s);
  await refused('run_status', {}, /at run/);
  await refused('console_tail', { run: 'x', lines: 0 }, /at lines/);
  t.notOk(existsSync(results), 'nothing was started: no results dir');
});

t.test('50 the reading tools on a recorded results dir', async (t) => {
  const { call, results } = await connect(t);
  const dir = join(results, fixtureSummary.runId);
  cpSync(FIXTURE, dir, { recursive: true });

  const status = data<{ state: string; outcome: string; exitCode: number; checks: Array<{ id: string; verdict: string; reason?: string }>; steps: Array<{ name: string; status: string }> }>(await call('run_status', { run: dir }));
  t.match(status, { resultsDir: dir, runId: fixtureSummary.runId, state: 'finished', outcome: 'pass', exitCode: 0, suite: 'spm', topology: 'spm-pair', kernel: '7.2.13+deb14-amd64' });
  t.same(status.steps.map((s) => `${s.name}:${s.status}`), ['kernel:ok', 'image:ok', 'boot:ok', 'capabilities:ok', 'suite:spm:ok', 'collect:ok', 'shutdown:ok']);
  t.equal(status.checks.length, 33);
  t.same(status.checks.slice(0, 2), [{ id: 'spm.generation', verdict: 'pass' }, { id: 'spm.cpuset.mems_sysram_file', verdict: 'pass' }]);
  t.match(status.checks.find((c) => c.id === 'spm.sysfs.spm_node_invalid'), { verdict: 'skip', reason: String });
  t.same(data(await call('run_status', { run: fixtureSummary.runId })), status, 'a run id names the dir of that name under the results base');

  t.same(data(await call('run_summary', { run: dir })), fixtureSummary, 'run_summary is summary.json');

  const evidenceFile = 'evidence/spm.zswap.leak/zswap-node-S-meminfo.json';
  const evidenceText = readFileSync(join(FIXTURE, evidenceFile), 'utf8');
  const ev = data<{ verdict: string; expected: unknown; observed: { swappedOut: number }; evidence: Array<{ path: string; bytes: number; text: string; omittedBytes: number }> }>(await call('check_evidence', { run: dir, check: 'spm.zswap.leak' }));
  t.match(ev, { id: 'spm.zswap.leak', verdict: 'pass', expected: 'unchanged throughout', observed: { swappedOut: 256, zswpoutMinusZswpin: 256 } });
  t.same(ev.evidence, [{ path: evidenceFile, bytes: evidenceText.length, text: evidenceText, omittedBytes: 0 }]);
  const cut = data<typeof ev>(await call('check_evidence', { run: dir, check: 'spm.zswap.leak', maxBytes: 100 }));
  t.same(cut.evidence[0], { path: evidenceFile, bytes: evidenceText.length, text: evidenceText.slice(0, 100), omittedBytes: evidenceText.length - 100 }, 'cut at maxBytes, saying how much is left out');
  const unknown = await call('check_evidence', { run: dir, check: 'spm.nope' });
  t.equal(unknown.isError, true);
  t.match(text(unknown), /CHECK_UNKNOWN.*has no check "spm\.nope" \(it has spm\.generation, /);

  const consoleLines = readFileSync(join(FIXTURE, 'console.log'), 'utf8').trimEnd().split('\n');
  const tail = data<{ path: string; text: string; omittedBytes: number }>(await call('console_tail', { run: dir, lines: 3 }));
  t.equal(tail.path, 'console.log');
  t.same(tail.text.trimEnd().split('\n'), consoleLines.slice(-3));
  t.match(tail.text, /reboot: Power down\r?\n$/, 'the serial console\'s lines as they are (CRLF)');
  t.ok(tail.omittedBytes > 0);

  const dmesgText = readFileSync(join(FIXTURE, 'dmesg.txt'), 'utf8');
  t.match(data(await call('dmesg', { run: dir })), { path: 'dmesg.txt', text: dmesgText, omittedBytes: 0 });
  const dmesgTail = data<{ text: string; omittedBytes: number }>(await call('dmesg', { run: dir, maxBytes: 200 }));
  t.ok(dmesgText.endsWith(dmesgTail.text) && dmesgTail.text.length <= 200, 'the last bytes, from a line start');
  t.equal(dmesgTail.omittedBytes, dmesgText.length - dmesgTail.text.length);

  const stray = await call('run_status', { run: 'results/20990101T000000-000000' });
  t.equal(stray.isError, true);
  t.match(text(stray), /RESULTS_MISSING.*no run "results\/20990101T000000-000000"/);
  const notOurs = await call('stop_run', { run: dir });
  t.equal(notOurs.isError, true);
  t.match(text(notOurs), /is not a run this server started/);
});

