/**
 * Quoting: any word, whatever its metacharacters, reaches the program as that one word and
 * never runs as shell code. Checked by running the quoted line through a real `sh -c` next
 * to a canary file that an injection would create.
 */
import t from 'tap';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, shellCommand, shellQuote } from '../../src/exec.js';
import { normalizeArgv, reproducerArgv } from '../../src/machine/reproducer.js';

const dir = mkdtempSync(join(tmpdir(), 'cxlh-quote-'));
const canary = join(dir, 'canary');

const NASTY = [
  `x; touch ${canary}`,
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `' ; touch ${canary} ; '`,
  `"; touch ${canary}; "`,
  `a\nb && touch ${canary}`,
  `| touch ${canary}`,
  `> ${canary}`,
  `*`,
  `~root`,
  `$HOME`,
  `it's`,
  `\\`,
  `--flag=$(id)`,
  ``,
  ` leading and trailing `,
  `ünïcødé ✓`,
];

t.test('10 shellQuote leaves plain words alone and quotes the rest', async (t) => {
  t.equal(shellQuote('cxl-harness'), 'cxl-harness');
  t.equal(shellQuote('--pages=256'), '--pages=256');
  t.equal(shellQuote('/sys/bus/cxl/devices/mem0'), '/sys/bus/cxl/devices/mem0');
  t.equal(shellQuote(''), "''");
  t.equal(shellQuote('a b'), "'a b'");
  t.equal(shellQuote("it's"), `'it'\\''s'`);
  t.equal(shellCommand(['echo', 'a b', "c'd"]), `echo 'a b' 'c'\\''d'`);
});

t.test('20 through sh -c every word comes back as itself and nothing runs', async (t) => {
  for (const word of NASTY) {
    const line = shellCommand(['printf', '%s\\0', word, 'second']);
    const r = await execa('sh', ['-c', line], { cwd: dir, stripFinalNewline: false });
    t.same(r.stdout.split('\0').slice(0, -1), [word, 'second'], `round trip: ${JSON.stringify(word)}`);
    t.notOk(existsSync(canary), `no canary after ${JSON.stringify(word)}`);
  }
  // The check can fail: an unquoted line does create the canary.
  await execa('sh', ['-c', `printf %s x; touch ${canary}`]);
  t.ok(existsSync(canary), 'an unquoted line would have run the injection');
});

t.test('30 run(): argv never goes through a shell; failures carry argv, code and output tail', async (t) => {
  const r = await run('printf', ['%s', `$(touch ${canary}-run)`]);
  t.equal(r.stdout, `$(touch ${canary}-run)`);
  t.notOk(existsSync(`${canary}-run`));
  await t.rejects(run('sh', ['-c', 'echo boom >&2; exit 3'], { errorCode: 'MKFS_FAILED', hint: 'install e2fsprogs' }), {
    code: 'MKFS_FAILED',
    message: /^sh -c 'echo boom >&2; exit 3' exited with code 3:\nboom$/,
    hint: 'install e2fsprogs',
  });
  await t.rejects(run('no-such-tool-cxlh', []), { code: 'TOOL_MISSING', message: 'no-such-tool-cxlh is not installed (or not on PATH)', hint: /doctor --fix/ });
  const soft = await run('sh', ['-c', 'exit 4'], { reject: false });
  t.equal(soft.exitCode, 4);
});

t.test('35 run(): stdin is closed unless input is given, so nothing waits on a prompt', async (t) => {
  // Under CI the harness's own stdin may be an open pipe that never ends; a program that
  // reads it (ssh-keygen without arguments prompts for a file) must see EOF, not hang.
  const read = await run('sh', ['-c', 'read -r line; echo "got:[$line] rc:$?"'], { timeoutMs: 20_000 });
  t.equal(read.timedOut, false);
  t.equal(read.stdout, 'got:[] rc:1\n', 'read hits end of file at once');
  t.equal((await run('cat', [], { timeoutMs: 20_000 })).stdout, '');
  t.equal((await run('cat', [], { input: 'given\n' })).stdout, 'given\n', 'input still reaches the program');
});

t.test('40 reproducer argv: paths made absolute, results location dropped, names and ranges kept', async (t) => {
  t.same(
    reproducerArgv(['--suite', 'spm', '--kernel', 'build/bzImage', '--modules=mods', '--results', 'out/r1', '--topology', 'spm-pair', '--cmdline', 'loglevel=8'], { cwd: '/home/me/linux' }),
    ['run', '--suite', 'spm', '--kernel', '/home/me/linux/build/bzImage', '--modules', '/home/me/linux/mods', '--topology', 'spm-pair', '--cmdline', 'loglevel=8'],
  );
  t.same(
    reproducerArgv(['--results-base=/tmp/x', '--topology', './my.json', '--kernel-src', '../linux', '--patches', 'v7.2..spm', '--config-fragment', 'a.config', '--config-fragment', '/abs/b.config'], { cwd: '/w' }),
    ['run', '--topology', '/w/my.json', '--kernel-src', '/linux', '--patches', 'v7.2..spm', '--config-fragment', '/w/a.config', '--config-fragment', '/abs/b.config'],
  );
  t.same(reproducerArgv(['--patches', 'series/', '--base-config', 'cfg'], { cwd: '/w' }), ['run', '--patches', '/w/series', '--base-config', '/w/cfg']);
  // repro and a bisect's steps: what they append again (--seed) or do not take (bisect's own options) is left out.
  t.same(
    normalizeArgv(['--seed=7', '--iterations', '1', '--good', 'v1', '--debug-config', '--src', '../linux', '--topology', 'spm-pair', '--seed', '9'], { cwd: '/w', drop: ['--seed', '--good', '--src'], dropFlags: ['--debug-config'] }),
    ['--iterations', '1', '--topology', 'spm-pair'],
  );
});

t.test('50 processGroup: a timeout ends the program and the children it started', async (t) => {
  const r = await run('sh', ['-c', 'sleep 30 & echo $!; sleep 30'], { timeoutMs: 500, reject: false, processGroup: true });
  t.ok(r.timedOut, 'the program timed out');
  const child = Number(r.stdout.trim());
  t.ok(child > 0, `its child's pid ${child} was printed`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Gone, or a zombie waiting for init to reap it: not running either way.
  const state = existsSync(`/proc/${child}/stat`) ? readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
  t.ok(state === 'gone' || state === 'Z', `the child is not running (state ${state}); without processGroup it would sleep on for 30 s`);
});
