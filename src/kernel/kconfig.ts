/**
 * Just enough Kconfig to say *why* a requested option did not land in .config: parse the
 * `config` entries reached from the top-level Kconfig (following `source`, with the `if`,
 * `menu` and `choice` dependencies they inherit), evaluate their `depends on` against the final
 * .config with tristate logic, and name the unmet terms, or the selects that force a value.
 * The parser and evaluator are pure; loadKconfig() is the only part that reads files.
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

// ---- expressions -------------------------------------------------------------------------

export type Expr =
  | { t: 'sym'; name: string }
  | { t: 'str'; value: string }
  | { t: 'not'; e: Expr }
  | { t: 'and' | 'or'; l: Expr; r: Expr }
  | { t: 'cmp'; op: string; l: Expr; r: Expr }
  | { t: 'macro'; text: string };

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('$(', i)) {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        else if (text[j] === ')' && --depth === 0) break;
      }
      tokens.push(text.slice(i, j + 1));
      i = j + 1;
    } else if (c === '"' || c === "'") {
      const j = text.indexOf(c, i + 1);
      const end = j < 0 ? text.length : j;
      tokens.push(text.slice(i, end + 1));
      i = end + 1;
    } else {
      const two = text.slice(i, i + 2);
      if (['&&', '||', '!=', '<=', '>='].includes(two)) {
        tokens.push(two);
        i += 2;
      } else if ('()!=<>'.includes(c)) {
        tokens.push(c);
        i++;
      } else {
        const m = /^[A-Za-z0-9_.+-]+/.exec(text.slice(i));
        const word = m ? m[0] : c;
        tokens.push(word);
        i += word.length;
      }
    }
  }
  return tokens;
}

export function parseExpr(text: string): Expr {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const orExpr = (): Expr => {
    let l = andExpr();
    while (peek() === '||') {
      pos++;
      l = { t: 'or', l, r: andExpr() };
    }
    return l;
  };
  const andExpr = (): Expr => {
    let l = notExpr();
    while (peek() === '&&') {
      pos++;
      l = { t: 'and', l, r: notExpr() };
    }
    return l;
  };
  const notExpr = (): Expr => {
    if (peek() === '!') {
      pos++;
      return { t: 'not', e: notExpr() };
    }
    return cmpExpr();
  };
  const atom = (): Expr => {
    const tok = tokens[pos++] ?? 'n';
    if (tok === '(') {
      const e = orExpr();
      if (peek() === ')') pos++;
      return e;
    }
    if (tok.startsWith('$(')) return { t: 'macro', text: tok };
    if (tok.startsWith('"') || tok.startsWith("'")) return { t: 'str', value: tok.slice(1, -1) };
    return { t: 'sym', name: tok };
  };
  const cmpExpr = (): Expr => {
    const l = atom();
    const op = peek();
    if (op && ['=', '!=', '<', '<=', '>', '>='].includes(op)) {
      pos++;
      return { t: 'cmp', op, l, r: atom() };
    }
    return l;
  };
  return orExpr();
}

/** Tristate of a symbol in a .config value map: y=2, m=1, n/absent=0; y/m/n constants as themselves. */
function triOf(name: string, values: ReadonlyMap<string, string>): number {
  if (name === 'y') return 2;
  if (name === 'm') return 1;
  if (name === 'n') return 0;
  const v = values.get(name);
  return v === 'y' ? 2 : v === 'm' ? 1 : 0;
}

function isNumber(word: string): boolean {
  return /^-?(0x[0-9a-fA-F]+|\d+)$/.test(word);
}

function strOf(e: Expr, values: ReadonlyMap<string, string>): string {
  if (e.t === 'str') return e.value;
  if (e.t === 'sym') {
    if (['y', 'm', 'n'].includes(e.name) || isNumber(e.name)) {
      return values.has(e.name) ? values.get(e.name)!.replace(/^"|"$/g, '') : e.name;
    }
    return (values.get(e.name) ?? 'n').replace(/^"|"$/g, '');
  }
  return String(evalExpr(e, values));
}

/** Evaluate with Kconfig tristate logic (0, 1, 2). Macros ($(...)) are unknown and count as n. */
export function evalExpr(e: Expr, values: ReadonlyMap<string, string>): number {
  switch (e.t) {
    case 'sym':
      return triOf(e.name, values);
    case 'str':
      return 0;
    case 'macro':
      return 0;
    case 'not':
      return 2 - evalExpr(e.e, values);
    case 'and':
      return Math.min(evalExpr(e.l, values), evalExpr(e.r, values));
    case 'or':
      return Math.max(evalExpr(e.l, values), evalExpr(e.r, values));
    case 'cmp': {
      const a = strOf(e.l, values);
      const b = strOf(e.r, values);
      const na = Number(a);
      const nb = Number(b);
      const numeric = a !== '' && b !== '' && !Number.isNaN(na) && !Number.isNaN(nb);
      const cmp = numeric ? Math.sign(na - nb) : a === b ? 0 : a < b ? -1 : 1;
      const ok = { '=': cmp === 0, '!=': cmp !== 0, '<': cmp < 0, '<=': cmp <= 0, '>': cmp > 0, '>=': cmp >= 0 }[e.op];
      return ok ? 2 : 0;
    }
  }
}

/** The symbols an expression reads. */
export function exprSymbols(e: Expr): string[] {
  switch (e.t) {
    case 'sym':
      return ['y', 'm', 'n'].includes(e.name) || isNumber(e.name) ? [] : [e.name];
    case 'not':
      return exprSymbols(e.e);
    case 'and':
    case 'or':
    case 'cmp':
      return [...exprSymbols(e.l), ...exprSymbols(e.r)];
    default:
      return [];
  }
}

