/**
 * What the tools that start the CLI take, as zod schemas, and the one conversion of a tool's
 * input to the CLI's argv. Every field is its option's name in camelCase (kernelSuite is
 * --kernel-suite) and means what the option means: the schemas check the shape (types, the
 * suite names of the suite table, no unknown field); the rest (kernel options that exclude each
 * other, a topology that does not exist, a number of seconds <= 0) is the CLI's own preflight,
 * so the MCP server and the command line refuse the same inputs in the same words.
 */
import { z } from 'zod';
import { builtinScenarios } from '../repro/scenario.js';
import { builtinTopologies } from '../qemu/topology.js';
import { suiteNames } from '../suites/index.js';

const path = (what: string) => z.string().optional().describe(`${what} (a relative path is taken from the server's working directory)`);

export const KERNEL_INPUT = {
  kernel: path('--kernel PATH: a prebuilt bzImage'),
  modules: path('--modules DIR: the modules of that bzImage (make modules_install INSTALL_MOD_PATH=DIR)'),
  kernelSuite: z.string().optional().describe('--kernel-suite SUITE: the Debian suite of the distro kernel (default sid)'),
  kernelPackage: z.string().optional().describe('--kernel-package NAME: the Debian kernel package (default linux-image-amd64)'),
  kernelSrc: path('--kernel-src DIR: build this kernel tree (a git checkout or an unpacked tarball; never modified)'),
  kernelDebianSource: z.string().optional().describe('--kernel-debian-source PKG: build Debian\'s source package PKG (e.g. linux-source-7.2)'),
  patches: z.string().optional().describe('--patches SERIES: with a source, an mbox, a *.patch file, a directory of patches (a relative path is taken from the server\'s working directory) or a git range A..B'),
  configFragment: z.array(z.string()).optional().describe('--config-fragment FILE, once per file: Kconfig fragments after kernel-config/cxl.config'),
  baseConfig: path('--base-config FILE: start from this .config instead of defconfig'),
  debugConfig: z.boolean().optional().describe('--debug-config: add kernel-config/debug.config (KASAN, lockdep, DEBUG_VM...)'),
};

export const MACHINE_INPUT = {
  topology: z.string().optional().describe(`--topology NAME|FILE: a preset (${builtinTopologies().join(', ')}) or a topology JSON file`),
  kvm: z.boolean().optional().describe('--kvm: KVM instead of TCG (CXL memory access is known to fault under KVM)'),
  cmdline: z.string().optional().describe('--cmdline ARGS: extra kernel command-line arguments'),
  bootTimeout: z.number().optional().describe('--boot-timeout S: seconds to wait for the guest\'s SSH (default 180)'),
};

export const RUN_INPUT = z.strictObject({
  suite: z.enum(suiteNames()).optional().describe('--suite NAME (default spm)'),
  checkTimeout: z.number().optional().describe('--check-timeout S: seconds one check may take before the run is a hang (default 300)'),
  ...MACHINE_INPUT,
  ...KERNEL_INPUT,
});

export const REPRO_INPUT = z.strictObject({
  scenario: z.string().describe(`SCENARIO: a built-in scenario (${builtinScenarios().join(', ')}) or a scenario JSON file`),
  iterations: z.number().int().optional().describe('--iterations N (default 10)'),
  untilFail: z.boolean().optional().describe('--until-fail: run until the first failing iteration (at most maxIterations)'),
  maxIterations: z.number().int().optional().describe('--max-iterations N: the bound of untilFail (default 1000)'),
  seed: z.number().int().optional().describe('--seed S: the seed of the scenario\'s random choices (default: random, in repro.json)'),
  rebootEvery: z.number().int().optional().describe('--reboot-every K: boot a fresh guest every K iterations (default: the scenario\'s)'),
  stopOnFail: z.boolean().optional().describe('--stop-on-fail: stop at the first failing iteration'),
  iterationTimeout: z.number().optional().describe('--iteration-timeout S: an iteration making no progress this long is a hang'),
  ...MACHINE_INPUT,
  ...KERNEL_INPUT,
});

export const EXEC_INPUT = z.strictObject({
  command: z.string().describe('--exec CMD: the command line to run in the guest (sh -c)'),
  ...MACHINE_INPUT,
  ...KERNEL_INPUT,
});

export type RunInput = z.infer<typeof RUN_INPUT>;
export type ReproInput = z.infer<typeof REPRO_INPUT>;
export type ExecInput = z.infer<typeof EXEC_INPUT>;

/** An input field's option: kernelSuite -> --kernel-suite. */
export function optionName(field: string): string {
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * The options a tool's input sets, each written --name=VALUE so that a value starting with "-"
 * (a cmdline, a command) is never read as an option; false and absent fields set nothing.
 */
export function optionsArgv(input: Readonly<Record<string, string | number | boolean | string[] | undefined>>): string[] {
  return Object.entries(input).flatMap(([field, value]) => {
    if (value === undefined || value === false) return [];
    const name = optionName(field);
    if (value === true) return [name];
    return (Array.isArray(value) ? value : [value]).map((v) => `${name}=${v}`);
  });
}

/** `cxl-harness run` for start_run's input, into the results dir the server chose. */
export function runArgv(input: RunInput, results: string): string[] {
  return ['run', ...optionsArgv(input), `--results=${results}`, '--format=none'];
}

/** `cxl-harness repro SCENARIO` for start_repro's input. */
export function reproArgv(input: ReproInput, results: string): string[] {
  const { scenario, ...options } = input;
  return ['repro', ...optionsArgv(options), `--results=${results}`, '--format=none', scenario];
}

/** `cxl-harness ssh --exec CMD` for exec's input. */
export function execArgv(input: ExecInput, results: string): string[] {
  const { command, ...options } = input;
  return ['ssh', `--exec=${command}`, ...optionsArgv(options), `--results=${results}`];
}
