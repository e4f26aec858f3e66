/** Helpers for tests that run the real CLI (dist/cli/main.js) and inspect what it left. */
import { execa } from 'execa';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Run the built CLI; never throws for a non-zero exit. */
export async function runCli(args: string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<CliResult> {
  const r = await execa('node', [CLI, ...args], { reject: false, stripFinalNewline: false, timeout: options.timeoutMs ?? 20 * 60 * 1000, env: options.env ?? {}, cwd: ROOT });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** QEMU processes whose command line mentions `needle` (e.g. a results dir). */
export function qemuProcesses(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes('qemu-system') && cmd.includes(needle)) found.push(`${pid} ${cmd.slice(0, 160)}`);
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The stdout of one command log a run kept (results/commands/NNNN-label.txt, as evidence names it). */
export function commandStdout(dir: string, rel: string): string {
  const text = readFileSync(join(dir, rel), 'utf8');
  return text.slice(text.indexOf('--- stdout\n') + '--- stdout\n'.length, text.lastIndexOf('--- stderr\n'));
}
