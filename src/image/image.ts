/**
 * The guest's disks. The root image: the cached Debian root tree plus the kernel's modules,
 * the guest init, the guest's Node (node.ts) and the harness's SSH keys, written into an ext4 image with `mkfs.ext4 -d`
 * (no loop mounts). The payload image: what the harness itself runs in the guest (the probe
 * addon, dist/probe, dist/contract, dist/agent: the agent, its repro loop, the guest's cxl-harness command),
 * a few MiB that init mounts read-only at /opt/cxl-harness, so that a change to the harness's
 * own code rebuilds it in about a second and never the root image of every kernel. Each is cached by a hash of its inputs; QEMU
 * attaches both read-only to the cache (snapshot=on, readonly=on), so parallel runs share them.
 */
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cached, hashParts } from '../cache.js';
import { HarnessError } from '../errors.js';
import type { KernelArtifact } from '../kernel/artifact.js';
import { packageRoot } from '../paths.js';
import { run } from '../exec.js';
import { DEFAULT_RECIPE, type RootfsRecipe } from './recipe.js';
import { rootTree } from './rootfs.js';
import { buildInitramfs } from './initramfs.js';
import { GUEST_NODE, guestNode } from './nodejs.js';
import { sshKeys, type SshKeys } from './keys.js';

export interface GuestImage {
  /** ext4 root image. */
  image: string;
  /** ext4 payload image (label cxlh-payload), mounted at /opt/cxl-harness. */
  payload: string;
  /** First-stage initramfs for this kernel. */
  initramfs: string;
  keys: SshKeys;
  /** Cache key of the root image (hash of its recipe and inputs). */
  key: string;
  /** True when nothing had to be built. */
  hit: boolean;
}

/** The label init mounts the payload by (guest-scripts/init.sh). */
export const PAYLOAD_LABEL = 'cxlh-payload';

/** Files of the harness that go into the guest, relative to the package root. */
const ADDON = join('build', 'Release', 'cxl_probe.node');
const PROBE_JS = join('dist', 'probe');
const AGENT_JS = join('dist', 'agent');
/** What host and guest agree on (protocols, markers): the agent imports it. */
const CONTRACT_JS = join('dist', 'contract');
/** What runs before the agent: the guest init (the initramfs init is initramfs.ts's). */
const INIT = join('guest-scripts', 'init.sh');
/** The compiled trees the payload disk carries beside the addon, by the name its key gives each. */
const PAYLOAD_TREES = { probe: PROBE_JS, agent: AGENT_JS, contract: CONTRACT_JS };