/** Split a conjunction into its terms. */
function andTerms(e: Expr): Expr[] {
  return e.t === 'and' ? [...andTerms(e.l), ...andTerms(e.r)] : [e];
}

export function renderExpr(e: Expr, top = true): string {
  const s = ((): string => {
    switch (e.t) {
      case 'sym':
        return e.name;
      case 'str':
        return `"${e.value}"`;
      case 'macro':
        return e.text;
      case 'not':
        return `!${renderExpr(e.e, false)}`;
      case 'cmp':
        return `${renderExpr(e.l, false)} ${e.op} ${renderExpr(e.r, false)}`;
      case 'and':
        return `${renderExpr(e.l, e.l.t === 'and')} && ${renderExpr(e.r, e.r.t === 'and')}`;
      case 'or':
        return `${renderExpr(e.l, e.l.t === 'or')} || ${renderExpr(e.r, e.r.t === 'or')}`;
    }
  })();
  return top || e.t === 'sym' || e.t === 'str' || e.t === 'macro' || e.t === 'not' || e.t === 'cmp' ? s : `(${s})`;
}

const TRI = ['n', 'm', 'y'];

function valueText(sym: string, values: ReadonlyMap<string, string>): string {
  return values.get(sym) ?? 'n';
}

/** "TRANSPARENT_HUGEPAGE (n)", "EDAC >= CXL_BUS (EDAC=n, CXL_BUS=y)" */
function describeTerm(term: Expr, values: ReadonlyMap<string, string>): string {
  const syms = [...new Set(exprSymbols(term))];
  if (term.t === 'sym') return `${term.name} (${valueText(term.name, values)})`;
  return `${renderExpr(term, false)} (${syms.map((s) => `${s}=${valueText(s, values)}`).join(', ')})`;
}

function wantedTri(value: string): number | undefined {
  const i = TRI.indexOf(value);
  return i < 0 ? undefined : i;
}

/**
 * Why `symbol` did not get `wanted` in the final .config (`values`), in one line:
 * the unmet dependency terms, the missing prompt, or the selects that force it.
 */
export function explainSetting(index: KconfigIndex, symbol: string, wanted: string, values: ReadonlyMap<string, string>, depth = 0): string {
  const defs = index.entries.get(symbol);
  if (!defs || defs.length === 0) return `there is no option ${symbol} in this tree (no "config ${symbol}" in the Kconfig files)`;
  const want = wantedTri(wanted);
  const reasons: string[] = [];
  if (want === 0) {
    const forcing = (index.selectedBy.get(symbol) ?? []).filter(
      (s) => triOf(s.by.symbol, values) > 0 && (s.cond === undefined || evalExpr(parseExpr(s.cond), values) > 0),
    );
    if (forcing.length) {
      return `selected by ${forcing.map((s) => `${s.by.symbol} (${valueText(s.by.symbol, values)}, ${s.by.file}:${s.by.line})`).join(', ')}`;
    }
    if (defs.every((d) => !d.hasPrompt)) return `has no prompt, so its default decides (${defs.flatMap((d) => d.defaults).join('; ') || 'none'})`;
    return `its dependencies are met and nothing selects it; check the base config and \`make menuconfig\``;
  }
  // The definition with the best dependency value explains the outcome.
  const scored = defs.map((d) => {
    const all = [...d.inherited, ...d.depends].filter(Boolean).map(parseExpr);
    const terms = all.flatMap(andTerms);
    const value = terms.reduce((v, t) => Math.min(v, evalExpr(t, values)), 2);
    return { d, terms, value };
  });
  scored.sort((a, b) => b.value - a.value);
  const best = scored[0]!;
  const need = want ?? 1;
  if (best.value < need) {
    const unmet = best.terms.filter((t) => evalExpr(t, values) < need);
    const own = best.d.depends.map(parseExpr).flatMap(andTerms).map((t) => renderExpr(t, false));
    const deps = [...new Set([...own, ...unmet.map((t) => renderExpr(t, false))])];
    let line = `depends on ${deps.join(' && ')} (${best.d.file}:${best.d.line}); unmet: ${unmet.map((t) => describeTerm(t, values)).join(', ')}`;
    if (best.value === 1 && want === 2) line += ' (a dependency is m, so it can only be m)';
    if (depth < 1) {
      for (const t of unmet) {
        if (t.t === 'sym' && index.entries.has(t.name)) {
          const why = explainSetting(index, t.name, t.name === symbol ? 'y' : TRI[need]!, values, depth + 1);
          if (!why.startsWith('its dependencies are met')) reasons.push(`${t.name} ${why}`);
        }
      }
    }
    return [line, ...reasons].join('; ');
  }
  if (best.d.type && !['bool', 'tristate'].includes(best.d.type)) {
    return `its dependencies are met; the value was replaced (out of its range or reset by its default): check ${best.d.file}:${best.d.line}`;
  }
  if (!defs.some((d) => d.hasPrompt)) {
    const sel = (index.selectedBy.get(symbol) ?? []).map((s) => `${s.by.symbol} (${valueText(s.by.symbol, values)})`);
    return `has no prompt, so only a select turns it on${sel.length ? `; selected by: ${sel.slice(0, 8).join(', ')}${sel.length > 8 ? ', ...' : ''}` : ''} (${best.d.file}:${best.d.line})`;
  }
  if (best.d.inChoice) return `is one option of a choice (${best.d.file}:${best.d.line}); the choice kept another option: set that one to n too`;
  if (want === 1 && values.get('MODULES') !== 'y') return `modules are disabled (CONFIG_MODULES is not set), so it can only be y or n`;
  return `its dependencies are met (${best.d.file}:${best.d.line}); check the base config and \`make menuconfig\``;
}
