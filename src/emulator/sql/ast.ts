/**
 * The rewrite's own AST nodes and literals: what it injects into polyglot's
 * AST (templates of DuckDB SQL, DuckDB types, identifiers, strings) and how
 * those placeholders become DuckDB text again at the end.
 *
 * The AST is polyglot's JSON form: every expression is a one-key object
 * (`{column: {...}}`, `{function: {name, args}}`, …).
 */
import { tokenize } from './lexer.ts';

/** A polyglot AST node (JSON object); shapes vary by node kind. */
// `any` on purpose: polyglot's AST is untyped JSON with dozens of node shapes.
export type Node = any;

// ---------------------------------------------------------------------------
// Node builders
//
// Everything the rewrite injects is opaque to polyglot: a DuckDB template
// becomes a call `__AIRLOCK_T<n>(args…)` and a DuckDB type a custom type
// `AIRLOCK_TY_<n>`. polyglot's Snowflake→DuckDB transpile then translates only
// the user's own expressions (the arguments), and {@link expandPlaceholders}
// splices the templates in at the end.

const templateIds = new Map<string, number>();
const templateTexts: string[] = [];
const typeIds = new Map<string, number>();
const typeTexts: string[] = [];
const dateNodes = new WeakSet<object>();

/** An expression from DuckDB SQL text where `__A0`, `__A1`… stand for the argument nodes. */
export function tpl(sql: string, ...args: Node[]): Node {
  let id = templateIds.get(sql);
  if (id === undefined) {
    id = templateTexts.length;
    templateTexts.push(sql);
    templateIds.set(sql, id);
  }
  return { function: { name: `__AIRLOCK_T${id}`, args, distinct: false, trailing_comments: [], use_bracket_syntax: false, no_parens: false, quoted: false } };
}

export function fn(name: string, ...args: Node[]): Node {
  return tpl(`${name}(${args.map((_, i) => `__A${i}`).join(', ')})`, ...args);
}

export function ident(name: string): Node {
  return { name, quoted: true, trailing_comments: [], span: null };
}

export function str(value: string): Node {
  return { literal: { literal_type: 'string', value } };
}

/** A custom data type node that prints as a placeholder for a DuckDB type. */
export function typeNode(duck: string): Node {
  let id = typeIds.get(duck);
  if (id === undefined) {
    id = typeTexts.length;
    typeTexts.push(duck);
    typeIds.set(duck, id);
  }
  return { data_type: 'custom', name: `AIRLOCK_TY_${id}` };
}

export function cast(x: Node, duck: string): Node {
  const n = tpl(`CAST(__A0 AS ${duck})`, x);
  if (duck === 'DATE') dateNodes.add(n);
  return n;
}

/** Mark a node as a DATE-typed expression (see {@link isDateTyped}). */
export function markDate(n: Node): Node {
  dateNodes.add(n);
  return n;
}

/** Best-effort: is this expression a DATE (not a timestamp)? */
export function isDateTyped(n: Node): boolean {
  return n !== null && typeof n === 'object' && dateNodes.has(n);
}

/** Replace the placeholders in DuckDB SQL produced from a rewritten AST. */
export function expandPlaceholders(sql: string): string {
  let out = sql.replace(/"?AIRLOCK_TY_(\d+)"?/g, (_m, id: string) => typeTexts[Number(id)]!);
  for (;;) {
    const at = out.lastIndexOf('__AIRLOCK_T');
    if (at < 0) return out;
    const m = /^__AIRLOCK_T(\d+)\s*\(/i.exec(out.slice(at));
    if (!m) throw new Error('internal: malformed template placeholder');
    const open = at + m[0].length - 1;
    const { args, close } = callArgs(out, open);
    const text = templateTexts[Number(m[1])]!.replace(/__A(\d+)/g, (_x, i: string) => `(${args[Number(i)]!})`);
    out = `${out.slice(0, at)}(${text})${out.slice(close + 1)}`;
  }
}

/** Arguments (source text) of the call whose `(` is at `open`, and the index of its `)`. */
function callArgs(sql: string, open: number): { args: string[]; close: number } {
  const toks = tokenize(sql.slice(open));
  let depth = 0;
  const args: string[] = [];
  let argStart = -1;
  for (const t of toks) {
    if (t.kind === 'punct' && (t.value === '(' || t.value === '[' || t.value === '{')) {
      depth++;
      if (depth === 1) {
        argStart = t.end;
      }
    } else if (t.kind === 'punct' && (t.value === ')' || t.value === ']' || t.value === '}')) {
      depth--;
      if (depth === 0) {
        const last = sql.slice(open + argStart, open + t.start).trim();
        if (last !== '' || args.length > 0) args.push(last);
        return { args, close: open + t.start };
      }
    } else if (depth === 1 && t.kind === 'punct' && t.value === ',') {
      args.push(sql.slice(open + argStart, open + t.start).trim());
      argStart = t.end;
    }
  }
  throw new Error('internal: unbalanced template call');
}
export function literalString(n: Node): string | undefined {
  const l = n?.literal;
  if (l && (l.literal_type === 'string' || l.literal_type === 'dollar_string')) return String(l.value);
  return undefined;
}

export function literalKind(n: Node): 'string' | 'number' | 'boolean' | 'null' | undefined {
  if (n?.literal) return n.literal.literal_type === 'number' ? 'number' : 'string';
  if (n?.boolean) return 'boolean';
  if (n?.null !== undefined && Object.keys(n).length === 1) return 'null';
  if (n?.neg) return literalKind(n.neg.this);
  return undefined;
}

export function isIdentifier(o: Node): boolean {
  return typeof o.name === 'string' && 'quoted' in o;
}

export function isTableRef(o: Node): boolean {
  return 'catalog' in o && 'schema' in o && o.name !== null && typeof o.name === 'object' && isIdentifier(o.name);
}

/** Fold an identifier the Snowflake way and quote it so DuckDB keeps the case. */
export function foldIdent(o: Node): Node {
  return { ...o, name: o.quoted ? o.name : String(o.name).toUpperCase(), quoted: true };
}


let placeholderSeq = 0;

/** A fresh name no query can write, for a placeholder table or an unnamed derived table. */
export function placeholderName(prefix: 'IS' | 'SUBQUERY'): string {
  return `__AIRLOCK_${prefix}_${++placeholderSeq}`;
}
