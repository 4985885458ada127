/**
 * Column lineage: for each output column of a SELECT, the source columns it
 * derives from and how — through aliases, expressions, CASE, casts, CTEs,
 * subqueries, `SELECT *` and `t.*`. Pure (node-sql-parser only).
 *
 * The masking plan uses it: an output that *is* a sensitive column gets that
 * column's strategy; one *derived* from a sensitive column through an
 * expression is redacted whole (a partial of a concatenation means nothing);
 * `count(ssn)` reveals no value and stays. Where lineage is unknown, value
 * detectors decide.
 */
import sqlParser from 'node-sql-parser';
import { columnRefOf, cteKey, isStackOverflow, tableRefKey, joinName, parserText, tableNameOf, type Defaults } from '../policy/facts.ts';
import { HARMLESS_TABLE_FUNCTIONS } from '../policy/functions.ts';
import { lex } from '../policy/lexer.ts';

const parser = new sqlParser.Parser();

export type LineageKind =
  /** The output is the source column's value (alias, `min`/`max`/`any_value` of it). */
  | 'direct'
  /** Computed from the sources (functions, operators, CASE, casts, string aggregates). */
  | 'derived'
  /** A count: reveals no value. */
  | 'count'
  /** No column feeds it (a literal). */
  | 'constant';

export interface OutputLineage {
  /** Output name as the warehouse reports it (upper case unless quoted), when the AST knows it. */
  name?: string;
  kind: LineageKind;
  /** Source columns, DATABASE.SCHEMA.TABLE.COLUMN. */
  sources: string[];
}

export interface SelectLineage {
  /** One entry per select-list item; `star` entries expand to the columns of their tables by name. */
  items: Array<OutputLineage | { star: string[]; except: string[] }>;
  /** False when the statement is not one plain SELECT the analysis understood. */
  complete: boolean;
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const up = (s: string) => s.toUpperCase();

/** Aggregates whose result is one of the input values. */
const VALUE_AGGREGATES = new Set(['MIN', 'MAX', 'ANY_VALUE', 'MODE', 'FIRST_VALUE', 'LAST_VALUE', 'NTH_VALUE', 'MIN_BY', 'MAX_BY']);

interface Source {
  alias: string;
  table?: string;
  /** A CTE or subquery: its outputs by name. */
  outputs?: Map<string, OutputLineage>;
  /** Its outputs in order (for `*` over a derived table). */
  ordered?: OutputLineage[];
}

interface Scope {
  sources: Source[];
  ctes: Map<string, OutputLineage[]>;
  parent?: Scope;
}

class Tracer {
  complete = true;
  constructor(private readonly defaults: Defaults) {}

  tableName(item: Node): string {
    return tableNameOf(item, this.defaults)!;
  }

  cte(scope: Scope | undefined, name: string): OutputLineage[] | undefined {
    for (let s = scope; s; s = s.parent) {
      const hit = s.ctes.get(name);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Lineage of a column reference: the base column, or what a derived table's output derives from. */
  column(qualifier: string | undefined, col: string, scope: Scope): OutputLineage[] {
    const fromSource = (src: Source): OutputLineage | undefined => {
      if (src.table) return { kind: 'direct', sources: [`${src.table}.${joinName([col])}`] };
      const hit = src.outputs?.get(up(col));
      if (hit) return hit;
      const viaStar = starColumn(src, col);
      if (viaStar) return viaStar;
      // A derived table's column we cannot name: unknown lineage.
      this.complete = false;
      return undefined;
    };
    if (qualifier) {
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        const src = s.sources.find((x) => x.alias === qualifier) ?? s.sources.find((x) => x.table?.split('.').pop() === qualifier);
        if (src) return [fromSource(src)].filter((x): x is OutputLineage => x !== undefined);
      }
      this.complete = false;
      return [];
    }
    // Unqualified: the column is the nearest source's that has it, and inside a
    // subquery that may be an outer query's table (correlation). The tables'
    // columns are not known here, so every source of every enclosing scope may
    // own it (fail closed: all of them). A bare alias (`c::varchar`) is the whole row.
    const name = up(col);
    const found: OutputLineage[] = [];
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      for (const src of s.sources) {
        if (src.alias === name || src.table?.split('.').pop() === name) found.push(wholeRow(src));
        if (src.table) found.push({ kind: 'direct', sources: [`${src.table}.${joinName([col])}`] });
        else {
          const hit = src.outputs?.get(name) ?? starColumn(src, col);
          if (hit) found.push(hit);
        }
      }
    }
    // Nothing in scope can own it: unknown lineage.
    if (found.length === 0) this.complete = false;
    return found;
  }

