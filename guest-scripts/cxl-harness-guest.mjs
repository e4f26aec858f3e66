#!/usr/bin/env node
// The guest's `cxl-harness` command (installed as /usr/local/bin/cxl-harness by the image
// builder). It runs one probe and prints exactly one JSON object:
//   cxl-harness probe <name> [--key value | --key=value ...] [--json]
//   cxl-harness probe --list [--json]
// Exit 0 whenever a probe ran, even when the kernel said no (the result says ok:false) or the
// probe child died (failure:true); exit 2 for misuse, with the reason on stderr.
// The probe library is /opt/cxl-harness/dist/probe, i.e. ../dist/probe from this file.

const usage = 'usage: cxl-harness probe <name> [--key value ...] [--json] | cxl-harness probe --list [--json]';

function misuse(message) {
  process.stderr.write(`cxl-harness: ${message}\n${usage}\n`);
  process.exit(2);
}

async function loadProbes() {
  const url = new URL('../dist/probe/index.js', import.meta.url);
  try {
    return await import(url.href);
  } catch (error) {
    process.stderr.write(`cxl-harness: cannot load the probe library ${url.pathname}: ${error.message}\n`);
    process.exit(2);
  }
}

async function main(argv) {
  if (argv[0] !== 'probe') misuse(argv[0] === undefined ? 'no command' : `unknown command ${argv[0]}`);
  const rest = argv.slice(1);
  const json = rest.includes('--json');
  const words = rest.filter((w) => w !== '--json');
  const probes = await loadProbes();
  if (words[0] === '--list') {
    const out = json ? JSON.stringify(probes.probeSpecs) : probes.describeProbes();
    process.stdout.write(`${out}\n`);
    return;
  }
  const name = words[0];
  if (name === undefined || name.startsWith('--')) misuse('no probe name (see cxl-harness probe --list)');
  if (!probes.isProbeName(name)) misuse(`unknown probe ${name} (see cxl-harness probe --list)`);
  let args;
  try {
    args = probes.parseProbeArgv(name, words.slice(1));
  } catch (error) {
    if (error instanceof probes.ProbeArgumentError) misuse(error.message);
    throw error;
  }
  const result = await probes.runProbe(name, args);
  process.stdout.write(`${json ? JSON.stringify(result) : JSON.stringify(result, null, 2)}\n`);
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`cxl-harness: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
