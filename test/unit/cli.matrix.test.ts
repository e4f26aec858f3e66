import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CiRunOptions, RunExecutor } from '../../src/ci/executor.js';
import { argvOf, parse } from '../../src/cli/args.js';
import { kernelEntry } from '../../src/cli/kernel-entry.js';
import { jobValues, matrixCommand, passThrough } from '../../src/cli/matrix.js';
import { KERNEL_OPTIONS, kernelSpecFrom } from '../../src/cli/options.js';
import { HarnessError } from '../../src/errors.js';
import { worstExitCode } from '../../src/report/verdict.js';
import { check, summary } from '../fixtures/report/summaries.js';
import { capture, fakeSuite, scratch, writeResultsDir } from '../fixtures/report/dirs.js';

const AXES = ['--kernels', 'distro,distro:trixie,./build/bzImage', '--topologies', 'default,interleave', '--suites', 'hotplug,zswap'];
const noSuiteCheck = { findSuite: fakeSuite };

async function matrix(args: string[], deps: Parameters<typeof matrixCommand>[1] = {}): Promise<{ code: number; json: unknown; stdout: string; stderr: string }> {
  const c = capture();
  const code = await matrixCommand(args, { ...noSuiteCheck, io: c.io, log: (l) => c.io.err(`${l}\n`), ...deps });
  let json: unknown;
  try {
    json = JSON.parse(c.stdout);
  } catch {
    json = undefined;
  }
  return { code, json, stdout: c.stdout, stderr: c.stderr };
}

t.test('10 kernel entries become run options that run itself accepts', async (t) => {
  const cases: [string, string[]][] = [
    ['distro', []],
    ['distro:trixie', ['--kernel-suite', 'trixie']],
    ['distro:sid:linux-image-amd64', ['--kernel-suite', 'sid', '--kernel-package', 'linux-image-amd64']],
    ['distro::linux-image-rt-amd64', ['--kernel-package', 'linux-image-rt-amd64']],
    ['debian-source:linux-source-7.2', ['--kernel-debian-source', 'linux-source-7.2']],
    ['debian-source:linux-source-7.2:sid', ['--kernel-debian-source', 'linux-source-7.2', '--kernel-suite', 'sid']],
    ['src:/work/linux', ['--kernel-src', '/work/linux']],
    ['bzimage:out/bzImage:out/mods', ['--kernel', 'out/bzImage', '--modules', 'out/mods']],
    ['./arch/x86/boot/bzImage', ['--kernel', './arch/x86/boot/bzImage']],
    ['/boot/vmlinuz-6.12.0', ['--kernel', '/boot/vmlinuz-6.12.0']],
  ];
  for (const [entry, args] of cases) {
    t.same(argvOf(kernelEntry(entry)), args, entry);
    // The same options through run's own parser and kernelSpecFrom: the syntax is what run understands.
    const { values } = parse(args, KERNEL_OPTIONS, 'usage');
    const spec = kernelSpecFrom(values);
    const kind = entry.startsWith('distro') ? 'distro' : entry.startsWith('debian-source') || entry.startsWith('src:') ? 'source' : 'prebuilt';
    t.equal(spec.kind, kind, `${entry} is a ${kind} kernel for run`);
    t.same(kernelSpecFrom(kernelEntry(entry)), spec, `${entry}: a job gets the kernel run makes of the listed arguments`);
  }
  for (const bad of ['', 'linux-6.12', 'distro:a:b:c', 'debian-source:', 'bzimage:', 'src:', 'distro,trixie']) {
    t.throws(() => kernelEntry(bad), { code: 'USAGE' }, `"${bad}" is refused`);
  }
  t.same(argvOf(jobValues({ kernel: 'distro:trixie', topology: 'dcd', suite: 'hotplug' }, passThrough(['--kvm']))), ['--kernel-suite', 'trixie', '--topology', 'dcd', '--suite', 'hotplug', '--kvm']);
});

