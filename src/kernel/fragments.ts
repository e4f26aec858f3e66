/**
 * Kernel config fragments, pure: parse `.config`-style text, merge fragments (later lines win),
 * lay the merged fragment over a base .config (what scripts/kconfig/merge_config.sh does before
 * olddefconfig), and check afterwards that every requested value landed.
 */
import { HarnessError } from '../errors.js';

/** One requested setting. `value` is the text after `=`, or 'n' for `# CONFIG_X is not set`. */
export interface ConfigSetting {
  /** Symbol without the CONFIG_ prefix, as Kconfig names it. */
  symbol: string;
  value: string;
  /** Where it was asked for: fragment name and 1-based line. */
  source: string;
  line: number;
}

export interface ConfigFragment {
  /** A name for messages: a path or `kernel-config/cxl.config`. */
  source: string;
  text: string;
}

const SET = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# CONFIG_([A-Za-z0-9_]+) is not set\s*$/;

/** Parse a fragment; anything that is not a setting, a comment or blank is an error naming the line. */
export function parseFragment(fragment: ConfigFragment): ConfigSetting[] {
  const out: ConfigSetting[] = [];
  fragment.text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const set = SET.exec(line);
    if (set) {
      out.push({ symbol: set[1]!, value: set[2]!.trim(), source: fragment.source, line: i + 1 });
      return;
    }
    const unset = UNSET.exec(line);
    if (unset) {
      out.push({ symbol: unset[1]!, value: 'n', source: fragment.source, line: i + 1 });
      return;
    }
    if (line === '' || line.startsWith('#')) return;
    throw new HarnessError('CONFIG_FRAGMENT_SYNTAX', `${fragment.source}:${i + 1}: not a config line: ${JSON.stringify(raw)}`, {
      hint: 'fragment lines look like CONFIG_FOO=y, CONFIG_BAR="text" or # CONFIG_BAZ is not set',
      context: { source: fragment.source, line: i + 1, text: raw },
    });
  });
  return out;
}

/** Values of a full .config: symbol -> value ('n' for `is not set`); absent symbols are not in the map. */
export function parseDotConfig(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const set = SET.exec(line);
    if (set) values.set(set[1]!, set[2]!.trim());
    else {
      const unset = UNSET.exec(line);
      if (unset) values.set(unset[1]!, 'n');
    }
  }
  return values;
}

export interface MergedFragments {
  /** The last setting per symbol, in first-seen order. */
  settings: ConfigSetting[];
  /** Settings a later line replaced with a different value (for the log, never an error). */
  overridden: Array<{ earlier: ConfigSetting; later: ConfigSetting }>;
}

/** Merge fragments in order: for a symbol set twice, the later line wins. */
export function mergeFragments(fragments: readonly ConfigFragment[]): MergedFragments {
  const bySymbol = new Map<string, ConfigSetting>();
  const overridden: MergedFragments['overridden'] = [];
  for (const f of fragments) {
    for (const s of parseFragment(f)) {
      const earlier = bySymbol.get(s.symbol);
      if (earlier && earlier.value !== s.value) overridden.push({ earlier, later: s });
      // Map.set keeps the first-seen position, so the rendered fragment reads like the input.
      bySymbol.set(s.symbol, s);
    }
  }
  return { settings: [...bySymbol.values()], overridden };
}

/** One `.config` line for a setting. */
export function renderSetting(s: { symbol: string; value: string }): string {
  return s.value === 'n' ? `# CONFIG_${s.symbol} is not set` : `CONFIG_${s.symbol}=${s.value}`;
}

/**
 * Lay settings over a base .config: lines for those symbols are dropped from the base and the
 * settings appended, so that olddefconfig resolves everything from there.
 */
export function applySettings(baseConfig: string, settings: readonly ConfigSetting[]): string {
  const wanted = new Set(settings.map((s) => s.symbol));
  const kept = baseConfig.split('\n').filter((raw) => {
    const line = raw.trim();
    const m = SET.exec(line) ?? UNSET.exec(line);
    return !(m && wanted.has(m[1]!));
  });
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  return [...kept, '# cxl-harness fragments', ...settings.map(renderSetting), ''].join('\n');
}

export interface ConfigMismatch {
  setting: ConfigSetting;
  /** The value in the final .config; undefined when the symbol is absent from it. */
  actual: string | undefined;
}

/** Normalise for comparison: absent and `is not set` both mean n; hex case does not matter. */
function normalise(value: string | undefined): string {
  if (value === undefined || value === 'n') return 'n';
  return /^0x[0-9a-f]+$/i.test(value) ? value.toLowerCase() : value;
}

/** Every setting whose value did not land in the final .config. */
export function verifySettings(settings: readonly ConfigSetting[], finalConfig: string): ConfigMismatch[] {
  const values = parseDotConfig(finalConfig);
  return settings
    .filter((s) => normalise(values.get(s.symbol)) !== normalise(s.value))
    .map((setting) => ({ setting, actual: values.get(setting.symbol) }));
}

/** "CONFIG_DEV_DAX=y (kernel-config/cxl.config:12) is not set" style summary of one mismatch. */
export function describeMismatch(m: ConfigMismatch): string {
  const got = m.actual === undefined ? 'absent from .config' : m.actual === 'n' ? 'is not set' : `became ${m.actual}`;
  return `${renderSetting(m.setting)} (${m.setting.source}:${m.setting.line}) did not land: ${got}`;
}

/** What tools/testing/cxl/config_check.c insists on: with it the mock modules build. */
export function cxlTestBuildable(values: Map<string, string>): boolean {
  return ['CXL_BUS', 'CXL_ACPI', 'CXL_PMEM', 'CXL_PORT', 'CXL_MEM'].every((o) => values.get(o) === 'm')
    && ['CXL_REGION_INVALIDATION_TEST', 'NVDIMM_SECURITY_TEST', 'DEBUG_FS', 'MEMORY_HOTPLUG'].every((o) => values.get(o) === 'y');
}
