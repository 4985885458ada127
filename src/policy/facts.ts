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
import type { Kind } from './kinds.ts';
import type { LexedStatement } from './lexer.ts';
import type { Defaults } from './names.ts';
import { hasLimitClause, isNode, type Node } from './nodes.ts';
import { isStackOverflow, MAX_TREE_DEPTH, parse, parserText } from './parse.ts';
import { Walker, type ColumnAccess, type Scope } from './walker.ts';

// What masking/lineage.ts and the tests use, from the files that own it.
export { joinName, type Defaults } from './names.ts';
export { columnRefOf, cteKey, tableNameOf, tableRefKey } from './nodes.ts';
export { isStackOverflow, MAX_TREE_DEPTH, parserText } from './parse.ts';

/** What the tree of one statement says. */
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

/** Kinds whose AST we walk; everything else stays incomplete unless the tokens explain it. */
const PARSED_KINDS = new Set<Kind>(['select', 'insert', 'update', 'delete', 'create', 'drop', 'truncate', 'alter']);

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
  const { hasWhere, hasLimit } = walkTree(w, ast, kind);
  return result(hasWhere, hasLimit);
}

/** Walk a parsed statement of a kind in PARSED_KINDS; WHERE and LIMIT as {@link AstFacts} reports them. */
function walkTree(w: Walker, ast: Node, kind: Kind): { hasWhere: boolean | null; hasLimit: boolean | null } {
  const none = { hasWhere: null, hasLimit: null };
  const root: Scope = { sources: [], ctes: new Map() };
  switch (kind) {
    case 'select':
      w.query(ast, undefined);
      return { hasWhere: null, hasLimit: hasLimitClause(ast) };
    case 'insert': {
      w.targets(ast.table, { sources: [], ctes: new Map() });
      const values = ast.values;
      if (isNode(values) && values.type === 'select') w.query(values, undefined);
      else if (isNode(values) && values.type === 'values') w.expr(values.values, root, 'values');
      else w.gap('INSERT without VALUES or SELECT');
      return none;
    }
    case 'update': {
      w.from(ast.from, root);
      w.targets(ast.table, root);
      if (Array.isArray(ast.set)) {
        for (const s of ast.set) if (isNode(s)) w.expr(s.value, root, 'set');
      } else w.gap('UPDATE without SET');
      w.expr(ast.where, root, 'where');
      return { hasWhere: ast.where !== null && ast.where !== undefined, hasLimit: null };
    }
    case 'delete': {
      w.targets(ast.table, root);
      // The postgresql grammar repeats the target in `from`; other entries are USING tables.
      const others = Array.isArray(ast.from) ? ast.from.filter((f) => isNode(f) && !w.writes.has(w.tableName(f) ?? '')) : [];
      w.from(others, root);
      w.expr(ast.where, root, 'where');
      return { hasWhere: ast.where !== null && ast.where !== undefined, hasLimit: null };
    }
    case 'create':
      walkCreate(w, ast);
      return none;
    case 'drop':
    case 'truncate':
      w.targets(ast.name, { sources: [], ctes: new Map() });
      return none;
    case 'alter':
      w.targets(ast.table, { sources: [], ctes: new Map() });
      return none;
    default:
      w.gap(`Airlock does not parse ${String(kind).toUpperCase()} statements`);
      return none;
  }
}

/** CREATE TABLE [AS SELECT] and CREATE VIEW AS SELECT; any other CREATE is a gap. */
function walkCreate(w: Walker, ast: Node): void {
  if (ast.keyword === 'table') {
    w.targets(ast.table, { sources: [], ctes: new Map() });
    if (isNode(ast.query_expr)) w.query(isNode(ast.query_expr.ast) ? ast.query_expr.ast : ast.query_expr, undefined);
  } else if (ast.keyword === 'view' && isNode(ast.view)) {
    const v = ast.view;
    w.targets([{ db: v.db, schema: v.schema, table: v.view }], { sources: [], ctes: new Map() });
    if (isNode(ast.select)) w.query(ast.select, undefined);
  } else w.gap(`CREATE ${String(ast.keyword).toUpperCase()}`);
}