t.test('20 --json lists every job with its run args; --github and --gitlab wrap them', async (t) => {
  const r = await matrix(AXES);
  t.equal(r.code, 0);
  const jobs = r.json as { id: string; kernel: string; topology: string; suite: string; args: string[] }[];
  t.equal(jobs.length, 3 * 2 * 2);
  t.same(Object.keys(jobs[0]!).sort(), ['args', 'id', 'kernel', 'suite', 'topology']);
  t.same(jobs[0], { id: 'distro__default__hotplug', kernel: 'distro', topology: 'default', suite: 'hotplug', args: ['--topology', 'default', '--suite', 'hotplug'] });
  t.same(jobs[11]?.args, ['--kernel', './build/bzImage', '--topology', 'interleave', '--suite', 'zswap']);
  t.equal(r.stdout.trim().split('\n').length, 1, 'one line, ready for $GITHUB_OUTPUT');

  const gh = (await matrix([...AXES, '--github'])).json as { include: { id: string }[] };
  t.same(gh.include.map((j) => j.id), jobs.map((j) => j.id));
  const gl = (await matrix([...AXES, '--gitlab'])).json as { parallel: { matrix: { JOB_ID: string[]; KERNEL: string[] }[] } };
  t.same(gl.parallel.matrix.map((m) => m.JOB_ID[0]), jobs.map((j) => j.id));
  t.same(gl.parallel.matrix[4]?.KERNEL, ['distro:trixie']);
});

t.test('30 shards cover every job exactly once, for any shard count', async (t) => {
  const all = ((await matrix(AXES)).json as { id: string }[]).map((j) => j.id);
  for (const n of [1, 2, 5, 7, 12, 20]) {
    const listed = (await matrix([...AXES, '--shards', String(n)])).json as { shard: string; jobs: string[] }[];
    const count = Math.min(n, all.length);
    t.same(listed.map((s) => s.shard), Array.from({ length: count }, (_, i) => `${i + 1}/${count}`), `--shards ${n}: ${count} shard(s), none empty`);
    t.same(listed.flatMap((s) => s.jobs), all, `--shards ${n}: concatenated in order = the whole matrix`);
    const sizes = listed.map((s) => s.jobs.length);
    t.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `--shards ${n}: sizes ${sizes.join(',')} differ by at most one`);
    for (const s of listed) {
      const one = (await matrix([...AXES, '--shard', s.shard])).json as { id: string }[];
      t.same(one.map((j) => j.id), s.jobs, `--shard ${s.shard} selects the listed jobs`);
    }
  }
  const gh = (await matrix([...AXES, '--shards', '5', '--github'])).json as { include: { shard: string; jobs: string }[] };
  t.same(gh.include.map((s) => s.shard), ['1/5', '2/5', '3/5', '4/5', '5/5']);
  t.equal(gh.include[0]?.jobs, 'distro__default__hotplug distro__default__zswap distro__interleave__hotplug');
  const gl = (await matrix([...AXES, '--shards', '3', '--gitlab'])).json;
  t.same(gl, { parallel: { matrix: [{ SHARD: ['1/3', '2/3', '3/3'] }] } });
});

