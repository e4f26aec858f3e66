/**
 * Why a requested option did not land in .config, in one line: the unmet dependency terms,
 * the missing prompt, or the selects that force another value (see kconfig.ts).
 */
import type { KconfigIndex } from './kconfig.js';
import { andTerms, evalExpr, exprSymbols, parseExpr, renderExpr, triOf, type Expr } from './kconfig-expr.js';

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
