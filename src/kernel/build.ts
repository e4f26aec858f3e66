/**
 * Kernel builds from source: a tree, an optional patch series and config fragments become a
 * KernelArtifact. prepareKernelTree() stops before the compile (apply, configure, verify);
 * buildKernel() also compiles, installs modules and stores the result content-addressed:
 *   <cache>/kernel/<key>/  bzImage System.map config modules/lib/modules/<release>/ build.log artifact.json
 * keyed by source identity, each patch's sha256, the fragments, the base config and the toolchain.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { cached, hashParts, sha256 } from '../cache.js';
import { HarnessError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { run } from '../exec.js';
import { progress } from '../progress.js';
import type { KernelIdentity } from '../report/model.js';
import type { KernelArtifact } from './artifact.js';
import {
  applySettings,
  cxlTestBuildable,
  describeMismatch,
  mergeFragments,
  parseDotConfig,
  verifySettings,
  type ConfigFragment,
  type ConfigSetting,
} from './fragments.js';
import { patchsetHash } from './identity.js';
import { explainSetting } from './kconfig-explain.js';
import { loadKconfig } from './kconfig.js';
import { loadPatchSeries, type Patch } from './patches.js';
import { debianSourcePackage, fetchDebianKernelSource, resolveSourceDir, sourceIdentity, type KernelSource } from './source.js';
import { assertHostTools, toolchainIdentity } from './toolchain.js';
import { buildProgress } from './build-progress.js';
import { applySeries, withWorkTree, type WorkTree } from './worktree.js';

/** A directory (git checkout or plain tree, optionally at a git ref), or a Debian linux-source package. */
export type KernelSourceSpec = { dir: string; gitRef?: string } | { debianPackage: string; suite?: string };

export type KernelPhase = 'source' | 'patch' | 'configure' | 'build' | 'install' | 'cached' | 'done';

export interface KernelProgress {
  phase: KernelPhase;
  message: string;
  elapsedMs: number;
  /** CC/LD lines seen so far in this build (build phase). */
  compiled?: number;
  logFile?: string;
}

export interface PrepareOptions {
  source: KernelSourceSpec;
  /** An mbox, a .patch file, a directory of *.patch (or with a quilt `series`), or a git range A..B. */
  patches?: string;
  /** Repository that holds a git range; default: the kernel source when it is a git checkout. */
  patchesRepo?: string;
  /** Fragments shipped in kernel-config/, applied first (default ["cxl.config"]). */
  builtinFragments?: string[];
  /** Add kernel-config/debug.config (KASAN, lockdep, DEBUG_VM...) after the built-ins. */
  debug?: boolean;
  /** The user's fragments, applied last (a later line wins over an earlier one). */
  fragments?: string[];
  /** A base .config; default `make defconfig`. */
  baseConfig?: string;
  onProgress?: (p: KernelProgress) => void;
}

export interface BuildOptions extends PrepareOptions {
  /** make -j; default the number of cores. */
  jobs?: number;
  /** How often the build phase reports (default 10 s). */
  progressIntervalMs?: number;
}

export interface PreparedKernelTree {
  source: KernelSource;
  /** The harness-owned patched tree and its O= build dir (valid until the next run on this source). */
  tree: string;
  buildDir: string;
  /** The final .config (path), verified against the fragments. */
  config: string;
  patches: Patch[];
  settings: ConfigSetting[];
  identity: KernelIdentity;
  logs: string;
}

interface Inputs {
  source: KernelSource;
  patches: Patch[];
  fragments: ConfigFragment[];
  settings: ConfigSetting[];
  base: { key: string; text: string | undefined };
}

type Report = (phase: KernelPhase, message: string, extra?: Partial<KernelProgress>) => void;

function reporter(opts: PrepareOptions): Report {
  const started = Date.now();
  return (phase, message, extra = {}) => opts.onProgress?.({ phase, message, elapsedMs: Date.now() - started, ...extra });
}

async function resolveSource(spec: KernelSourceSpec): Promise<KernelSource> {
  if ('debianPackage' in spec) return fetchDebianKernelSource({ package: spec.debianPackage, suite: spec.suite });
  return resolveSourceDir(spec.dir, spec.gitRef);
}

async function readFragment(path: string, name: string): Promise<ConfigFragment> {
  if (!existsSync(path)) {
    throw new HarnessError('CONFIG_FRAGMENT_MISSING', `config fragment ${name} does not exist`, {
      hint: `the shipped fragments are in ${join(packageRoot, 'kernel-config')}`,
      context: { path },
    });
  }
  return { source: name, text: await readFile(path, 'utf8') };
}