t.test('40 bad axes, shards, suites and options exit 2 before anything runs', async (t) => {
  await t.rejects(matrix(['--kernels', 'distro', '--topologies', 'default,nosuch', '--suites', 'hotplug']), { code: 'TOPOLOGY_UNKNOWN', exitCode: 2 }, 'a topology typo is refused before any job is listed');
  await t.rejects(matrix(['--kernels', 'distro', '--topologies', 'default']), { code: 'USAGE', message: /--suites needs at least one value/ });
  await t.rejects(matrix([...AXES.slice(0, 1), 'distro,vmlinuz', ...AXES.slice(2)]), { code: 'USAGE', message: /kernel entry "vmlinuz"/ });
  await t.rejects(matrix([...AXES, '--shard', '3/2']), { code: 'MATRIX_BAD_SHARD', exitCode: 2 });
  await t.rejects(matrix([...AXES, '--shards', '0']), { code: 'USAGE' });
  await t.rejects(matrix([...AXES, '--github', '--gitlab']), { code: 'USAGE' });
  await t.rejects(matrix([...AXES, '--', '--kvm']), { code: 'USAGE', message: /only goes with --run/ });
  await t.rejects(matrix([...AXES, '--suites', 'hotplug,nosuch'], { findSuite: undefined as never }), { code: 'SUITE_UNKNOWN' }, 'suites are checked against run\'s list');
  t.throws(() => passThrough(['--kvm', '--topology=dcd']), { code: 'USAGE', message: /--topology after --/ });
  t.doesNotThrow(() => passThrough(['--kvm', '--boot-timeout', '300']));
});

/** An executor that writes what a run would have written, with a verdict per suite. */
function fakeRuns(verdicts: Record<string, number>): { execute: RunExecutor; calls: { options: CiRunOptions; dir: string }[] } {
  const calls: { options: CiRunOptions; dir: string }[] = [];
  const execute: RunExecutor = async (options) => {
    calls.push({ options, dir: options.resultsDir });
    const suite = options.suite.name;
    const code = verdicts[suite] ?? 0;
    if (code === -1) throw new HarnessError('TOPOLOGY_UNKNOWN', 'no such topology');
    const outcome = code === 0 ? 'pass' : code === 1 ? 'fail' : code === 3 ? 'kernel-crash' : code >= 130 ? 'interrupted' : 'infrastructure-error';
    const s = summary({ runId: `run-${calls.length}`, suite, outcome, exitCode: code, checks: [check(`${suite}.x`, code === 1 ? 'fail' : 'pass')] });
    writeResultsDir(options.resultsDir, s);
    return s;
  };
  return { execute, calls };
}

t.test('50 --run runs its shard one job after the other, a dir per job, the worst exit code', async (t) => {
  const base = scratch(t);
  const fake = fakeRuns({ hotplug: 0, zswap: 1 });
  const r = await matrix([...AXES, '--shard', '1/3', '--run', '--results-base', base, '--', '--kvm'], { execute: fake.execute });
  t.equal(r.code, 1, 'a failing check in one job: exit 1');
  t.same(fake.calls.map((c) => c.dir), ['distro__default__hotplug', 'distro__default__zswap', 'distro__interleave__hotplug', 'distro__interleave__zswap'].map((id) => join(base, id)));
  t.same(fake.calls[1]?.options.argv, ['run', '--topology', 'default', '--suite', 'zswap', '--kvm'], 'job options then the pass-through ones (reproducer.sh repeats the job)');
  t.same([fake.calls[1]?.options.topology, fake.calls[1]?.options.suite.name, fake.calls[1]?.options.accel, fake.calls[1]?.options.kernel], ['default', 'zswap', 'kvm', { kind: 'distro' }], 'and the run gets them as options');
  const manifest = JSON.parse(readFileSync(join(base, 'shard-1-of-3.json'), 'utf8')) as { shard: string; jobs: { id: string; exitCode: number; outcome: string }[] };
  t.equal(manifest.shard, '1/3');
  t.same(manifest.jobs.map((j) => [j.id, j.exitCode, j.outcome]), [
    ['distro__default__hotplug', 0, 'pass'],
    ['distro__default__zswap', 1, 'fail'],
    ['distro__interleave__hotplug', 0, 'pass'],
    ['distro__interleave__zswap', 1, 'fail'],
  ]);
  const job = JSON.parse(readFileSync(join(base, 'distro__default__zswap', 'matrix-job.json'), 'utf8')) as { kernel: string; topology: string; suite: string };
  t.same([job.kernel, job.topology, job.suite], ['distro', 'default', 'zswap']);
  t.match(r.stdout, /^ {2}1 {2}fail {2}distro__default__zswap /m);
});

