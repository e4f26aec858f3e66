/**
 * What an agent can choose from before it starts anything: the topology presets, the suites
 * and their checks, the kernels the cache already holds. Each is read from the code or the
 * cache the run itself uses (qemu/topology.ts, the suite table, the SPM rows and the versions'
 * columns `cxl-harness checks` prints, kernel/cached.ts), never from a copy.
 */
import { cachedKernels } from '../kernel/cached.js';
import { cacheRoot } from '../paths.js';
import { builtinTopologies, loadTopology, regionCapacity, topologyDevices } from '../qemu/topology.js';
import { findSuite, suiteNames } from '../suites/index.js';
import { GENERATIONS } from '../suites/spm/generations/index.js';
import { checkTable } from '../suites/spm/table.js';

/** Every preset with its description, what it holds, and the suites that can run on it (their own test, as run's preflight applies it). */
export function topologyCatalog() {
  const suites = suiteNames().map(findSuite);
  return {
    topologies: builtinTopologies().map((name) => {
      const t = loadTopology(name);
      return {
        name,
        description: t.description,
        devices: topologyDevices(t).length,
        windows: t.windows.length,
        regions: regionCapacity(t),
        suites: suites.filter((s) => !s.unsuitedTopology?.(t)).map((s) => s.name),
        defaultOf: suites.filter((s) => s.defaultTopology === name).map((s) => s.name),
      };
    }),
  };
}

/**
 * The suites with their checks, and the SPM suite's check table as `cxl-harness checks` prints it: per check, what
 * each version of the series must show (`expect`) or why the check skips on it (`skip`). A
 * version no kernel has proved yet (`unproven`) skips every check with that reason.
 */
export function checkCatalog() {
  return {
    suites: suiteNames().map(findSuite).map((s) => ({ name: s.name, description: s.description, defaultTopology: s.defaultTopology, checks: s.checks ?? [] })),
    spm: {
      generations: GENERATIONS.map((g) => ({ short: g.short, id: g.id, title: g.title, ...(g.unproven ? { unproven: g.unproven } : {}) })),
      checks: checkTable().map(({ row, cells }) => ({
        id: row.id,
        title: row.title,
        tableRow: row.tableRow,
        ...(row.needs?.length ? { needs: [...row.needs] } : {}),
        byGeneration: Object.fromEntries(GENERATIONS.map((g, i) => [g.short, cells[i]])),
      })),
    },
  };
}

/** The kernels in the cache, each with the start_run input that boots it without a download or a build. */
export async function kernelCatalog() {
  const { distro, builds, sources } = await cachedKernels();
  return {
    cache: cacheRoot(),
    distro: distro.map((k) => ({ ...k, ...(k.problem ? {} : { use: { kernelSuite: k.suite, kernelPackage: k.package } }) })),
    // A build boots as it is through --kernel and --modules; the same kernelSrc and patches build nothing either (a cache hit) and keep the build's identity in the report.
    builds: builds.map((k) => ({ ...k, ...(k.problem || !k.image ? {} : { use: { kernel: k.image, ...(k.modulesDir ? { modules: k.modulesDir } : {}) } }) })),
    sources,
  };
}
