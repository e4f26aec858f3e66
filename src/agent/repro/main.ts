/**
 * The repro loop's process: reads a LoopSpec (protocol.ts) on stdin, runs it (loop.ts) and
 * writes one JSON line per event on stdout, each with a synchronous write, so a line is out of
 * this process before the next step starts (and before a step crashes the kernel). The agent
 * starts it for the repro.run verb (verb.ts); by hand in the guest:
 *   node /opt/cxl-harness/dist/agent/repro/main.js < spec.json
 */
import { readFileSync, writeSync } from 'node:fs';
import { runLoop } from './loop.js';
import type { LoopLine, LoopSpec } from '../../contract/repro-protocol.js';

const emit = (line: LoopLine): void => {
  writeSync(1, `${JSON.stringify(line)}\n`);
};

Promise.resolve()
  .then(() => runLoop(JSON.parse(readFileSync(0, 'utf8')) as LoopSpec, emit))
  .then(
    () => process.exit(0),
    (e: unknown) => {
      emit({ type: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      process.exit(1);
    },
  );