export async function guestImage(
  kernel: KernelArtifact,
  options: { recipe?: RootfsRecipe; log?: (line: string) => void } = {},
): Promise<GuestImage> {
  const recipe = options.recipe ?? DEFAULT_RECIPE;
  for (const need of [ADDON, ...Object.values(PAYLOAD_TREES)]) {
    if (!existsSync(join(packageRoot, need))) {
      throw new HarnessError('ADDON_NOT_BUILT', `${need} is missing: the probe addon has not been built`, {
        hint: 'run `npm run build` in the cxl-harness directory',
        context: { path: join(packageRoot, need) },
      });
    }
  }
  const tree = await rootTree(recipe, options.log);
  const keys = await sshKeys();
  const initramfs = await buildInitramfs(kernel, join(tree.tree, 'usr', 'bin', 'busybox'));
  const payload = await payloadImage(options.log);
  const key = hashParts({
    version: '2',
    tree: tree.key,
    release: kernel.release ?? '',
    modulesDir: kernel.modulesDir ?? '',
    modulesDep: kernel.modulesDir ? await readFile(join(kernel.modulesDir, 'modules.dep')).catch(() => '') : '',
    init: await readFile(join(packageRoot, INIT)),
    keys: keys.clientPub + keys.hostPub,
    node: GUEST_NODE.integrity,
  });
  const entry = await cached('images', key, async (dir) => {
    options.log?.('assembling the guest image (ext4)');
    const stage = join(dir, 'stage');
    await run('cp', ['-a', tree.tree, stage]);
    try {
      // Fetched (or found) only when an image is built: the key holds its pinned integrity.
      await populate(stage, kernel, keys, await guestNode(options.log));
      const usedMiB = Number((await run('du', ['-sm', stage])).stdout.split(/\s/)[0]);
      const sizeMiB = Math.ceil(usedMiB * 1.3) + 512; // room for swap files and logs in the guest
      await run('mkfs.ext4', ['-q', '-F', '-L', 'cxlroot', '-E', 'root_owner=0:0', '-d', stage, join(dir, 'root.ext4'), `${sizeMiB}M`], {
        errorCode: 'IMAGE_BUILD_FAILED',
        hint: 'install e2fsprogs >= 1.43 (mkfs.ext4 -d)',
        logFile: join(dir, 'mkfs.log'),
      });
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }, { tree: tree.key, release: kernel.release });
  return { image: join(entry.dir, 'root.ext4'), payload: payload.image, initramfs, keys, key, hit: entry.hit && tree.hit && payload.hit };
}

/** The payload disk, keyed only by what goes into it. */
async function payloadImage(log?: (line: string) => void): Promise<{ image: string; hit: boolean }> {
  const key = hashParts({
    version: '2',
    addon: await readFile(join(packageRoot, ADDON)),
    ...Object.fromEntries(await Promise.all(Object.entries(PAYLOAD_TREES).map(async ([name, tree]) => [name, await hashTree(join(packageRoot, tree))]))),
  });
  const entry = await cached('payloads', key, async (dir) => {
    log?.('assembling the harness payload disk (ext4)');
    const stage = join(dir, 'stage');
    await mkdir(join(stage, 'build', 'Release'), { recursive: true });
    await cp(join(packageRoot, ADDON), join(stage, ADDON));
    for (const tree of Object.values(PAYLOAD_TREES)) await cp(join(packageRoot, tree), join(stage, tree), { recursive: true });
    await writeFile(join(stage, 'package.json'), '{"type":"module"}\n');
    try {
      const usedMiB = Number((await run('du', ['-sm', stage])).stdout.split(/\s/)[0]);
      await run('mkfs.ext4', ['-q', '-F', '-L', PAYLOAD_LABEL, '-E', 'root_owner=0:0', '-d', stage, join(dir, 'payload.ext4'), `${usedMiB * 2 + 8}M`], {
        errorCode: 'IMAGE_BUILD_FAILED',
        hint: 'install e2fsprogs >= 1.43 (mkfs.ext4 -d)',
        logFile: join(dir, 'mkfs.log'),
      });
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  });
  return { image: join(entry.dir, 'payload.ext4'), hit: entry.hit };
}

async function populate(root: string, kernel: KernelArtifact, keys: SshKeys, node: string): Promise<void> {
  if (kernel.modulesDir && kernel.release) {
    const dest = join(root, 'usr', 'lib', 'modules', kernel.release);
    await mkdir(dest, { recursive: true });
    await run('cp', ['-a', '--no-preserve=ownership', `${kernel.modulesDir}/.`, dest]);
  }
  // First in every PATH the guest has (init's, sshd's), so the agent, its children and guest commands all run it.
  await cp(node, join(root, 'usr', 'local', 'bin', 'node'));
  await chmod(join(root, 'usr', 'local', 'bin', 'node'), 0o755);
  // The payload disk is mounted here by init.
  await mkdir(join(root, 'opt', 'cxl-harness'), { recursive: true });
  await writeFile(join(root, 'usr', 'local', 'bin', 'cxl-harness'), '#!/bin/sh\nexec node /opt/cxl-harness/dist/agent/cli.js "$@"\n', { mode: 0o755 });
  await cp(join(packageRoot, INIT), join(root, 'sbin', 'cxl-init'));
  await chmod(join(root, 'sbin', 'cxl-init'), 0o755);

  // Key-only root login with the harness's key; the host key is the one the harness pins.
  const ssh = join(root, 'root', '.ssh');
  await mkdir(ssh, { recursive: true, mode: 0o700 });
  await writeFile(join(ssh, 'authorized_keys'), keys.clientPub + '\n', { mode: 0o600 });
  const etcSsh = join(root, 'etc', 'ssh');
  for (const f of await readdir(etcSsh)) if (f.startsWith('ssh_host_')) await rm(join(etcSsh, f));
  await cp(keys.hostKey, join(etcSsh, 'ssh_host_ed25519_key'));
  await chmod(join(etcSsh, 'ssh_host_ed25519_key'), 0o600);
  await writeFile(join(etcSsh, 'ssh_host_ed25519_key.pub'), keys.hostPub + '\n');
  await mkdir(join(etcSsh, 'sshd_config.d'), { recursive: true });
  await writeFile(
    join(etcSsh, 'sshd_config.d', 'cxl-harness.conf'),
    [
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UseDNS no',
      'MaxSessions 64',
      'MaxStartups 64',
      '',
    ].join('\n'),
  );
  await writeFile(join(root, 'etc', 'hostname'), 'cxl-guest\n');
  await writeFile(join(root, 'etc', 'fstab'), '# the harness mounts everything in /sbin/cxl-init\n');
}

/** Hash of every file below a directory (relative paths and contents). */
async function hashTree(dir: string): Promise<string> {
  const parts: Record<string, Buffer> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if ((await stat(p)).isFile()) parts[relative(dir, p)] = await readFile(p);
    }
  };
  await walk(dir);
  return hashParts(parts);
}
