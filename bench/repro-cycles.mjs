#!/usr/bin/env node
// Online/offline cycles per minute of the repro loop under TCG (run on demand; never a test).
//   node bench/repro-cycles.mjs [ITERATIONS=30] [SCENARIO=online-offline]
// Prints three figures:
//   steady state : 60 s / median iteration time in the guest (one offline + online cycle)
//   loop process : iterations / wall time of the guest loop process (node start, region setup
//                  and teardown included), i.e. what a long `repro` gets once the guest is up
//   whole run    : iterations / whole command wall time (kernel, image, boot, shutdown included)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const n = Number(process.argv[2] ?? 30);
const scenario = process.argv[3] ?? 'online-offline';
const dir = join(mkdtempSync(join(tmpdir(), 'cxlh-bench-')), 'r');
const t0 = Date.now();
try {
  execFileSync('node', [join(root, 'dist/cli/main.js'), 'repro', scenario, '--iterations', String(n), '--results', dir, '--format', 'none'], { stdio: ['ignore', 'ignore', 'inherit'] });
} catch (e) {
  console.error(`repro exited with ${e.status}; figures below are from what ran`);
}
const wall = Date.now() - t0;
const repro = JSON.parse(readFileSync(join(dir, 'repro.json'), 'utf8'));
const chunks = readdirSync(join(dir, 'commands')).filter((f) => f.includes(`repro-${scenario}-`));
const loopMs = chunks.map((f) => Number(/# exit \d+ after (\d+) ms/.exec(readFileSync(join(dir, 'commands', f), 'utf8'))?.[1] ?? 0)).reduce((a, b) => a + b, 0);
const it = repro.timings.iterationMs;
const perMin = (count, ms) => ((count * 60_000) / ms).toFixed(1);
console.log(`scenario ${scenario}: ${repro.iterationsRun} iterations, ${repro.failures} failures, ${repro.boots} boot(s)`);
console.log(`iteration (guest): min ${it.min} ms, median ${it.median} ms, max ${it.max} ms`);
console.log(`steady state : ${perMin(1, it.median)} cycles/min`);
console.log(`loop process : ${perMin(repro.iterationsRun, loopMs)} cycles/min (${repro.iterationsRun} in ${(loopMs / 1000).toFixed(1)} s)`);
console.log(`whole run    : ${perMin(repro.iterationsRun, wall)} cycles/min (${(wall / 1000).toFixed(1)} s, boot ${repro.timings.bootMs?.median ?? '?'} ms)`);
console.log(`results: ${dir}`);
