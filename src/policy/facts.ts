/**
 * AST facts for one statement: tables read and written (resolved to
 * DATABASE.SCHEMA.TABLE), columns referenced per table and in which clause,
 * `*` access, functions called, WHERE and LIMIT. Pure.
 *
 * node-sql-parser (DESIGN §4) parses most reads and simple writes; anything it
 * cannot parse, or whose tree has a shape this walker does not know, leaves
 * `complete: false` with the reason — the engine never allows such a statement.
 *
 * Names are compared upper-cased. The parser drops the quotes from "quoted"
 * identifiers, so `"Email"` and `EMAIL` look alike here; matching them as the
 * same name can only over-match, which fails closed.
 */
import sqlParser from 'node-sql-parser';
import type { Kind } from './classify.ts';
import { HARMLESS_TABLE_FUNCTIONS } from './functions.ts';
import type { LexedStatement } from './lexer.ts';

const parser = new sqlParser.Parser();

export type Clause = 'select' | 'from' | 'join' | 'where' | 'group_by' | 'having' | 'qualify' | 'order_by' | 'window' | 'limit' | 'set' | 'values' | 'other';

export interface ColumnAccess {
  /** DATABASE.SCHEMA.TABLE */
  table: string;
  column: string;
  clauses: Clause[];
}

export interface AstFacts {
  complete: boolean;
  /** Why the statement is not fully explained (empty when complete). */
  gaps: string[];
  reads: string[];
  writes: string[];
  columns: ColumnAccess[];
  /** Tables read through `*` or `t.*`. */
  stars: string[];
  /** Functions called, upper case (`LOWER`, `SYSTEM$WHOAMI`). */
  functions: string[];
  /** For UPDATE/DELETE: whether a WHERE clause is present; null when unknown or not applicable. */
  hasWhere: boolean | null;
  /** For reads: whether LIMIT/TOP bounds the outermost query; null when unknown. */
  hasLimit: boolean | null;
  /** True when the statement is nested deeper than Airlock analyses (SQL_TOO_COMPLEX). */
  tooComplex?: boolean;
}

/**
 * How deep the tree of one statement may nest (expressions, subqueries) before
 * Airlock stops: past it the statement is refused as SQL_TOO_COMPLEX instead of
 * risking the stack. Long flat lists (`IN (…)`, UNION branches) do not count.
 */
export const MAX_TREE_DEPTH = 1000;

/** Thrown inside the walk when the tree is deeper than {@link MAX_TREE_DEPTH}. */
export class TreeTooDeep extends Error {
  constructor() {
    super('the statement nests deeper than Airlock analyses');
    this.name = 'TreeTooDeep';
  }
}

/** A stack overflow (from the parser or a walk): the statement is too complex, never a crash. */
export const isStackOverflow = (e: unknown): boolean => e instanceof TreeTooDeep || (e instanceof RangeError && /call stack/i.test(e.message));