/** Everything of a build's inputs but the source tree itself: patches, fragments, base config. */
async function readInputs(opts: PrepareOptions, gitDir: string | undefined): Promise<Omit<Inputs, 'source'>> {
  const patches = opts.patches ? await loadPatchSeries(opts.patches, opts.patchesRepo ?? gitDir) : [];
  const builtin = [...(opts.builtinFragments ?? ['cxl.config']), ...(opts.debug ? ['debug.config'] : [])];
  const fragments: ConfigFragment[] = [];
  for (const name of builtin) fragments.push(await readFragment(join(packageRoot, 'kernel-config', name), `kernel-config/${name}`));
  for (const f of opts.fragments ?? []) fragments.push(await readFragment(resolve(f), f));
  const { settings } = mergeFragments(fragments);
  let base: Inputs['base'] = { key: 'defconfig', text: undefined };
  if (opts.baseConfig) {
    if (!existsSync(opts.baseConfig)) {
      throw new HarnessError('CONFIG_BASE_MISSING', `base config ${opts.baseConfig} does not exist`, { context: { path: opts.baseConfig } });
    }
    const text = await readFile(opts.baseConfig, 'utf8');
    base = { key: `config:${sha256(text)}`, text };
  }
  return { patches, fragments, settings, base };
}

async function resolveInputs(opts: PrepareOptions, report: Report): Promise<Inputs> {
  report('source', 'resolving the kernel source');
  const source = await resolveSource(opts.source);
  if (source.kind === 'git' && source.dirty) {
    report('source', `${source.dir} has uncommitted changes; building commit ${source.commit.slice(0, 12)} without them`);
  }
  return { source, ...(await readInputs(opts, source.kind === 'git' ? source.dir : undefined)) };
}

/**
 * Check a build's inputs without downloading or building anything (a Debian source package
 * is looked up in the package lists only): the mistakes a build would otherwise meet late.
 */
export async function checkBuildInputs(opts: PrepareOptions): Promise<void> {
  if ('debianPackage' in opts.source) {
    await debianSourcePackage({ package: opts.source.debianPackage, ...(opts.source.suite ? { suite: opts.source.suite } : {}) });
    await readInputs(opts, undefined);
    return;
  }
  const source = await resolveSourceDir(opts.source.dir, opts.source.gitRef);
  await readInputs(opts, source.kind === 'git' ? source.dir : undefined);
}

function make(wt: WorkTree, args: string[], log: string, timeoutMs = 30 * 60 * 1000) {
  return run('make', ['-C', wt.tree, `O=${wt.build}`, ...args], {
    logFile: log,
    timeoutMs,
    env: { LC_ALL: 'C' },
    errorCode: 'KERNEL_MAKE_FAILED',
    hint: `see the full log in ${log}`,
    processGroup: true,
  });
}

async function configure(wt: WorkTree, inputs: Inputs, report: Report): Promise<string> {
  assertHostTools('configure');
  const log = join(wt.logs, 'config.log');
  await writeFile(log, '');
  await mkdir(wt.build, { recursive: true });
  const dotConfig = join(wt.build, '.config');
  report('configure', inputs.base.text ? 'base config given' : 'make defconfig');
  if (inputs.base.text !== undefined) await writeFile(dotConfig, inputs.base.text);
  else await make(wt, ['defconfig'], log);
  await writeFile(dotConfig, applySettings(await readFile(dotConfig, 'utf8'), inputs.settings));
  report('configure', `merged ${inputs.settings.length} settings from ${inputs.fragments.map((f) => f.source).join(', ')}; make olddefconfig`);
  await make(wt, ['olddefconfig'], log);
  const final = await readFile(dotConfig, 'utf8');
  const mismatches = verifySettings(inputs.settings, final);
  if (mismatches.length) {
    const index = await loadKconfig(wt.tree);
    const values = parseDotConfig(final);
    const explained = mismatches.map((m) => ({ ...m, reason: explainSetting(index, m.setting.symbol, m.setting.value, values) }));
    throw new HarnessError(
      'CONFIG_NOT_LANDED',
      `${mismatches.length} config setting(s) did not land in .config:\n${explained.map((m) => `  ${describeMismatch(m)}: ${m.reason}`).join('\n')}`,
      {
        hint: 'add the unmet dependencies to your fragment (or drop the option); a later fragment line overrides an earlier one',
        context: { config: dotConfig, mismatches: explained.map((m) => ({ ...m.setting, actual: m.actual ?? null, reason: m.reason })) },
      },
    );
  }
  report('configure', `all ${inputs.settings.length} fragment settings landed`);
  return dotConfig;
}

