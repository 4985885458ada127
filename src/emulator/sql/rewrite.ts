/**
 * Rewrites of the polyglot (sqlglot-style) AST of one Snowflake statement so
 * that polyglot's DuckDB generator prints SQL with Snowflake semantics. This
 * file is the walk; what it does at each kind of node lives beside it:
 * `sources.ts` (FROM items, table names), `functions.ts` and `dates.ts`
 * (function calls), `json.ts` (semi-structured access), `ast.ts` (the nodes
 * the rewrite injects and how they print).
 */
import { refuse } from './errors.ts';
import { fn, foldIdent, ident, isIdentifier, isTableRef, literalKind, literalString, markDate, placeholderName, str, tpl, typeNode, type Node } from './ast.ts';
import { datePart } from './dates.ts';
import { rewriteFunction } from './functions.ts';
import { asJsonText, COMPARISONS, isJsonExtract, jsonExtract, jsonPath, scalarSide } from './json.ts';
import { qualifyTable, sourceName, tableLiteral } from './sources.ts';
import { dataTypeName, duckType } from './type-map.ts';
import type { RewriteState } from './types.ts';

/** Rewrite a SELECT: table literals in FROM/JOIN first, then everything with its sources in scope. */
function rewriteSelect(d: Node, st: RewriteState): Node {
  const sel: Node = { ...d };
  if (sel.from?.expressions) sel.from = { ...sel.from, expressions: sel.from.expressions.map((e: Node) => tableLiteral(e, st)) };
  if (Array.isArray(sel.joins)) sel.joins = sel.joins.map((j: Node) => ({ ...j, this: tableLiteral(j.this, st) }));
  // An unaliased derived table gets a name no query can write, so OBJECT_CONSTRUCT(*) can read its row.
  if (sel.from?.expressions) {
    sel.from.expressions = sel.from.expressions.map((e: Node) =>
      e?.subquery && !e.subquery.alias ? { subquery: { ...e.subquery, alias: ident(placeholderName('SUBQUERY')) } } : e,
    );
  }
  const names = [...(sel.from?.expressions ?? []), ...(sel.joins ?? []).map((j: Node) => j.this)].map(sourceName);
  (st.scopes ??= []).push(names);
  try {
    return { select: rewriteObject(sel, st) };
  } finally {
    st.scopes.pop();
  }
}

/** Rewrite one value of the AST (node, array or scalar). */
export function rewrite(v: Node, st: RewriteState): Node {
  if (Array.isArray(v)) return v.map((x) => rewrite(x, st));
  if (v === null || typeof v !== 'object') return v;
  if (isIdentifier(v)) return foldIdent(v);
  if (typeof v.data_type === 'string') return typeNode(duckType(dataTypeName(v)));
  if (isTableRef(v)) {
    const out: Node = {};
    for (const [k, val] of Object.entries(v)) out[k] = k === 'name' || k === 'schema' || k === 'catalog' ? val : rewrite(val, st);
    return qualifyTable(out, st);
  }
  const keys = Object.keys(v);
  if (keys.length === 1) {
    const out = rewriteKind(keys[0]!, v, st);
    if (out !== undefined) return out;
  }
  return rewriteObject(v, st);
}

