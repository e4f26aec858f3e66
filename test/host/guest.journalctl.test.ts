/**
 * guest-scripts/journalctl, the guest's stand-in for ndctl's check_dmesg
 * (`journalctl -r -k --since "-Ns"`), against a dmesg that prints a recorded kernel log: the
 * lines of the last N seconds, newest first; an option it does not know is refused, loudly.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = new URL('../../guest-scripts/journalctl', import.meta.url).pathname;
const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

function withDmesg(lines: string[]): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'cxlh-journalctl-'));
  writeFileSync(join(dir, 'log'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'dmesg'), `#!/bin/sh\ncat ${join(dir, 'log')}\n`);
  chmodSync(join(dir, 'dmesg'), 0o755);
  return { PATH: `${dir}:${process.env.PATH}` };
}

t.test('10 the kernel log of the last N seconds, newest first with -r', async (t) => {
  const at = (ago: number): string => `[${(uptime - ago).toFixed(6).padStart(12)}]`;
  const env = withDmesg([`${at(500)} cxl_mock_mem cxl_mem.0: old`, `${at(20)} WARNING: CPU: 1 PID: 5 at drivers/cxl/core/region.c:1`, `${at(10)} Call Trace:`]);
  const out = execFileSync(SCRIPT, ['-r', '-k', '--since', '-30s'], { env, encoding: 'utf8' });
  t.same(out.trim().split('\n').map((l) => l.replace(/^\[[^\]]*\] /, '')), ['Call Trace:', 'WARNING: CPU: 1 PID: 5 at drivers/cxl/core/region.c:1']);
  t.equal(execFileSync(SCRIPT, ['--dmesg', '-q'], { env, encoding: 'utf8' }).trim().split('\n').length, 3, 'no --since: the whole log, oldest first');
});

t.test('20 an option it does not answer is an error naming it, not silence', async (t) => {
  for (const args of [['--unit', 'sshd'], ['--since', 'yesterday']]) {
    const r = spawnSync(SCRIPT, args, { env: withDmesg([]), encoding: 'utf8' });
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr, /journalctl \(cxl-harness stand-in\): .* not supported/);
  }
});