export interface Defaults {
  database: string;
  schema: string;
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Source {
  /** Upper-case name a column can be qualified with. */
  alias: string;
  /** Resolved table, or undefined for a CTE, subquery or table function. */
  table?: string;
  /** For a CTE or subquery: the base tables its select list passes through with `*`. */
  passthrough?: string[];
}

interface Scope {
  sources: Source[];
  /** CTE names in scope → the base tables each passes through with `*`. */
  ctes: Map<string, string[]>;
  parent?: Scope;
}

const up = (s: string) => s.toUpperCase();

/** One name part; quoted when it holds a dot or a quote, so a name always splits back into its parts. */
export const quotePart = (part: string): string => (/[."]/.test(part) ? `"${part.replace(/"/g, '""')}"` : part);
/** `DB.SCHEMA.TABLE[.COLUMN]` from parts (upper-cased: see the file comment). */
export const joinName = (parts: readonly string[]): string => parts.map((p) => quotePart(up(p))).join('.');
/** Split a name made by {@link joinName} back into its parts. */
export function splitName(name: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < name.length) {
    if (name[i] === '"') {
      let j = i + 1;
      let part = '';
      while (j < name.length) {
        if (name[j] === '"' && name[j + 1] === '"') {
          part += '"';
          j += 2;
        } else if (name[j] === '"') break;
        else part += name[j++];
      }
      parts.push(part);
      i = j + 2;
    } else {
      const dot = name.indexOf('.', i);
      const end = dot < 0 ? name.length : dot;
      parts.push(name.slice(i, end));
      i = end + 1;
    }
  }
  return parts;
}
const lastPart = (name: string) => splitName(name).pop()!;

/** DATABASE.SCHEMA.TABLE from one to three name parts (more: the last three), filled in from the defaults. */
export function resolveParts(parts: readonly string[], d: Defaults): string {
  if (parts.length >= 3) return joinName(parts.slice(-3));
  if (parts.length === 2) return joinName([d.database, parts[0]!, parts[1]!]);
  return joinName([d.database, d.schema, parts[0]!]);
}

/** Words the parser sometimes takes for a table alias: the statement then means something else. */
const KEYWORD_ALIASES = new Set([
  'NATURAL', 'LEFT', 'RIGHT', 'FULL', 'INNER', 'OUTER', 'CROSS', 'JOIN', 'ON', 'USING', 'WHERE', 'SAMPLE',
  'TABLESAMPLE', 'AT', 'BEFORE', 'CHANGES', 'MATCH_RECOGNIZE', 'PIVOT', 'UNPIVOT', 'LATERAL', 'ASOF', 'CONNECT',
  'START', 'GROUP', 'ORDER', 'LIMIT', 'QUALIFY', 'HAVING', 'UNION', 'EXCEPT', 'MINUS', 'INTERSECT', 'WINDOW',
]);

/** Keys of a parser FROM item the walker understands; any other non-empty key leaves the statement incomplete. */
const FROM_ITEM_KEYS = new Set(['db', 'schema', 'catalog', 'table', 'surround', 'as', 'expr', 'on', 'using', 'join', 'prefix', 'type', 'operator', 'tablesample']);

/**
 * The name a CTE is found by: exact for a quoted name (`"customers"`), upper
 * case for an unquoted one, as Snowflake resolves them.
 */
export function cteKey(name: unknown): string | undefined {
  if (!isNode(name) || typeof name.value !== 'string') return undefined;
  return name.type === 'double_quote_string' || name.type === 'backticks_quote_string' ? name.value : up(name.value);
}

/** The name a bare table reference looks a CTE up by: exact when quoted, upper case otherwise. */
export function tableRefKey(item: Record<string, unknown>): string {
  const table = String(item.table);
  const quoted = isNode(item.surround) && typeof item.surround.table === 'string' && item.surround.table !== '';
  return quoted ? table : up(table);
}

/** Kinds whose AST we walk; everything else stays incomplete unless the tokens explain it. */
const PARSED_KINDS = new Set<Kind>(['select', 'insert', 'update', 'delete', 'create', 'drop', 'truncate', 'alter']);

/**
 * Text for the parser: the statement's tokens with their original spelling,
 * comments replaced by a space, and `$$…$$` bodies turned into ordinary
 * single-quoted strings (node-sql-parser reads `$$x$$` as a variable).
 */
export function parserText(statement: LexedStatement, source: string): string {
  let out = '';
  let prevEnd = -1;
  for (const t of statement.tokens) {
    if (prevEnd >= 0 && t.start > prevEnd) out += ' ';
    const raw = source.slice(t.start, t.end);
    if (t.kind === 'string' && raw.startsWith('$$')) {
      out += `'${raw.slice(2, -2).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
    } else out += raw;
    prevEnd = t.end;
  }
  return out;
}

function parse(text: string, kind: Kind): Node | string {
  const grammars = kind === 'delete' ? ['snowflake', 'postgresql'] : ['snowflake'];
  let lastError = '';
  for (const database of grammars) {
    try {
      const ast = parser.astify(text, { database }) as unknown;
      const list = Array.isArray(ast) ? ast : [ast];
      if (list.length !== 1 || !isNode(list[0])) return 'the parser saw more than one statement';
      return list[0];
    } catch (e) {
      if (isStackOverflow(e)) throw new TreeTooDeep();
      lastError = e instanceof Error ? e.message.split('\n')[0]!.slice(0, 120) : 'parse error';
    }
  }
  return `the SQL parser could not read it (${lastError})`;
}

/**
 * The table a `TABLE('…')` / `IDENTIFIER('…')` string names, best effort, for
 * the reviewer's information only: the statement stays incomplete, because
 * Snowflake's resolution of the string (quoting, case, session variables) is
 * not Airlock's to guess.
 */
function tableNamedByString(text: string, defaults: Defaults): string | undefined {
  const parts = text.trim().split('.').map((p) => p.trim().replace(/^"(.*)"$/s, '$1'));
  if (parts.length === 0 || parts.length > 3 || parts.some((p) => p === '')) return undefined;
  if (parts.length === 3) return joinName(parts);
  if (parts.length === 2) return joinName([defaults.database, parts[0]!, parts[1]!]);
  return joinName([defaults.database, defaults.schema, parts[0]!]);
}

/** The text of a string literal node (`'x'`, `$$x$$`), if it is one. */
function literalText(node: unknown): string | undefined {
  if (!isNode(node)) return undefined;
  if ((node.type === 'single_quote_string' || node.type === 'string') && typeof node.value === 'string') return node.value;
  if (node.type === 'var' && node.prefix === '$$' && typeof node.name === 'string') return node.name;
  return undefined;
}

class Walker {
  readonly reads = new Set<string>();
  readonly writes = new Set<string>();
  readonly columns = new Map<string, ColumnAccess>();
  readonly stars = new Set<string>();
  readonly functions = new Set<string>();
  readonly gaps: string[] = [];
  private depth = 0;

  constructor(private readonly defaults: Defaults) {}

  /** Run `fn` one level deeper in the tree; past {@link MAX_TREE_DEPTH} the walk stops. */
  private deeper<T>(fn: () => T): T {
    if (++this.depth > MAX_TREE_DEPTH) throw new TreeTooDeep();
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  gap(why: string): void {
    if (!this.gaps.includes(why)) this.gaps.push(why);
  }

  /** DATABASE.SCHEMA.TABLE for a `{db, schema, table}` node; two-part names are SCHEMA.TABLE. */
  tableName(item: Node): string | undefined {
    return tableNameOf(item, this.defaults);
  }

  addColumn(table: string, column: string, clause: Clause): void {
    const key = `${table}.${quotePart(up(column))}`;
    const entry = this.columns.get(key);
    if (entry) {
      if (!entry.clauses.includes(clause)) entry.clauses.push(clause);
    } else this.columns.set(key, { table, column: up(column), clauses: [clause] });
  }

  /**
   * The sources a qualifier names, searching outward through scopes: every match
   * of the nearest scope that has one (names are compared upper-cased, so a
   * quoted `"customers"` CTE and the CUSTOMERS table both match: fail closed).
   */
  findSources(scope: Scope | undefined, qualifier: string): Source[] {
    for (let s = scope; s; s = s.parent) {
      const hits = s.sources.filter((src) => src.alias === qualifier);
      if (hits.length > 0) return hits;
      const byTable = s.sources.filter((src) => src.table && lastPart(src.table) === qualifier);
      if (byTable.length > 0) return byTable;
    }
    return [];
  }

  /** Record a column of `src` (or of the tables it passes through); returns the base tables a `*` reached. */
  private touch(src: Source, col: string, clause: Clause): string[] {
    const bases = src.table ? [src.table] : (src.passthrough ?? []);
    for (const t of bases) {
      if (col === '*') this.stars.add(t);
      else this.addColumn(t, col, clause);
    }
    return col === '*' ? bases : [];
  }

  /** Returns the base tables reached when the reference is a `*`. */
  columnRef(node: Node, scope: Scope, clause: Clause): string[] {
    const ref = columnRefOf(node);
    if (ref === undefined) {
      this.gap('a column reference of an unknown shape');
      return [];
    }
    const { column: col, qualifier } = ref;
    if (qualifier) {
      const srcs = this.findSources(scope, qualifier);
      if (srcs.length === 0) {
        this.gap(`the qualifier ${qualifier} names no table in scope`);
        return [];
      }
      return srcs.flatMap((src) => this.touch(src, col, clause));
    }
    if (col === '*') {
      // An unqualified `*` means the sources of the nearest scope that has any.
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        if (s.sources.length === 0) continue;
        return s.sources.flatMap((src) => this.touch(src, col, clause));
      }
      return [];
    }
    // Unqualified: Snowflake gives it to the nearest source that has such a column,
    // and inside a subquery that may be an outer query's table (correlation). Airlock
    // does not know the tables' columns, so it counts against every source of every
    // enclosing scope: over-approximation can only make a decision stricter.
    const name = up(col);
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      for (const src of s.sources) {
        this.touch(src, col, clause);
        // A bare table alias used as a value (`c::varchar`, `TO_JSON(c)`) is the whole row: `c.*`.
        if (src.alias === name || (src.table && lastPart(src.table) === name)) this.touch(src, '*', clause);
      }
    }
    return [];
  }

  expr(node: unknown, scope: Scope, clause: Clause): void {
    if (Array.isArray(node)) {
      for (const n of node) this.expr(n, scope, clause);
      return;
    }
    if (!isNode(node)) return;
    this.deeper(() => this.node(node, scope, clause));
  }

  private node(node: Node, scope: Scope, clause: Clause): void {
    if (isNode(node.ast)) {
      this.query(node.ast, scope);
      return;
    }
    switch (node.type) {
      case 'select':
        this.query(node, scope);
        return;
      case 'column_ref':
        this.columnRef(node, scope, clause);
        return;
      case 'double_quote_string':
        // In Snowflake "x" is always an identifier; the parser calls it a string.
        if (typeof node.value === 'string') this.columnRef({ column: node.value, table: null }, scope, clause);
        return;
      case 'var':
        // `$3` is the third column of the FROM: any column, so it counts as `*`.
        if (node.prefix === '$' && typeof node.name === 'string' && /^\d+$/.test(node.name)) {
          this.columnRef({ column: '*', table: null }, scope, clause);
          return;
        }
        break;
      case 'function':
      case 'aggr_func':
      case 'window_func':
      case 'flatten': {
        const name = functionName(node.name);
        if (name) this.functions.add(name);
        else this.gap('a function call of an unknown shape');
        if (name === 'IDENTIFIER' || name === 'TABLE') {
          // `IDENTIFIER('ssn')` as a value names a column by a string (in FROM, tableFunction handles both).
          this.gap(`${name}(…) names an object by a string Airlock does not resolve`);
          const text = literalText(firstArg(node));
          if (text && /^[A-Za-z_][A-Za-z0-9_$]*$/.test(text)) this.columnRef({ column: text, table: null }, scope, clause);
        }
        break;
      }
      default:
        break;
    }
    for (const [key, value] of Object.entries(node)) {
      if (key === 'name' || key === 'tableList' || key === 'columnList') continue;
      if (typeof value === 'object' && value !== null) this.expr(value, scope, clause);
    }
  }

  /**
   * A SELECT (and its UNION branches) in a new scope under `parent`. Returns the
   * base tables its select list passes through with `*`, so a column read
   * through this query as a derived table or CTE is traced to them.
   */
  query(ast: Node, parent: Scope | undefined): string[] {
    // UNION/EXCEPT branches are a chain in the tree: walk it as a loop, not a recursion.
    const passthrough = new Set<string>();
    for (let branch: Node | undefined = ast; branch; branch = isNode(branch._next) ? branch._next : undefined) {
      const b = branch;
      for (const t of this.deeper(() => this.branch(b, parent))) passthrough.add(t);
    }
    return [...passthrough];
  }

  /** One SELECT branch (without its `_next`). */
  private branch(ast: Node, parent: Scope | undefined): string[] {
    if (ast.type !== 'select') {
      this.gap(`a nested ${String(ast.type)} statement`);
      return [];
    }
    const scope: Scope = { sources: [], ctes: new Map(), ...(parent ? { parent } : {}) };
    if (Array.isArray(ast.with)) {
      for (const cte of ast.with) {
        if (!isNode(cte)) continue;
        const name = cteKey(cte.name);
        if (!name) {
          this.gap('a CTE without a readable name');
          continue;
        }
        // The body is walked before the name is in scope: inside its own body (a
        // recursive CTE too) the name is taken for the real table of that name,
        // which can only add reads (fail closed).
        const stmt = isNode(cte.stmt) ? (isNode(cte.stmt.ast) ? cte.stmt.ast : cte.stmt) : undefined;
        if (stmt) scope.ctes.set(name, this.query(stmt, scope));
        else this.gap(`the body of CTE ${name}`);
      }
    }
    this.from(ast.from, scope);
    const handled = new Set(['with', 'type', 'from', 'columns', 'where', 'groupby', 'having', 'qualify', 'orderby', 'limit', 'top', 'window', '_next', 'set_op', 'options', 'distinct', 'into']);
    const passthrough = new Set<string>();
    if (Array.isArray(ast.columns)) {
      for (const item of ast.columns) {
        const e = isNode(item) ? item.expr : undefined;
        if (isNode(e) && e.type === 'column_ref' && columnName(e.column) === '*') {
          for (const t of this.columnRef(e, scope, 'select')) passthrough.add(t);
        } else if (isNode(e) && e.type === 'var' && e.prefix === '$') {
          this.expr(e, scope, 'select');
          for (const src of scope.sources) for (const t of src.table ? [src.table] : (src.passthrough ?? [])) passthrough.add(t);
        } else this.expr(item, scope, 'select');
      }
    } else this.expr(ast.columns, scope, 'select');
    this.expr(ast.where, scope, 'where');
    this.expr(isNode(ast.groupby) ? ast.groupby.columns : ast.groupby, scope, 'group_by');
    this.expr(ast.having, scope, 'having');
    this.expr(ast.qualify, scope, 'qualify');
    this.expr(ast.orderby, scope, 'order_by');
    this.expr(ast.window, scope, 'window');
    this.expr(ast.limit, scope, 'limit');
    this.expr(ast.top, scope, 'limit');
    if (isNode(ast.into) && ast.into.position) this.gap('SELECT … INTO');
    for (const [key, value] of Object.entries(ast)) {
      if (!handled.has(key) && value !== null && typeof value === 'object') this.expr(value, scope, 'other');
    }
    return [...passthrough];
  }

  cte(scope: Scope | undefined, name: string): string[] | undefined {
    for (let s = scope; s; s = s.parent) {
      const hit = s.ctes.get(name);
      if (hit) return hit;
    }
    return undefined;
  }

  from(from: unknown, scope: Scope): void {
    if (from === null || from === undefined) return;
    if (!Array.isArray(from)) {
      this.gap('a FROM clause of an unknown shape');
      return;
    }
    for (const item of from) {
      if (!isNode(item)) continue;
      const alias = typeof item.as === 'string' && item.as ? up(item.as) : undefined;
      if (item.type === 'dual') continue;
      if (alias && KEYWORD_ALIASES.has(alias)) this.gap(`the parser took ${alias} for a table alias`);
      if (isNode(item.expr) && isNode(item.expr.ast)) {
        const passthrough = this.query(item.expr.ast, scope);
        scope.sources.push({ alias: alias ?? '', passthrough });
      } else if (isNode(item.expr)) {
        // Table functions: TABLE(FLATTEN(…)), LATERAL FLATTEN(…), VALUES (…).
        this.tableFunction(item.expr, scope);
        scope.sources.push({ alias: alias ?? '' });
      } else if (typeof item.table === 'string') {
        const bare = !item.db && !item.schema;
        const cte = bare ? this.cte(scope, tableRefKey(item)) : undefined;
        if (cte) {
          scope.sources.push({ alias: alias ?? up(item.table), passthrough: cte });
        } else {
          const table = this.tableName(item)!;
          this.reads.add(table);
          scope.sources.push({ alias: alias ?? lastPart(table), table });
        }
      } else {
        this.gap('a FROM item of an unknown shape');
        continue;
      }
      if (item.on) this.expr(item.on, scope, 'join');
      if (isNode(item.operator)) {
        // PIVOT / UNPIVOT: the columns they name are read; the output columns are renamed in ways Airlock does not track.
        this.expr(item.operator, scope, 'from');
        this.gap(`${String(item.operator.type ?? 'a FROM operator').toUpperCase()} reshapes the table in ways Airlock does not track`);
      }
      if (isNode(item.tablesample)) this.expr(item.tablesample, scope, 'other');
      for (const key of Object.keys(item)) {
        const value = item[key];
        const empty = value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
        if (!empty && !FROM_ITEM_KEYS.has(key)) this.gap(`a FROM item with ${key}, which Airlock does not analyse`);
      }
      if (Array.isArray(item.using)) {
        for (const u of item.using) {
          const col = columnName(u) ?? (isNode(u) && typeof u.value === 'string' ? u.value : undefined);
          if (col) for (const src of scope.sources) if (src.table) this.addColumn(src.table, col, 'join');
        }
      }
    }
  }

  /**
   * A FROM item that is not a table: `VALUES`, and table functions. Only the
   * ones whose rows come from their arguments (FLATTEN, GENERATOR,
   * SPLIT_TO_TABLE…) are understood; `TABLE('CUSTOMERS')`, `TABLE($$…$$)`,
   * `IDENTIFIER('…')` and any other table function (UDTFs, INFORMATION_SCHEMA
   * functions) read rows Airlock cannot name: the analysis is incomplete, and the
   * table a string seems to name counts as read whole, for the reviewer.
   */
  private tableFunction(e: Node, scope: Scope): void {
    const name = e.type === 'function' ? functionName(e.name) : undefined;
    if (name === 'TABLE' || name === 'IDENTIFIER') {
      this.functions.add(name);
      this.expr(e.args, scope, 'from');
    } else this.expr(e, scope, 'from');
    if (e.type === 'values' || e.type === 'generator' || e.type === 'flatten') return;
    const inner = name === 'TABLE' ? firstArg(e) : e;
    const innerName = isNode(inner) && (inner.type === 'function' || inner.type === 'flatten') ? functionName(inner.name) : isNode(inner) && inner.type === 'generator' ? 'GENERATOR' : undefined;
    if (innerName && HARMLESS_TABLE_FUNCTIONS.has(innerName) && (name !== 'TABLE' || argCount(e) === 1)) return;
    const text = literalText(inner) ?? (name === 'IDENTIFIER' ? literalText(firstArg(e)) : undefined);
    const table = text === undefined ? undefined : tableNamedByString(text, this.defaults);
    if (table) {
      this.reads.add(table);
      this.stars.add(table);
    }
    this.gap(`${name ?? 'a table function'}(…) in FROM reads rows Airlock cannot resolve to a known table${table ? ` (it may read ${table})` : ''}`);
  }

  /** Target tables of a write; they are also in scope for SET and WHERE. */
  targets(list: unknown, scope: Scope): void {
    const items = Array.isArray(list) ? list : [list];
    for (const item of items) {
      if (!isNode(item) || typeof item.table !== 'string') {
        this.gap('a target table of an unknown shape');
        continue;
      }
      const table = this.tableName(item)!;
      this.writes.add(table);
      const alias = typeof item.as === 'string' && item.as ? up(item.as) : lastPart(table);
      if (!scope.sources.some((s) => s.table === table && s.alias === alias)) scope.sources.push({ alias, table });
    }
  }
}

/**
 * The column a `column_ref` node reads and the qualifier naming its table. A
 * JSON path (`f.value:sku`, `items:a:b`) comes from the parser as
 * `{schema, table, column}` parts with `notations` [".", ":"]: the column is the
 * part before the first `:`, and the part before that (if any) qualifies it.
 */
export function columnRefOf(node: Record<string, unknown>): { column: string; qualifier?: string; path: boolean } | undefined {
  const col = columnName(node.column);
  if (col === undefined) return undefined;
  const notations = Array.isArray(node.notations) ? node.notations : [];
  const colon = notations.indexOf(':');
  if (colon < 0) {
    const qualifier = typeof node.table === 'string' && node.table ? up(node.table) : undefined;
    return { column: col, path: false, ...(qualifier ? { qualifier } : {}) };
  }
  const parts = [node.db, node.schema, node.table, col].filter((p): p is string => typeof p === 'string' && p !== '');
  if (parts.length !== notations.length + 1) return undefined;
  const qualifier = colon >= 1 ? parts[colon - 1] : undefined;
  return { column: parts[colon]!, path: true, ...(qualifier ? { qualifier: up(qualifier) } : {}) };
}

function columnName(column: unknown): string | undefined {
  if (typeof column === 'string') return column;
  if (isNode(column) && isNode(column.expr) && typeof column.expr.value === 'string') return column.expr.value;
  return undefined;
}

/**
 * Upper-case name of a function node; a qualified call keeps its qualifiers
 * (`INFORMATION_SCHEMA.QUERY_HISTORY`, `MYDB.UTIL.UPPER`), so it is never taken
 * for the built-in of the same last name.
 */
function functionName(name: unknown): string | undefined {
  if (typeof name === 'string') return up(name);
  if (isNode(name) && Array.isArray(name.name)) {
    const qualifiers = [name.db, name.schema].filter(isNode).map((q) => q.value);
    const parts = [...qualifiers, ...name.name.map((p) => (isNode(p) ? p.value : undefined))];
    if (parts.every((p): p is string => typeof p === 'string')) return up(parts.join('.'));
  }
  return undefined;
}

const argList = (fn: Node): unknown[] => (isNode(fn.args) && Array.isArray(fn.args.value) ? fn.args.value : []);
const firstArg = (fn: Node): unknown => argList(fn)[0];
const argCount = (fn: Node): number => argList(fn).length;

/** DATABASE.SCHEMA.TABLE of a parser table node (`{db, schema, table}`); two-part names are SCHEMA.TABLE. */
export function tableNameOf(item: Record<string, unknown>, defaults: Defaults): string | undefined {
  const table = typeof item.table === 'string' ? item.table : undefined;
  if (!table) return undefined;
  const db = typeof item.db === 'string' && item.db ? item.db : undefined;
  const schema = typeof item.schema === 'string' && item.schema ? item.schema : undefined;
  const catalog = typeof item.catalog === 'string' && item.catalog ? item.catalog : undefined;
  if (schema) return joinName([catalog ?? db ?? defaults.database, schema, table]);
  if (db) return joinName([defaults.database, db, table]);
  return joinName([defaults.database, defaults.schema, table]);
}

const hasLimitClause = (ast: Node): boolean =>
  (isNode(ast.limit) && Array.isArray(ast.limit.value) && ast.limit.value.length > 0) || Boolean(ast.top);

/** Analyse one statement's AST; `kind` comes from the lexer and must agree with the tree. */
export function astFacts(statement: LexedStatement, source: string, kind: Kind, defaults: Defaults): AstFacts {
  try {
    return walkStatement(statement, source, kind, defaults);
  } catch (e) {
    if (!isStackOverflow(e)) throw e;
    return {
      complete: false,
      gaps: [`the statement nests deeper than Airlock analyses (more than ${MAX_TREE_DEPTH} levels)`],
      reads: [],
      writes: [],
      columns: [],
      stars: [],
      functions: [],
      hasWhere: null,
      hasLimit: null,
      tooComplex: true,
    };
  }
}

function walkStatement(statement: LexedStatement, source: string, kind: Kind, defaults: Defaults): AstFacts {
  const w = new Walker(defaults);
  const result = (hasWhere: boolean | null, hasLimit: boolean | null): AstFacts => ({
    complete: w.gaps.length === 0,
    gaps: w.gaps,
    reads: [...w.reads],
    writes: [...w.writes],
    columns: [...w.columns.values()],
    stars: [...w.stars],
    functions: [...w.functions],
    hasWhere,
    hasLimit,
  });
  if (!PARSED_KINDS.has(kind)) {
    w.gap(`Airlock does not parse ${kind.toUpperCase()} statements`);
    return result(null, null);
  }
  const ast = parse(parserText(statement, source), kind);
  if (typeof ast === 'string') {
    w.gap(ast);
    return result(null, null);
  }
  if (ast.type !== kind) {
    w.gap(`the parser read a ${String(ast.type)} where the statement starts with ${kind.toUpperCase()}`);
    return result(null, null);
  }
  const root: Scope = { sources: [], ctes: new Map() };
  switch (kind) {
    case 'select':
      w.query(ast, undefined);
      return result(null, hasLimitClause(ast));
    case 'insert': {
      w.targets(ast.table, { sources: [], ctes: new Map() });
      const values = ast.values;
      if (isNode(values) && values.type === 'select') w.query(values, undefined);
      else if (isNode(values) && values.type === 'values') w.expr(values.values, root, 'values');
      else w.gap('INSERT without VALUES or SELECT');
      return result(null, null);
    }
    case 'update': {
      w.from(ast.from, root);
      w.targets(ast.table, root);
      if (Array.isArray(ast.set)) {
        for (const s of ast.set) if (isNode(s)) w.expr(s.value, root, 'set');
      } else w.gap('UPDATE without SET');
      w.expr(ast.where, root, 'where');
      return result(ast.where !== null && ast.where !== undefined, null);
    }
    case 'delete': {
      w.targets(ast.table, root);
      // The postgresql grammar repeats the target in `from`; other entries are USING tables.
      const others = Array.isArray(ast.from) ? ast.from.filter((f) => isNode(f) && !w.writes.has(w.tableName(f) ?? '')) : [];
      w.from(others, root);
      w.expr(ast.where, root, 'where');
      return result(ast.where !== null && ast.where !== undefined, null);
    }
    case 'create': {
      if (ast.keyword === 'table') {
        w.targets(ast.table, { sources: [], ctes: new Map() });
        if (isNode(ast.query_expr)) w.query(isNode(ast.query_expr.ast) ? ast.query_expr.ast : ast.query_expr, undefined);
      } else if (ast.keyword === 'view' && isNode(ast.view)) {
        const v = ast.view;
        w.targets([{ db: v.db, schema: v.schema, table: v.view }], { sources: [], ctes: new Map() });
        if (isNode(ast.select)) w.query(ast.select, undefined);
      } else w.gap(`CREATE ${String(ast.keyword).toUpperCase()}`);
      return result(null, null);
    }
    case 'drop':
    case 'truncate':
      w.targets(ast.name, { sources: [], ctes: new Map() });
      return result(null, null);
    case 'alter':
      w.targets(ast.table, { sources: [], ctes: new Map() });
      return result(null, null);
    default:
      w.gap(`Airlock does not parse ${String(kind).toUpperCase()} statements`);
      return result(null, null);
  }
}