  /** Lineage of an expression. */
  expr(node: unknown, scope: Scope): OutputLineage {
    if (!isNode(node)) return { kind: 'constant', sources: [] };
    if (isNode(node.ast)) {
      // A scalar subquery: whatever its single output derives from.
      const inner = this.query(node.ast, scope);
      const sources = inner.flatMap((o) => o.sources);
      return { kind: sources.length ? 'derived' : 'constant', sources };
    }
    if (node.type === 'column_ref') {
      const ref = columnRefOf(node);
      if (!ref) {
        this.complete = false;
        return { kind: 'derived', sources: [] };
      }
      const l = merge(this.column(ref.qualifier, ref.column, scope), true);
      // `profile:ssn` is a piece of the column, not the column.
      return ref.path && l.sources.length > 0 ? { ...l, kind: 'derived' } : l;
    }
    if (node.type === 'double_quote_string' && typeof node.value === 'string') return merge(this.column(undefined, node.value, scope), true);
    if (node.type === 'aggr_func' || node.type === 'function' || node.type === 'window_func') {
      const name = functionName(node.name);
      const args = collect(node.args).map((a) => this.expr(a, scope));
      const sources = [...new Set(args.flatMap((a) => a.sources))];
      if (name === 'COUNT' || name === 'COUNT_IF' || name === 'APPROX_COUNT_DISTINCT') return { kind: 'count', sources };
      if (VALUE_AGGREGATES.has(name ?? '') && args.length >= 1 && args[0]!.kind === 'direct' && args[0]!.sources.length > 0) {
        return { kind: 'direct', sources: args[0]!.sources };
      }
      return { kind: sources.length ? 'derived' : 'constant', sources };
    }
    // Operators, CASE, casts, interval, …: derived from every column inside.
    const parts: OutputLineage[] = [];
    for (const [key, value] of Object.entries(node)) {
      if (key === 'tableList' || key === 'columnList') continue;
      for (const v of Array.isArray(value) ? value : [value]) if (isNode(v)) parts.push(this.expr(v, scope));
    }
    const sources = [...new Set(parts.flatMap((p) => p.sources))];
    return { kind: sources.length ? 'derived' : 'constant', sources };
  }

  from(from: unknown, scope: Scope): void {
    if (!Array.isArray(from)) return;
    for (const item of from) {
      if (!isNode(item)) continue;
      // PIVOT / UNPIVOT rename and reshape columns: their outputs have unknown lineage.
      if (isNode(item.operator)) this.complete = false;
      const alias = typeof item.as === 'string' && item.as ? up(item.as) : undefined;
      if (isNode(item.expr) && isNode(item.expr.ast)) {
        const outs = this.query(item.expr.ast, scope);
        scope.sources.push({ alias: alias ?? '', outputs: byName(outs), ordered: outs });
      } else if (isNode(item.expr)) {
        // Table functions (FLATTEN …): their columns derive from the arguments. Any
        // other (`TABLE('CUSTOMERS')`, `IDENTIFIER(…)`, UDTFs) reads rows of unknown lineage.
        if (!isHarmlessTableFunction(item.expr)) this.complete = false;
        const l = this.expr(item.expr, scope);
        const derived: OutputLineage = { kind: l.sources.length ? 'derived' : 'constant', sources: l.sources };
        const outputs = new Map(['VALUE', 'KEY', 'PATH', 'INDEX', 'THIS', 'SEQ'].map((n) => [n, derived] as const));
        scope.sources.push({ alias: alias ?? '', outputs, ordered: [...outputs.values()] });
      } else if (typeof item.table === 'string') {
        const bare = !item.db && !item.schema;
        const cte = bare ? this.cte(scope, tableRefKey(item)) : undefined;
        if (cte) scope.sources.push({ alias: alias ?? up(item.table), outputs: byName(cte), ordered: cte });
        else {
          const table = this.tableName(item);
          scope.sources.push({ alias: alias ?? table.split('.').pop()!, table });
        }
      }
    }
  }

