#!/usr/bin/env node
// Wall times of whole runs, cold (empty cache: kernel download, root tree, image) and warm
// (everything cached), read from each run's summary.json. Not a test: run it on demand.
//   node bench/run-times.mjs [--suite hotplug|spm] [--warm-runs N] [--keep-cache]
// Prints one line per run and a JSON summary on the last line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { suite: { type: 'string', default: 'hotplug' }, 'warm-runs': { type: 'string', default: '2' }, 'keep-cache': { type: 'boolean' } } });
const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const cache = mkdtempSync(join(tmpdir(), 'cxlh-bench-cache-'));
const runs = [];

function runOnce(label) {
  const dir = mkdtempSync(join(tmpdir(), `cxlh-bench-${label}-`));
  const started = Date.now();
  let exit = 0;
  try {
    execFileSync('node', [cli, 'run', '--suite', values.suite, '--results', dir, '--format', 'none'], { env: { ...process.env, CXL_HARNESS_CACHE: cache }, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (e) {
    exit = e.status ?? -1;
  }
  const wallMs = Date.now() - started;
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const r = { label, exit, outcome: s.outcome, wallS: +(wallMs / 1000).toFixed(1), kernelS: sec(s.timings.kernel), imageS: sec(s.timings.image), bootToSshS: sec(s.timings.bootToSshMs), suiteS: sec(s.timings[`suite:${values.suite}`]), checks: s.checks.length };
  runs.push(r);
  console.log(`${label.padEnd(6)} exit ${exit} ${r.outcome.padEnd(5)} wall ${r.wallS}s  kernel ${r.kernelS}s  image ${r.imageS}s  boot-to-ssh ${r.bootToSshS}s  suite ${r.suiteS}s (${r.checks} checks)`);
  rmSync(dir, { recursive: true, force: true });
}

function sec(ms) {
  return ms === undefined ? null : +(ms / 1000).toFixed(1);
}

try {
  runOnce('cold');
  for (let i = 1; i <= Number(values['warm-runs']); i++) runOnce(`warm${i}`);
} finally {
  if (!values['keep-cache']) rmSync(cache, { recursive: true, force: true });
}
console.log(JSON.stringify({ suite: values.suite, host: `${execFileSync('nproc').toString().trim()} cores`, runs }));
