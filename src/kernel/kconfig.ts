/**
 * Just enough Kconfig to say *why* a requested option did not land in .config: parse the
 * `config` entries reached from the top-level Kconfig (following `source`, with the `if`,
 * `menu` and `choice` dependencies they inherit), evaluate their `depends on` against the final
 * .config with tristate logic, and name the unmet terms, or the selects that force a value.
 * This file parses the entries; kconfig-expr.ts is the expression language, kconfig-explain.ts
 * the explainer. All of it is pure but loadKconfig(), the only part that reads files.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

export interface KconfigEntry {
  symbol: string;
  /** Path relative to the tree, and 1-based line of the `config` line. */
  file: string;
  line: number;
  type: string | undefined;
  hasPrompt: boolean;
  inChoice: boolean;
  /** The entry's own `depends on` expressions. */
  depends: string[];
  /** Dependencies inherited from enclosing `if`, `menu` and `choice` blocks. */
  inherited: string[];
  selects: Array<{ symbol: string; cond: string | undefined }>;
  defaults: string[];
}

export interface KconfigIndex {
  entries: Map<string, KconfigEntry[]>;
  /** symbol -> entries that `select` it (with the select's `if` condition). */
  selectedBy: Map<string, Array<{ by: KconfigEntry; cond: string | undefined }>>;
}

interface Frame {
  kind: 'if' | 'menu' | 'choice';
  deps: string[];
}

function indentWidth(line: string): number {
  let w = 0;
  for (const ch of line) {
    if (ch === ' ') w += 1;
    else if (ch === '\t') w = (Math.floor(w / 8) + 1) * 8;
    else break;
  }
  return w;
}

/** Lines with `\` continuations joined, each with its 1-based starting line number. */
function logicalLines(text: string): Array<{ text: string; line: number }> {
  const raw = text.split('\n');
  const out: Array<{ text: string; line: number }> = [];
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    let t = raw[i]!;
    while (t.endsWith('\\') && i + 1 < raw.length) t = t.slice(0, -1) + ' ' + raw[++i]!;
    out.push({ text: t, line: start + 1 });
  }
  return out;
}

export interface ParseState {
  stack: Frame[];
  entries: KconfigEntry[];
}

/**
 * Parse one Kconfig file's text. `onSource` is called for `source` lines (with the path as
 * written and whether it is optional/relative) so the caller can splice the sourced file in
 * with the same `if`/`menu` stack, which is how Kconfig itself scopes them.
 */