  /** Outputs of a SELECT (first branch of a UNION names them; later branches add sources). */
  query(ast: Node, parent: Scope | undefined): OutputLineage[] {
    if (ast.type !== 'select') {
      this.complete = false;
      return [];
    }
    const scope: Scope = { sources: [], ctes: new Map(), ...(parent ? { parent } : {}) };
    if (Array.isArray(ast.with)) {
      for (const cte of ast.with) {
        if (!isNode(cte) || !isNode(cte.name)) continue;
        const name = cteKey(cte.name) ?? up(String(cte.name.value));
        const stmt = isNode(cte.stmt) ? (isNode(cte.stmt.ast) ? cte.stmt.ast : cte.stmt) : undefined;
        scope.ctes.set(name, stmt ? this.query(stmt, scope) : []);
      }
    }
    this.from(ast.from, scope);
    const outs: OutputLineage[] = [];
    for (const item of Array.isArray(ast.columns) ? ast.columns : []) {
      if (!isNode(item)) continue;
      const e = item.expr;
      if (isNode(e) && e.type === 'column_ref' && e.column === '*') {
        const qualifier = typeof e.table === 'string' && e.table ? up(e.table) : undefined;
        const srcs = scope.sources.filter((s) => !qualifier || s.alias === qualifier || s.table?.split('.').pop() === qualifier);
        for (const src of srcs) {
          if (src.table) outs.push({ kind: 'direct', sources: [`${src.table}.*`] });
          else outs.push(...(src.ordered ?? []));
        }
        continue;
      }
      const l = this.expr(e, scope);
      const alias = typeof item.as === 'string' && item.as ? item.as : undefined;
      const plain = isNode(e) && e.type === 'column_ref' && typeof e.column === 'string' ? e.column : isNode(e) && e.type === 'double_quote_string' ? String(e.value) : undefined;
      const name = alias ?? plain;
      outs.push({ ...l, ...(name ? { name: up(name) } : {}) });
    }
    if (isNode(ast._next)) {
      const next = this.query(ast._next, parent);
      next.forEach((n, i) => {
        const o = outs[i];
        if (o) {
          o.sources = [...new Set([...o.sources, ...n.sources])];
          if (n.kind === 'derived' || (n.kind === 'direct' && o.kind !== 'direct' && o.kind !== 'derived')) o.kind = n.kind === 'derived' ? 'derived' : o.kind === 'constant' ? 'direct' : o.kind;
        }
      });
    }
    return outs;
  }
}

/** A source used as a value (`TO_JSON(c)`): every column of it, derived. */
function wholeRow(src: Source): OutputLineage {
  if (src.table) return { kind: 'derived', sources: [`${src.table}.*`] };
  return { kind: 'derived', sources: [...new Set((src.ordered ?? []).flatMap((o) => o.sources))] };
}

/** VALUES, GENERATOR, FLATTEN, SPLIT_TO_TABLE…, alone or in TABLE(…): rows from their arguments only. */
function isHarmlessTableFunction(e: Node): boolean {
  if (e.type === 'values' || e.type === 'generator' || e.type === 'flatten') return true;
  if (e.type !== 'function') return false;
  const name = functionName(e.name);
  if (name !== 'TABLE') return HARMLESS_TABLE_FUNCTIONS.has(name ?? '');
  const args = isNode(e.args) && Array.isArray(e.args.value) ? e.args.value : [];
  const inner = args[0];
  return args.length === 1 && isNode(inner) && (inner.type === 'generator' || ((inner.type === 'function' || inner.type === 'flatten') && HARMLESS_TABLE_FUNCTIONS.has(functionName(inner.name) ?? '')));
}

/** A column of a derived table that passes a base table through with `*`. */
function starColumn(src: Source, col: string): OutputLineage | undefined {
  const tables = (src.ordered ?? []).filter((o) => !o.name && o.sources.length === 1 && o.sources[0]!.endsWith('.*')).map((o) => o.sources[0]!.slice(0, -2));
  if (tables.length === 0) return undefined;
  return { kind: 'direct', sources: tables.map((t) => `${t}.${joinName([col])}`) };
}

/**
 * Match the select list to the result's columns (by position; a `*` takes as
 * many columns as are left for it, each named after its table's column).
 * Undefined entries have unknown lineage.
 */
export function alignLineage(lineage: SelectLineage, columns: readonly string[]): Array<OutputLineage | undefined> {
  if (!lineage.complete) return columns.map(() => undefined);
  const out: Array<OutputLineage | undefined> = [];
  const items = lineage.items;
  let col = 0;
  let starDone = false;
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!;
    if (!('star' in item)) {
      out.push(item);
      col++;
      continue;
    }
    // With several stars the split between them is unknown: the first takes all their
    // columns, each attributed to every star table (fail closed), the others take none.
    if (starDone) continue;
    starDone = true;
    const fixedAfter = items.slice(k + 1).filter((i) => !('star' in i)).length;
    const tables = items.filter((i): i is { star: string[]; except: string[] } => 'star' in i).flatMap((i) => i.star);
    const take = columns.length - col - fixedAfter;
    for (let n = 0; n < take; n++) {
      out.push({ kind: 'direct', sources: tables.map((t) => `${t}.${joinName([columns[col]!])}`), name: up(columns[col]!) });
      col++;
    }
  }
  if (out.length !== columns.length) return columns.map(() => undefined);
  return out;
}