/** A one-key node `{kind: d}` whose kind needs more than a plain walk; undefined for the rest. */
function rewriteKind(kind: string, v: Node, st: RewriteState): Node | undefined {
  const d = v[kind];
  switch (kind) {
    case 'select':
      return rewriteSelect(d, st);
    case 'function':
      return rewriteFunction({ ...d, args: rewrite(d.args ?? [], st) }, st);
    case 'j_s_o_n_extract': {
      const base = rewrite(d.this, st);
      const p = literalString(d.expression);
      if (p === undefined) refuse('JSON path access with a non-literal path');
      return jsonExtract(base, str(jsonPath(p)));
    }
    case 'subscript': {
      const base = rewrite(d.this, st);
      const idx = rewrite(d.index, st);
      const k = literalString(idx);
      if (k !== undefined) return jsonExtract(base, str(`$."${k}"`));
      if (literalKind(idx) === 'number') return jsonExtract(base, str(`$[${idx.literal.value}]`));
      return jsonExtract(base, tpl("'$[' || CAST(__A0 AS VARCHAR) || ']'", idx));
    }
    case 'cast':
    case 'try_cast':
      return rewriteCast(kind, d, st);
    case 'div': {
      const l = rewrite(d.left, st);
      const r = rewrite(d.right, st);
      return tpl("CASE WHEN __A1 = 0 THEN error('Division by zero') ELSE __A0 / __A1 END", l, r);
    }
    case 'date_diff': {
      const unit = String(d.unit ?? 'day');
      return fn('date_diff', str(datePart(unit)), rewrite(d.expression, st), rewrite(d.this, st));
    }
    case 'array_size':
      return tpl('json_array_length(CAST(__A0 AS JSON))', rewrite(d.this, st));
    case 'parse_json':
      return tpl('CAST(__A0 AS JSON)', rewrite(d.this, st));
    case 'array_agg': {
      // Snowflake's ARRAY_AGG skips NULLs and gives [] over no rows; DuckDB's list keeps NULLs and gives NULL.
      if (d.filter != null || (d.order_by ?? []).length > 0) refuse('ARRAY_AGG with FILTER or ORDER BY');
      const x = rewrite(d.this, st);
      return tpl(`COALESCE(to_json(list(${d.distinct ? 'DISTINCT ' : ''}__A0) FILTER (WHERE __A0 IS NOT NULL)), '[]')`, x);
    }
    case 'within_group':
    case 'window_function':
      if (d?.this?.array_agg) refuse(kind === 'within_group' ? 'ARRAY_AGG … WITHIN GROUP' : 'ARRAY_AGG as a window function');
      return rewriteObject(v, st);
    case 'list_agg': {
      const out = rewriteObject(d, st);
      if (out.separator == null) out.separator = str('');
      return { list_agg: out };
    }
    case 'match_recognize':
      return refuse('MATCH_RECOGNIZE');
    case 'pivot':
    case 'unpivot':
      return refuse(kind.toUpperCase());
    case 'lateral_view':
      return refuse('LATERAL');
    default:
      return COMPARISONS.has(kind) && d && typeof d === 'object' && 'left' in d && 'right' in d ? rewriteComparison(kind, d, st) : undefined;
  }
}

/** `CAST`/`TRY_CAST` (and `::`): a JSON side is read as text first; `::VARIANT` wraps the value. */
function rewriteCast(kind: 'cast' | 'try_cast', d: Node, st: RewriteState): Node {
  const inner = rewrite(d.this, st);
  const target = duckType(dataTypeName(d.to));
  let out: Node;
  if (isJsonExtract(inner) && target !== 'JSON') {
    const text = asJsonText(inner);
    out = target === 'VARCHAR' ? text : tpl(`${kind === 'cast' ? 'CAST' : 'TRY_CAST'}(__A0 AS ${target})`, text);
  } else if (target === 'JSON') {
    // Snowflake's ::VARIANT wraps the value ('x'::variant is the JSON string "x"); it does not parse text.
    out = isJsonExtract(inner) ? inner : fn('to_json', inner);
  } else {
    out = tpl(`${kind === 'cast' ? 'CAST' : 'TRY_CAST'}(__A0 AS ${target})`, inner);
  }
  if (target === 'DATE') markDate(out);
  return out;
}

/** A comparison or LIKE where one side may be a JSON extraction compared with a literal. */
function rewriteComparison(kind: string, d: Node, st: RewriteState): Node {
  let left = rewrite(d.left, st);
  let right = rewrite(d.right, st);
  if (isJsonExtract(left) && !isJsonExtract(right) && literalKind(right) !== undefined) left = scalarSide(left, right);
  else if (isJsonExtract(right) && !isJsonExtract(left) && literalKind(left) !== undefined) right = scalarSide(right, left);
  else if (isJsonExtract(left) && (kind === 'like' || kind === 'i_like' || kind === 'ilike')) left = asJsonText(left);
  return { [kind]: { ...rewriteObject(d, st), left, right } };
}

function rewriteObject(v: Node, st: RewriteState): Node {
  const out: Node = {};
  for (const [k, val] of Object.entries(v)) out[k] = rewrite(val, st);
  return out;
}

/** Names (folded) of every CTE defined anywhere in the statement. */
export function collectCtes(ast: Node): Set<string> {
  const out = new Set<string>();
  const visit = (v: Node): void => {
    if (Array.isArray(v)) {
      v.forEach(visit);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v.ctes)) {
      for (const c of v.ctes) {
        const a = c?.alias;
        if (a && typeof a.name === 'string') out.add(a.quoted ? a.name : a.name.toUpperCase());
      }
    }
    for (const val of Object.values(v)) visit(val);
  };
  visit(ast);
  return out;
}
