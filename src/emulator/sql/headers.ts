/**
 * Column headers the Snowflake way: an unaliased select item is named by its
 * own text, upper-cased outside quoted identifiers (DuckDB would name it by
 * its rewritten expression).
 */
import { Dialect, generate, parse } from '@polyglot-sql/sdk';
import type { Node } from './ast.ts';
import { findTopLevel, isWord, type Token } from './lexer.ts';

/** Words ending a select list. */
const SELECT_LIST_END = new Set([
  'FROM', 'WHERE', 'GROUP', 'HAVING', 'QUALIFY', 'ORDER', 'LIMIT', 'UNION', 'EXCEPT', 'MINUS',
  'INTERSECT', 'WINDOW', 'FETCH', 'OFFSET', 'INTO',
]);

/** Source text of each item of the outermost select list, or undefined when it cannot be found. */
export function selectItemTexts(toks: Token[], sql: string): string[] | undefined {
  const sel = findTopLevel(toks, (t) => isWord(t, 'SELECT'));
  if (sel < 0) return undefined;
  let i = sel + 1;
  if (isWord(toks[i], 'DISTINCT', 'ALL')) i++;
  if (isWord(toks[i], 'TOP') && toks[i + 1]?.kind === 'number') i += 2;
  const end = findTopLevel(
    toks,
    (t) => {
      const k = toks.indexOf(t);
      if (isWord(t, 'GROUP', 'ORDER')) return isWord(toks[k + 1], 'BY') && !isWord(toks[k - 1], 'WITHIN');
      return isWord(t, ...SELECT_LIST_END);
    },
    i,
  );
  const stop = end < 0 ? toks.length : end;
  const items: string[] = [];
  let from = i;
  for (;;) {
    const comma = findTopLevel(toks, (t) => t.kind === 'punct' && t.value === ',', from);
    const last = comma < 0 || comma > stop ? stop : comma;
    if (last <= from) return undefined;
    items.push(sql.slice(toks[from]!.start, toks[last - 1]!.end));
    if (last === stop) break;
    from = last + 1;
  }
  return items;
}

/** Snowflake's header for an unaliased expression: its text, upper-cased outside quoted identifiers. */
function headerFor(text: string): string {
  return text.replace(/("(?:[^"]|"")*")|([^"]+)/g, (_m, quoted: string | undefined, plain: string | undefined) =>
    quoted !== undefined ? quoted : plain!.toUpperCase(),
  );
}

/** The leftmost plain SELECT of a query (through set operations), or undefined. */
export function leftmostSelect(stmt: Node): Node | undefined {
  let s = stmt;
  for (let k = 0; k < 64 && s; k++) {
    if (s.select) return s.select;
    const key = Object.keys(s)[0]!;
    if (['union', 'intersect', 'except'].includes(key)) s = s[key].left;
    else if (key === 'paren' || key === 'subquery') s = s[key].this;
    else return undefined;
  }
  return undefined;
}

export function addHeaders(select: Node, texts: string[] | undefined): void {
  const exprs: Node[] = select.expressions ?? [];
  if (!texts || texts.length !== exprs.length) {
    // Fall back to polyglot's Snowflake rendering of each item.
    texts = exprs.map((e) => {
      const g = generate([{ select: { ...emptySelect(), expressions: [e] } }], Dialect.Snowflake);
      return g.success && g.sql?.[0] ? g.sql[0].replace(/^SELECT\s+/i, '') : 'EXPR';
    });
  }
  select.expressions = exprs.map((e, i) => {
    if (e.alias || e.column || e.star) return e;
    return { alias: { this: e, alias: { name: headerFor(texts![i]!.trim()), quoted: true, trailing_comments: [], span: null }, column_aliases: [], alias_explicit_as: true, pre_alias_comments: [], trailing_comments: [] } };
  });
}

function emptySelect(): Node {
  const r = parse('SELECT 1', Dialect.Snowflake);
  return (r.ast as Node[])[0].select;
}