function merge(list: OutputLineage[], direct: boolean): OutputLineage {
  if (list.length === 0) return { kind: 'derived', sources: [] };
  if (list.length === 1) return list[0]!;
  const sources = [...new Set(list.flatMap((l) => l.sources))];
  return { kind: direct && list.every((l) => l.kind === 'direct') ? 'direct' : 'derived', sources };
}

function byName(outs: OutputLineage[]): Map<string, OutputLineage> {
  const m = new Map<string, OutputLineage>();
  for (const o of outs) {
    if (o.name) m.set(o.name, o);
    // `*` over a base table inside a derived table: any name resolves to that table's column.
  }
  return m;
}

function collect(args: unknown): unknown[] {
  if (!isNode(args)) return [];
  if (Array.isArray(args.value)) return args.value;
  if ('expr' in args) return [args.expr];
  return Object.values(args);
}

function functionName(name: unknown): string | undefined {
  if (typeof name === 'string') return up(name);
  if (isNode(name) && Array.isArray(name.name)) {
    const qualifiers = [name.db, name.schema].filter(isNode).map((q) => String(q.value));
    return up([...qualifiers, ...name.name.map((p) => (isNode(p) ? String(p.value) : ''))].join('.'));
  }
  return undefined;
}

/**
 * Lineage of the select list of `sql` (one SELECT). `complete: false` when the
 * SQL is not a single SELECT the parser reads, or a reference could not be traced.
 */
export function selectLineage(sql: string, defaults: Defaults): SelectLineage {
  const lexed = lex(sql);
  if (lexed.error || lexed.statements.length !== 1) return { items: [], complete: false };
  let ast: unknown;
  try {
    ast = parser.astify(parserText(lexed.statements[0]!, sql), { database: 'snowflake' });
  } catch {
    return { items: [], complete: false };
  }
  const root = Array.isArray(ast) ? (ast.length === 1 ? ast[0] : undefined) : ast;
  if (!isNode(root) || root.type !== 'select') return { items: [], complete: false };
  const tracer = new Tracer(defaults);
  let outs: OutputLineage[];
  try {
    outs = tracer.query(root, undefined);
  } catch (e) {
    // Too deep to trace: unknown lineage, never a crash of the worker.
    if (isStackOverflow(e)) return { items: [], complete: false };
    throw e;
  }
  const items: SelectLineage['items'] = outs.map((o) => {
    const star = o.sources.length === 1 && o.sources[0]!.endsWith('.*') && o.kind === 'direct' && !o.name;
    return star ? { star: [o.sources[0]!.slice(0, -2)], except: [] } : o;
  });
  return { items, complete: tracer.complete };
}
