// Every command's --help, through the built CLI: its usage line, its exit codes and examples
// that are commands of its own (or comments), after the options.
import t from 'tap';
import { runCli } from '../lib/cli.js';

const top = await runCli(['--help']);
const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);

t.ok(commands.length >= 14, `the top-level help lists the commands (${commands.join(', ')})`);
for (const name of commands) {
  t.test(`${name} --help`, async (t) => {
    const r = await runCli([name, '--help']);
    t.equal(r.exitCode, 0);
    t.match(r.stdout, new RegExp(`^cxl-harness ${name}\\b`), 'it starts with its usage');
    t.match(r.stdout, /\nExit codes: /, 'it says its exit codes');
    const examples = r.stdout.split('\nExamples:\n')[1];
    t.ok(examples, 'it ends with examples');
    const lines = (examples ?? '').trimEnd().split('\n');
    t.ok(lines.some((l) => new RegExp(`^  cxl-harness ${name}\\b`).test(l)), 'one of them runs this command');
    for (const l of lines) t.match(l, new RegExp(`^  (cxl-harness ${name}\\b|#)`), `example line: ${l.trim()}`);
  });
}
