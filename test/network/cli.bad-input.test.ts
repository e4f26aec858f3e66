// Bad input, command by command, through the built CLI as a user types it: one message naming
// the input and the fix, exit 2, nothing written where the results would have gone, no QEMU
// left, and all of it before anything is downloaded or booted (a few seconds at most; the
// unknown Debian suite asks the archive for its Release file, nothing more).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { qemuProcesses, runCli } from '../lib/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cxlh-bad-input-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string): string => join(dir, name);
writeFileSync(at('text.txt'), 'not a kernel\n');
// The head of a bzImage (the x86 boot protocol's "HdrS" at 0x202): enough for the checks before --modules.
const bzImage = Buffer.alloc(0x1000);
bzImage.writeUInt16LE(0xaa55, 0x1fe);
bzImage.write('HdrS', 0x202, 'latin1');
writeFileSync(at('bzImage'), bzImage);
writeFileSync(at('small-window.json'), JSON.stringify({
  name: 'small', hostBridges: [{ id: 'cxl.0', busNr: 12, rootPorts: [{ id: 'rp0', device: { id: 'mem0', sizeMiB: 512 } }] }],
  windows: [{ targets: ['cxl.0'], sizeMiB: 256 }],
}));
writeFileSync(at('crowded-buses.json'), JSON.stringify({
  name: 'crowded', hostBridges: [
    { id: 'cxl.0', busNr: 12, rootPorts: [{ id: 'rp0', device: { id: 'mem0', sizeMiB: 512 } }, { id: 'rp1', device: { id: 'mem1', sizeMiB: 512 } }] },
    { id: 'cxl.1', busNr: 13, rootPorts: [{ id: 'rp2', chassis: 1, device: { id: 'mem2', sizeMiB: 512 } }] },
  ],
  windows: [{ targets: ['cxl.0'], sizeMiB: 4096 }, { targets: ['cxl.1'], sizeMiB: 4096 }],
}));
mkdirSync(at('full'));
writeFileSync(at('full/notes.txt'), 'mine\n');

// [what, argv (R stands for a results dir that must not appear), the message]
const cases: [string, string[], RegExp][] = [
  ['results on procfs', ['run', '--results', '/proc/cxlh-x'], /RESULTS_UNWRITABLE\]: results dir \/proc\/cxlh-x cannot be created: \/proc is on procfs/],
  ['results base on procfs', ['run', '--results-base', '/proc/cxlh-x'], /RESULTS_UNWRITABLE\]: .*\/proc is on procfs/],
  ['results dir with other files', ['run', '--results', at('full')], /RESULTS_DIR_IN_USE\]: results dir .*full is not empty \(notes\.txt\)/],
  ['no such kernel', ['run', '--kernel', at('nonexistent-bzImage'), '--results', 'R'], /KERNEL_MISSING\]: kernel image .*nonexistent-bzImage does not exist/],
  ['a text file as kernel', ['run', '--kernel', at('text.txt'), '--results', 'R'], /KERNEL_NOT_BZIMAGE\]: .*text\.txt is not an x86 bzImage/],
  ['no such modules dir', ['run', '--kernel', at('bzImage'), '--modules', at('nomods'), '--results', 'R'], /MODULES_INVALID\]: no modules\.dep found in .*nomods/],
  ['no such source tree', ['run', '--kernel-src', at('nolinux'), '--results', 'R'], /KERNEL_SRC_MISSING\]: kernel source directory .*nolinux does not exist/],
  ['no such Debian suite', ['run', '--kernel-suite', 'nosuchsuite', '--results', 'R'], /KERNEL_SUITE_UNKNOWN\]: Debian's archive has no suite "nosuchsuite"/],
  ['unknown topology', ['run', '--topology', 'nosuch', '--results', 'R'], /TOPOLOGY_UNKNOWN\]: unknown topology "nosuch"/],
  ['window smaller than its device', ['run', '--topology', at('small-window.json'), '--results', 'R'], /TOPOLOGY_INVALID\]: .*windows\[0\]\.sizeMiB 256 is smaller than a region on it/],
  ['bus numbers that collide', ['run', '--topology', at('crowded-buses.json'), '--results', 'R'], /TOPOLOGY_INVALID\]: .*host bridge cxl\.0 needs buses 12-14 .* but cxl\.1 starts at bus 13/],
  ['topology the suite cannot use', ['run', '--topology', 'default', '--results', 'R'], /TOPOLOGY_UNSUITED\]: suite spm cannot run on topology default/],
  ['unknown suite', ['run', '--suite', 'nosuch', '--results', 'R'], /SUITE_UNKNOWN\]: unknown suite "nosuch"/],
  ['negative timeout', ['run', '--check-timeout', '-5', '--results', 'R'], /USAGE\]: cxl-harness run: --check-timeout needs a value/],
  ['stray argument', ['run', 'extra', '--results', 'R'], /USAGE\]: cxl-harness run: unexpected argument "extra"/],
  ['repro: unknown scenario', ['repro', 'nosuch', '--results', 'R'], /SCENARIO_UNKNOWN\]: unknown scenario "nosuch"/],
  ['repro: unknown topology', ['repro', 'online-offline', '--topology', 'nosuch', '--results', 'R'], /TOPOLOGY_UNKNOWN\]/],
  ['repro: no such kernel', ['repro', 'online-offline', '--kernel', at('nonexistent-bzImage'), '--results', 'R'], /KERNEL_MISSING\]/],
  ['ssh: no such kernel', ['ssh', '--kernel', at('nonexistent-bzImage'), '--results', 'R'], /KERNEL_MISSING\]/],
  ['matrix: unknown topology', ['matrix', '--kernels', 'distro', '--topologies', 'nosuch', '--suites', 'spm'], /TOPOLOGY_UNKNOWN\]/],
  ['merge: no such dir', ['merge', at('nonexistent-results'), '--out', 'R'], /RESULTS_MISSING\]: .*nonexistent-results is not a directory/],
  ['kernel fetch: no such suite', ['kernel', 'fetch', '--kernel-suite', 'nosuchsuite'], /KERNEL_SUITE_UNKNOWN\]/],
];

for (const [what, argv, message] of cases) {
  t.test(what, async (t) => {
    const results = at(`r-${what.replace(/\W+/g, '-')}`);
    const r = await runCli(argv.map((a) => (a === 'R' ? results : a)), { timeoutMs: 60_000 });
    t.equal(r.exitCode, 2, 'exit 2');
    const lines = r.stderr.trim().split('\n').filter((l) => !/^\[cxl-harness [\d:]+\] scenario /.test(l));
    t.match(lines[0], new RegExp(`^cxl-harness: error \\[${message.source}`), 'the first line names the input and the problem');
    t.ok(lines.length <= 2, `one message and its hint, no more: ${JSON.stringify(lines)}`);
    t.match(lines[1] ?? '', /^ {2}-> /, 'the hint says what to do');
    t.equal(r.stdout, '', 'no report on stdout');
    t.notOk(existsSync(results), 'no results dir');
    t.same(qemuProcesses(dir), [], 'no QEMU left');
  });
}

t.test('the scratch dir holds only what the test put there', async (t) => {
  t.same(readdirSync(dir).sort(), ['bzImage', 'crowded-buses.json', 'full', 'small-window.json', 'text.txt']);
  t.same(readdirSync(at('full')), ['notes.txt'], 'a refused --results dir is left as it was');
});
