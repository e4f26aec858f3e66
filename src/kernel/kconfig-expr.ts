/**
 * Kconfig expressions (`depends on`, `select ... if`, `default ... if`): parsed into a tree,
 * evaluated against a .config with tristate logic (n=0, m=1, y=2), listed and rendered back.
 */

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
export function triOf(name: string, values: ReadonlyMap<string, string>): number {
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
export function andTerms(e: Expr): Expr[] {
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