function identityOf(inputs: Inputs, release?: string): KernelIdentity {
  const s = inputs.source;
  return {
    origin: 'source',
    release,
    package: s.kind === 'debian' ? `${s.package}=${s.debVersion}` : undefined,
    sourceVersion: s.version,
    gitCommit: s.kind === 'git' ? s.commit : undefined,
    patches: inputs.patches.map((p) => ({ subject: p.subject, sha256: p.sha256, file: p.origin })),
    patchsetHash: patchsetHash(inputs.patches.map((p) => p.sha256)),
  };
}

async function prepareIn(wt: WorkTree, inputs: Inputs, report: Report, stopAfter?: 'patch'): Promise<string | undefined> {
  if (inputs.patches.length) {
    report('patch', `applying ${inputs.patches.length} patch(es) in ${wt.tree}`);
    await applySeries(wt, inputs.patches);
  }
  if (stopAfter === 'patch') return undefined;
  return configure(wt, inputs, report);
}

/**
 * Apply the series and configure (defconfig or base + fragments + olddefconfig), then check every
 * fragment line landed. No compile. `stopAfter: 'patch'` skips the configure step.
 */
export async function prepareKernelTree(opts: PrepareOptions & { stopAfter?: 'patch' }): Promise<PreparedKernelTree> {
  const report = reporter(opts);
  const inputs = await resolveInputs(opts, report);
  return withWorkTree(inputs.source, inputs.base.key, async (wt) => {
    const config = await prepareIn(wt, inputs, report, opts.stopAfter);
    return {
      source: inputs.source,
      tree: wt.tree,
      buildDir: wt.build,
      config: config ?? '',
      patches: inputs.patches,
      settings: inputs.settings,
      identity: identityOf(inputs),
      logs: wt.logs,
    };
  });
}

/** Count compile/link lines in new log text ("  CC      mm/foo.o", "  LD [M]  fs/x.ko"). */
export function countCompiled(text: string): number {
  return (text.match(/^\s+(CC|LD)( \[M\])?\s+\S/gm) ?? []).length;
}

/** Follow a growing log file and report progress every `intervalMs`. */
function watchLog(file: string, intervalMs: number, onCount: (count: number) => void): () => Promise<number> {
  let offset = 0;
  let count = 0;
  let partial = '';
  const poll = async (): Promise<void> => {
    if (!existsSync(file)) return;
    const fh = await open(file, 'r');
    try {
      for (;;) {
        const buf = Buffer.alloc(1 << 20);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const text = partial + buf.subarray(0, bytesRead).toString('utf8');
        const cut = text.lastIndexOf('\n') + 1;
        partial = text.slice(cut);
        count += countCompiled(text.slice(0, cut));
      }
    } finally {
      await fh.close();
    }
  };
  let busy = Promise.resolve();
  const timer = setInterval(() => {
    busy = busy.then(poll).then(() => onCount(count), () => undefined);
  }, intervalMs);
  return async () => {
    clearInterval(timer);
    await busy;
    await poll().catch(() => undefined);
    return count;
  };
}

interface StoredArtifact {
  image: string;
  release: string | undefined;
  modulesDir: string | undefined;
  config: string;
  identity: KernelIdentity;
}

function toArtifact(dir: string, stored: StoredArtifact): KernelArtifact {
  return {
    image: join(dir, stored.image),
    release: stored.release,
    modulesDir: stored.modulesDir ? join(dir, stored.modulesDir) : undefined,
    config: join(dir, stored.config),
    identity: { ...stored.identity, imagePath: join(dir, stored.image) },
  };
}

/** The cache key of a build: everything that decides the bytes of the result. */
async function kernelBuildKey(inputs: Inputs): Promise<string> {
  return hashParts({
    schema: 'kernel-build-1',
    arch: 'x86_64',
    source: sourceIdentity(inputs.source),
    patches: inputs.patches.map((p) => p.sha256).join('\n'),
    fragments: inputs.fragments.map((f) => `${f.source}\n${f.text}`).join('\0'),
    base: inputs.base.key,
    toolchain: await toolchainIdentity(),
  });
}

/**
 * Build (or take from the cache) the kernel for a source, series and fragments. A second call
 * with the same inputs is a cache hit; a changed patch recompiles only what make needs, because
 * the work tree and O= dir persist per source and base config.
 */
