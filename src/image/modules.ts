/**
 * Kernel module bookkeeping on the host, pure: which module files to load, in which order,
 * from a kernel's modules.dep and modules.builtin.
 */

export function moduleName(path: string): string {
  const base = path.split('/').pop() ?? path;
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

export interface ModuleIndex {
  /** module name -> relative path of its file */
  path: Map<string, string>;
  /** module name -> names of the modules it depends on */
  deps: Map<string, string[]>;
  builtin: Set<string>;
}

export function parseModuleIndex(modulesDep: string, modulesBuiltin = ''): ModuleIndex {
  const index: ModuleIndex = { path: new Map(), deps: new Map(), builtin: new Set() };
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const file = line.slice(0, colon).trim();
    const name = moduleName(file);
    index.path.set(name, file);
    index.deps.set(name, line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName));
  }
  for (const line of modulesBuiltin.split('\n')) if (line.trim()) index.builtin.add(moduleName(line.trim()));
  return index;
}

/**
 * Files to insmod, dependencies first, each once, for the wanted modules. Built-in modules
 * need nothing. A wanted module that is neither built in nor in modules.dep is returned in `missing`.
 */
export function loadOrder(index: ModuleIndex, wanted: string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    if (index.builtin.has(name)) return;
    const file = index.path.get(name);
    if (!file) {
      missing.push(name);
      return;
    }
    for (const dep of index.deps.get(name) ?? []) visit(dep);
    files.push(file);
  };
  for (const name of wanted) visit(name.replace(/-/g, '_'));
  return { files, missing };
}