t.test('55 jobs of one topology and suite on several kernels end in their rows side by side, in Markdown and HTML', async (t) => {
  const base = scratch(t);
  const fake = fakeRuns({ spm: 1 });
  // Each kernel entry its own kernel, as the real runs would report them.
  const execute: RunExecutor = async (o) => ({ ...(await fake.execute(o)), kernel: { origin: 'distro', release: `7.2.13-${o.kernel.kind === 'distro' ? o.kernel.suite ?? 'sid' : '?'}` } });
  const r = await matrix(['--kernels', 'distro,distro:trixie', '--topologies', 'spm-pair', '--suites', 'spm', '--run', '--results-base', base], { execute });
  t.equal(r.code, 1);
  const table = readFileSync(join(base, 'side-by-side-spm-pair-spm.md'), 'utf8').split('\n');
  t.match(table[0], /^\| check \| .* \| .* \|$/, 'one column per kernel');
  t.match(table[2], /^\| `spm\.x` \| \*\*fail\*\* .* \| \*\*fail\*\* .* \|$/);
  t.match(r.stderr, /the kernels side by side: .*side-by-side-spm-pair-spm\.md/);
  const page = readFileSync(join(base, 'side-by-side-spm-pair-spm.html'), 'utf8');
  t.match(r.stderr, /the kernels side by side: .*side-by-side-spm-pair-spm\.html/);
  t.match(page, /<h1>2 runs of spm on 2 kernels<\/h1>/);
  t.match(page, /<section id="kernels"><h2>Kernels side by side<\/h2>[\s\S]*<th>generation unknown \(7\.2\.13-sid\)<div>[\s\S]*<th>generation unknown \(7\.2\.13-trixie\)<div>/, 'the HTML page puts the kernels side by side');
  t.match(page, /<tr><td><code>spm\.x<\/code><\/td><td><span class="badge v-fail">fail<\/span>/);
  const one = scratch(t);
  await matrix(['--kernels', 'distro', '--topologies', 'spm-pair', '--suites', 'spm', '--run', '--results-base', one], { execute: fakeRuns({ spm: 0 }).execute });
  t.notOk(existsSync(join(one, 'side-by-side-spm-pair-spm.md')), 'one kernel: nothing to set side by side');
  t.notOk(existsSync(join(one, 'side-by-side-spm-pair-spm.html')));
});

t.test('60 a job that cannot start does not stop the shard; an interrupted one does', async (t) => {
  const base = scratch(t);
  const broken = fakeRuns({ hotplug: -1, zswap: 0 });
  const r = await matrix(['--kernels', 'distro', '--topologies', 'default', '--suites', 'hotplug,zswap', '--run', '--results-base', base], { execute: broken.execute });
  t.equal(r.code, 2, 'the job that did not start is an infrastructure error');
  t.equal(broken.calls.length, 2, 'the next job still ran');
  const manifest = JSON.parse(readFileSync(join(base, 'shard-1-of-1.json'), 'utf8')) as { jobs: { exitCode: number; error?: { code: string } }[] };
  t.same(manifest.jobs.map((j) => [j.exitCode, j.error?.code]), [[2, 'TOPOLOGY_UNKNOWN'], [0, undefined]]);

  const base2 = scratch(t);
  const stopped = fakeRuns({ hotplug: 130, zswap: 0 });
  const r2 = await matrix(['--kernels', 'distro', '--topologies', 'default', '--suites', 'hotplug,zswap', '--run', '--results-base', base2], { execute: stopped.execute });
  t.equal(r2.code, 130);
  t.equal(stopped.calls.length, 1, 'nothing runs after an interruption');
  t.notOk(existsSync(join(base2, 'distro__default__zswap')));
  t.equal(worstExitCode([1, 3, 2, 0]), 3);
  t.equal(worstExitCode([3, 143, 1]), 143);
  t.equal(worstExitCode([]), 0);
});