export async function buildKernel(opts: BuildOptions): Promise<KernelArtifact> {
  const report = reporter(opts);
  const inputs = await resolveInputs(opts, report);
  const key = await kernelBuildKey(inputs);
  const entry = await cached(
    'kernel',
    key,
    async (out) => {
      await withWorkTree(inputs.source, inputs.base.key, async (wt) => {
        const config = (await prepareIn(wt, inputs, report))!;
        const values = parseDotConfig(await readFile(config, 'utf8'));
        assertHostTools('build', values);
        const log = join(wt.logs, 'build.log');
        await writeFile(log, '');
        const jobs = opts.jobs ?? availableParallelism();
        const targets = values.get('MODULES') === 'y' ? ['bzImage', 'modules'] : ['bzImage'];
        report('build', `make -j${jobs} ${targets.join(' ')} (log: ${log})`, { logFile: log, compiled: 0 });
        // One reader of the log: the live line every second (files compiled against what the last
        // full build of this tree compiled), the progress report every progressIntervalMs.
        const lastPath = join(wt.logs, 'last-build.json');
        const last = existsSync(lastPath) ? (JSON.parse(await readFile(lastPath, 'utf8')) as { compiled: number; ms: number }) : undefined;
        const t0 = Date.now();
        const reportEveryMs = opts.progressIntervalMs ?? 10_000;
        let reportedAt = t0;
        progress.begin('kernel build');
        const stop = watchLog(log, Math.min(1000, reportEveryMs), (n) => {
          progress.update(buildProgress(n, last));
          if (Date.now() - reportedAt < reportEveryMs) return;
          reportedAt = Date.now();
          report('build', `${n} files compiled`, { compiled: n, logFile: log });
        });
        let compiled: number;
        try {
          await make(wt, [`-j${jobs}`, ...targets], log, 6 * 3600 * 1000);
        } finally {
          compiled = await stop();
          progress.end();
        }
        if (!last || compiled >= last.compiled / 2) await writeFile(lastPath, JSON.stringify({ compiled, ms: Date.now() - t0 }));
        report('install', `${compiled} files compiled; installing`, { compiled, logFile: log });
        const release = (await readFile(join(wt.build, 'include', 'config', 'kernel.release'), 'utf8')).trim();
        await copyFile(join(wt.build, 'arch', 'x86', 'boot', 'bzImage'), join(out, 'bzImage'));
        await copyFile(join(wt.build, 'System.map'), join(out, 'System.map'));
        await copyFile(config, join(out, 'config'));
        let modulesDir: string | undefined;
        if (values.get('MODULES') === 'y') {
          const modRoot = join(out, 'modules');
          // cxl_test's mock modules (kernel-config/cxl-test.config), before the final depmod of
          // modules_install; they go to updates/, which depmod prefers to the real drivers.
          if (cxlTestBuildable(values)) {
            const mock = join(wt.tree, 'tools', 'testing', 'cxl');
            report('install', 'building cxl_test (tools/testing/cxl)', { compiled, logFile: log });
            await make(wt, [`-j${jobs}`, `M=${mock}`, 'modules'], log);
            await make(wt, [`M=${mock}`, `INSTALL_MOD_PATH=${modRoot}`, 'INSTALL_MOD_STRIP=1', 'modules_install'], log);
          }
          await make(wt, [`INSTALL_MOD_PATH=${modRoot}`, 'INSTALL_MOD_STRIP=1', 'modules_install'], log);
          const dir = join(modRoot, 'lib', 'modules', release);
          // These point back into the work tree, which changes: not part of a content-addressed entry.
          await rm(join(dir, 'build'), { force: true });
          await rm(join(dir, 'source'), { force: true });
          if (existsSync(dir)) modulesDir = relative(out, dir);
        }
        await copyFile(log, join(out, 'build.log'));
        const stored: StoredArtifact = { image: 'bzImage', release, modulesDir, config: 'config', identity: identityOf(inputs, release) };
        await writeFile(join(out, 'artifact.json'), JSON.stringify(stored, null, 2));
      });
    },
    { source: sourceIdentity(inputs.source), patches: inputs.patches.map((p) => p.subject) },
  );
  const artifact = await builtKernel(entry.dir);
  report(entry.hit ? 'cached' : 'done', `${entry.hit ? 'cache hit' : 'built'}: ${artifact.release} in ${entry.dir}`);
  return artifact;
}

/** The kernel a `kernel/` entry of the cache holds (a build's bzImage, modules, config and identity). */
export async function builtKernel(dir: string): Promise<KernelArtifact> {
  return toArtifact(dir, JSON.parse(await readFile(join(dir, 'artifact.json'), 'utf8')) as StoredArtifact);
}
