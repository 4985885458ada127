/**
 * The walk over one statement's tree: tables read and written, columns per
 * table and clause, `*` access, functions called, and the gaps it could not
 * explain. Scopes follow SQL's: CTEs, derived tables, correlated subqueries.
 * Pure.
 */
import { HARMLESS_TABLE_FUNCTIONS } from './functions.ts';
import { lastPart, quotePart, up, type Defaults } from './names.ts';
import { argCount, columnName, columnRefOf, cteKey, firstArg, functionName, isNode, literalText, tableNameOf, tableNamedByString, tableRefKey, type Node } from './nodes.ts';
import { MAX_TREE_DEPTH, TreeTooDeep } from './parse.ts';

/** Where in a statement a column is used. */
export type Clause = 'select' | 'from' | 'join' | 'where' | 'group_by' | 'having' | 'qualify' | 'order_by' | 'window' | 'limit' | 'set' | 'values' | 'other';

/** One column a statement uses, and where. */
export interface ColumnAccess {
  /** DATABASE.SCHEMA.TABLE */
  table: string;
  column: string;
  clauses: Clause[];
}

interface Source {
  /** Upper-case name a column can be qualified with. */
  alias: string;
  /** Resolved table, or undefined for a CTE, subquery or table function. */
  table?: string;
  /** For a CTE or subquery: the base tables its select list passes through with `*`. */
  passthrough?: string[];
}

/** One level of names: a query's FROM sources and the CTEs it declares. */
export interface Scope {
  sources: Source[];
  /** CTE names in scope → the base tables each passes through with `*`. */
  ctes: Map<string, string[]>;
  parent?: Scope;
}

/** Words the parser sometimes takes for a table alias: the statement then means something else. */
const KEYWORD_ALIASES = new Set([
  'NATURAL', 'LEFT', 'RIGHT', 'FULL', 'INNER', 'OUTER', 'CROSS', 'JOIN', 'ON', 'USING', 'WHERE', 'SAMPLE',
  'TABLESAMPLE', 'AT', 'BEFORE', 'CHANGES', 'MATCH_RECOGNIZE', 'PIVOT', 'UNPIVOT', 'LATERAL', 'ASOF', 'CONNECT',
  'START', 'GROUP', 'ORDER', 'LIMIT', 'QUALIFY', 'HAVING', 'UNION', 'EXCEPT', 'MINUS', 'INTERSECT', 'WINDOW',
]);

/** Keys of a parser FROM item the walker understands; any other non-empty key leaves the statement incomplete. */
const FROM_ITEM_KEYS = new Set(['db', 'schema', 'catalog', 'table', 'surround', 'as', 'expr', 'on', 'using', 'join', 'prefix', 'type', 'operator', 'tablesample']);

/** Collects the facts of one statement while walking its tree; `gaps` says what it could not explain. */
export class Walker {
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