export async function parseKconfig(
  text: string,
  file: string,
  state: ParseState,
  onSource: (path: string, opts: { optional: boolean; relative: boolean }) => Promise<void> = async () => undefined,
): Promise<void> {
  const lines = logicalLines(text);
  let current: KconfigEntry | undefined;
  // The block that trailing `depends on` lines belong to: an entry, a menu/choice frame, or a comment (ignored).
  let attach: 'entry' | 'frame' | 'ignore' = 'ignore';
  for (let i = 0; i < lines.length; i++) {
    const { text: rawLine, line } = lines[i]!;
    const t = rawLine.replace(/(^|\s)#.*$/, '').trim();
    if (t === '') continue;
    const [word = '', ...restWords] = t.split(/\s+/);
    const rest = t.slice(word.length).trim();
    if (word === 'help' || word === '---help---') {
      // Skip the help text. As in Kconfig's lexer, its first line sets the indentation and it
      // ends at the first non-blank line indented less (some help texts sit at the `help` level).
      let base: number | undefined;
      while (i + 1 < lines.length) {
        const next = lines[i + 1]!.text;
        if (next.trim() !== '') {
          base ??= indentWidth(next);
          if (base === 0 || indentWidth(next) < base) break;
        }
        i++;
      }
      continue;
    }
    switch (word) {
      case 'config':
      case 'menuconfig': {
        current = {
          symbol: restWords[0] ?? '',
          file,
          line,
          type: undefined,
          hasPrompt: false,
          inChoice: state.stack.some((f) => f.kind === 'choice'),
          depends: [],
          // A menu's or choice's `depends on` lines come right after it, before its entries.
          inherited: state.stack.flatMap((f) => f.deps),
          selects: [],
          defaults: [],
        };
        state.entries.push(current);
        attach = 'entry';
        continue;
      }
      case 'if':
        state.stack.push({ kind: 'if', deps: [rest] });
        attach = 'ignore';
        current = undefined;
        continue;
      case 'menu':
      case 'choice':
        state.stack.push({ kind: word, deps: [] });
        attach = 'frame';
        current = undefined;
        continue;
      case 'endif':
      case 'endmenu':
      case 'endchoice':
        state.stack.pop();
        attach = 'ignore';
        current = undefined;
        continue;
      case 'comment':
      case 'mainmenu':
        attach = 'ignore';
        current = undefined;
        continue;
      case 'source':
      case 'osource':
      case 'rsource':
      case 'orsource': {
        const m = /^"([^"]*)"/.exec(rest);
        if (m) await onSource(m[1]!, { optional: word.startsWith('o'), relative: word === 'rsource' || word === 'orsource' });
        attach = 'ignore';
        current = undefined;
        continue;
      }
      case 'depends': {
        const expr = rest.replace(/^on\s+/, '');
        if (attach === 'entry' && current) current.depends.push(expr);
        else if (attach === 'frame') state.stack[state.stack.length - 1]?.deps.push(expr);
        continue;
      }
      default:
        break;
    }
    if (!current || attach !== 'entry') continue;
    if (['bool', 'tristate', 'string', 'int', 'hex'].includes(word)) {
      current.type = word;
      if (rest.startsWith('"')) current.hasPrompt = true;
    } else if (word === 'def_bool' || word === 'def_tristate') {
      current.type = word.slice(4);
      current.defaults.push(rest);
    } else if (word === 'prompt') {
      current.hasPrompt = true;
    } else if (word === 'default') {
      current.defaults.push(rest);
    } else if (word === 'select' || word === 'imply') {
      if (word === 'select') {
        const m = /^(\S+)(?:\s+if\s+(.*))?$/.exec(rest);
        if (m) current.selects.push({ symbol: m[1]!, cond: m[2] });
      }
    }
  }
}

/** Index entries by symbol and by what selects them. */
export function indexEntries(entries: readonly KconfigEntry[]): KconfigIndex {
  const index: KconfigIndex = { entries: new Map(), selectedBy: new Map() };
  for (const e of entries) {
    const list = index.entries.get(e.symbol) ?? [];
    list.push(e);
    index.entries.set(e.symbol, list);
    for (const s of e.selects) {
      const by = index.selectedBy.get(s.symbol) ?? [];
      by.push({ by: e, cond: s.cond });
      index.selectedBy.set(s.symbol, by);
    }
  }
  return index;
}

/** Read the Kconfig files reached from `<tree>/Kconfig` for one architecture. */
export async function loadKconfig(tree: string, arch = 'x86'): Promise<KconfigIndex> {
  const state: ParseState = { stack: [], entries: [] };
  const seen = new Set<string>();
  const visit = async (abs: string): Promise<void> => {
    if (seen.has(abs) || !existsSync(abs)) return;
    seen.add(abs);
    const text = await readFile(abs, 'utf8');
    await parseKconfig(text, relative(tree, abs), state, async (p, opts) => {
      const expanded = p.replace(/\$\((SRCARCH|ARCH|HEADER_ARCH)\)/g, arch);
      const base = opts.relative ? join(dirname(abs), expanded) : join(tree, expanded);
      for (const f of await expandGlob(base)) await visit(f);
    });
  };
  await visit(join(tree, 'Kconfig'));
  return indexEntries(state.entries);
}

async function expandGlob(path: string): Promise<string[]> {
  if (!path.includes('*')) return [path];
  const dir = dirname(path);
  const pattern = new RegExp(`^${path.slice(dir.length + 1).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => pattern.test(n)).sort().map((n) => join(dir, n));
}
