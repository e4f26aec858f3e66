/**
 * The layering of docs/ARCHITECTURE.md, checked by `npm run lint:deps` (part of `npm test`).
 * Each folder of src/ imports only itself and the folders its row names; the base is the
 * files directly in src/ (errors, fields, paths, exec, cache, interrupt). Type-only imports
 * count too: a layer's types are part of its interface.
 */
const BASE = '[^/]+\\.ts$';

/** What each folder of src/ may import besides itself (host-side folders: and npm packages). */
const LAYERS = {
  probe: [], // runs in the guest: node builtins only
  contract: ['probe/', 'agent/'], // what host and guest agree on (protocols, markers, the region rule); runs on both sides: node builtins, and types only from probe/ and agent/ (contract-types-only)
  agent: ['probe/', 'contract/'], // runs in the guest: node builtins only
  report: ['contract/', BASE], // pure: summaries to verdicts and formats; the kernel-log markers the guest writes
  results: ['report/', BASE],
  kernel: ['report/', BASE],
  qemu: ['contract/', 'report/', BASE], // contract/: the region rule the guest applies too; report/: the console scanner fed live
  host: ['kernel/', BASE],
  image: ['kernel/', BASE],
  remote: ['agent/', 'contract/', 'probe/', 'results/', 'report/', BASE], // agent/: the types of what its verbs answer
  suites: ['agent/', 'contract/', 'remote/', 'qemu/', 'kernel/', 'image/', 'probe/', 'results/', 'report/', BASE], // agent/: what its verbs answer; image/: a suite's own root tree (ndctl)
  machine: ['remote/', 'host/', 'image/', 'kernel/', 'qemu/', 'results/', 'report/', BASE],
  run: ['machine/', 'kernel/', 'qemu/', 'suites/', 'results/', 'report/', BASE],
  repro: ['contract/', 'machine/', 'remote/', 'kernel/', 'qemu/', 'suites/', 'results/', 'report/', BASE], // contract/: the loop's contract and markers
  ci: ['run/', 'results/', 'report/', BASE],
  mcp: ['suites/', 'repro/', 'qemu/', 'kernel/', 'results/', 'report/', BASE], // the MCP server: what can be run (suite table, scenarios, topologies, cached kernels), results dirs read back; runs are CLI children, never run/ or repro/loop in-process
  cli: null, // anything; nothing imports cli/
};

const GUEST = ['probe', 'contract', 'agent'];
const oneOf = (names) => `^src/(${names.join('|')})`;

const layerRules = Object.entries(LAYERS)
  .filter(([, allowed]) => allowed !== null)
  .map(([folder, allowed]) => {
    const own = [`${folder}/`, ...allowed];
    return GUEST.includes(folder)
      ? {
          name: `layer-${folder}`,
          comment: `src/${folder}/ runs in the guest, where there is no node_modules and no host code: it imports ${own.map((p) => `src/${p}`).join(', ')} and node builtins only`,
          severity: 'error',
          from: { path: `^src/${folder}/` },
          to: { dependencyTypesNot: ['core'], pathNot: oneOf(own) },
        }
      : {
          name: `layer-${folder}`,
          comment: `src/${folder}/ imports only ${own.map((p) => (p === BASE ? 'the base' : `src/${p}`)).join(', ')} of src/ (docs/ARCHITECTURE.md)`,
          severity: 'error',
          from: { path: `^src/${folder}/` },
          to: { path: '^src/', pathNot: oneOf(own) },
        };
  });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-runtime-cycle',
      comment: 'no import cycle in src/ at run time (a cycle of type-only imports vanishes when compiled)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'layer-base',
      comment: 'the base (the files directly in src/) imports only the base',
      severity: 'error',
      from: { path: `^src/${BASE}` },
      to: { path: '^src/', pathNot: `^src/${BASE}` },
    },
    ...layerRules,
    {
      name: 'contract-types-only',
      comment: 'src/contract/ takes only types from src/agent/ and src/probe/ (the verbs\' arguments and results): at run time it stands on node builtins alone',
      severity: 'error',
      from: { path: '^src/contract/' },
      to: { path: '^src/(agent|probe)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'layer-unlisted',
      comment: 'every folder of src/ has its row in LAYERS above and in docs/ARCHITECTURE.md',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: oneOf(Object.keys(LAYERS).map((f) => `${f}/`)) },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve escapes every rule above',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      comment: 'src/ imports only packages package.json names (not one that happens to be installed through another)',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Resolve packages the way Node does: the MCP SDK names its entry points
    // (@modelcontextprotocol/sdk/server/mcp.js...) only in package.json "exports".
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'node', 'default'] },
  },
};
