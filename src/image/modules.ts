/**
 * Kernel module bookkeeping on the host, pure: which module files to load, in which order,
 * resolved the way kmod's modprobe does it from a kernel's index files: modules.dep
 * (hard dependencies), modules.softdep (`softdep X pre: A post: B`), modules.alias and the
 * `.alias=` entries of modules.builtin.modinfo (a name such as `crc32c` that no module
 * carries), modules.builtin and modules.builtin.modinfo (built in: nothing to load).
 */

export function moduleName(path: string): string {
  const base = path.split('/').pop() ?? path;
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** The text of a kernel's modules.* index files; any may be missing (''). */
export interface ModuleFiles {
  dep: string;
  builtin?: string;
  /** NUL-separated `module.key=value` records. */
  builtinModinfo?: string;
  softdep?: string;
  alias?: string;
}

/** The index files resolveModules reads, by their names in the modules directory. */
export const MODULE_INDEX_FILES: Record<keyof ModuleFiles, string> = {
  dep: 'modules.dep',
  builtin: 'modules.builtin',
  builtinModinfo: 'modules.builtin.modinfo',
  softdep: 'modules.softdep',
  alias: 'modules.alias',
};

export interface ModuleIndex {
  /** module name -> relative path of its file */
  path: Map<string, string>;
  /** module name -> names of the modules it depends on */
  deps: Map<string, string[]>;
  builtin: Set<string>;
  /** module name -> soft dependencies loaded before (pre) and after (post) it */
  softdep: Map<string, { pre: string[]; post: string[] }>;
  /** alias (plain names only, no wildcards) -> the modules that carry it */
  alias: Map<string, string[]>;
}

const norm = (name: string): string => name.replace(/-/g, '_');

export function parseModuleIndex(files: ModuleFiles): ModuleIndex {
  const index: ModuleIndex = { path: new Map(), deps: new Map(), builtin: new Set(), softdep: new Map(), alias: new Map() };
  for (const line of files.dep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const file = line.slice(0, colon).trim();
    const name = moduleName(file);
    index.path.set(name, file);
    index.deps.set(name, line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName));
  }
  for (const line of (files.builtin ?? '').split('\n')) if (line.trim()) index.builtin.add(moduleName(line.trim()));
  const addAlias = (alias: string, module: string): void => {
    if (/[*?[]/.test(alias)) return; // device-id patterns: never what a name lookup means
    const list = index.alias.get(norm(alias)) ?? [];
    if (!list.includes(norm(module))) list.push(norm(module));
    index.alias.set(norm(alias), list);
  };
  for (const record of (files.builtinModinfo ?? '').split('\0')) {
    const m = /^([^.=]+)\.([^=]+)=(.*)$/.exec(record);
    if (!m) continue;
    index.builtin.add(norm(m[1]!));
    if (m[2] === 'alias') addAlias(m[3]!, m[1]!);
  }
  for (const line of (files.alias ?? '').split('\n')) {
    const [word, alias, module] = line.trim().split(/\s+/);
    if (word === 'alias' && alias && module) addAlias(alias, module);
  }
  for (const line of (files.softdep ?? '').split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'softdep' || !words[1]) continue;
    const entry = index.softdep.get(norm(words[1])) ?? { pre: [], post: [] };
    let into: string[] | undefined;
    for (const w of words.slice(2)) {
      if (w === 'pre:') into = entry.pre;
      else if (w === 'post:') into = entry.post;
      else into?.push(norm(w));
    }
    index.softdep.set(norm(words[1]), entry);
  }
  return index;
}

export interface LoadOrder {
  /** Module files to insmod, relative to the modules directory, dependencies first, each once. */
  files: string[];
  /** Wanted modules (or hard dependencies) that are neither built in, nor a file, nor an alias of either. */
  missing: string[];
  /** Soft dependencies that cannot be had: modprobe goes on without them, and so does this. */
  softMissing: string[];
}

/**
 * Files to insmod for the wanted modules, in modprobe's order: a module's soft `pre`
 * dependencies, its hard dependencies, the module, its soft `post` dependencies. Built-in
 * modules need nothing; a name no module has is looked up as an alias (every module that
 * carries it is loaded, as modprobe does).
 */
export function loadOrder(index: ModuleIndex, wanted: string[]): LoadOrder {
  const out: LoadOrder = { files: [], missing: [], softMissing: [] };
  const seen = new Set<string>();
  const resolve = (name: string): string[] | undefined => {
    if (index.builtin.has(name) || index.path.has(name)) return [name];
    const carriers = (index.alias.get(name) ?? []).filter((m) => index.builtin.has(m) || index.path.has(m));
    return carriers.length ? carriers : undefined;
  };
  const visit = (wantedName: string, soft: boolean): void => {
    const name = norm(wantedName);
    const modules = resolve(name);
    if (!modules) {
      const list = soft ? out.softMissing : out.missing;
      if (!list.includes(name)) list.push(name);
      return;
    }
    for (const m of modules) {
      if (seen.has(m)) continue;
      seen.add(m);
      if (index.builtin.has(m)) continue;
      const sd = index.softdep.get(m);
      for (const pre of sd?.pre ?? []) visit(pre, true);
      for (const dep of index.deps.get(m) ?? []) visit(dep, false);
      out.files.push(index.path.get(m)!);
      for (const post of sd?.post ?? []) visit(post, true);
    }
  };
  for (const name of wanted) visit(name, false);
  return out;
}
