/**
 * The guest's `cxl-harness` command (/usr/local/bin/cxl-harness in the image), for people at
 * a guest shell and for reproducers: runs one probe, as the agent would, and prints exactly
 * one JSON object.
 *   cxl-harness probe <name> [--key value | --key=value ...] [--json]
 *   cxl-harness probe --list [--json]
 * Exit 0 whenever a probe ran, even when the kernel said no (the result says ok:false) or the
 * probe child died (failure:true); exit 2 for misuse, with the reason on stderr.
 */
import { ProbeArgumentError, describeProbes, isProbeName, parseProbeArgv, probeSpecs, runProbe } from '../probe/index.js';

const usage = 'usage: cxl-harness probe <name> [--key value ...] [--json] | cxl-harness probe --list [--json]';

function misuse(message: string): never {
  process.stderr.write(`cxl-harness: ${message}\n${usage}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] !== 'probe') misuse(argv[0] === undefined ? 'no command' : `unknown command ${argv[0]}`);
  const rest = argv.slice(1);
  const json = rest.includes('--json');
  const words = rest.filter((w) => w !== '--json');
  if (words[0] === '--list') {
    process.stdout.write(`${json ? JSON.stringify(probeSpecs) : describeProbes()}\n`);
    return;
  }
  const name = words[0];
  if (name === undefined || name.startsWith('--')) misuse('no probe name (see cxl-harness probe --list)');
  if (!isProbeName(name)) misuse(`unknown probe ${name} (see cxl-harness probe --list)`);
  let args;
  try {
    args = parseProbeArgv(name, words.slice(1));
  } catch (error) {
    if (error instanceof ProbeArgumentError) misuse(error.message);
    throw error;
  }
  const result = await runProbe(name, args as never);
  process.stdout.write(`${json ? JSON.stringify(result) : JSON.stringify(result, null, 2)}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`cxl-harness: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
