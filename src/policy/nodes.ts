/**
 * Reading node-sql-parser's tree: node shapes, names of tables, columns and
 * functions, CTE keys, literal arguments. Pure; no walking here (walker.ts).
 */
import { joinName, resolveParts, up, type Defaults } from './names.ts';

/** A parser tree node. */
export type Node = Record<string, unknown>;
/** True for a node (an object that is not an array). */
export const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

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

/**
 * The table a `TABLE('…')` / `IDENTIFIER('…')` string names, best effort, for
 * the reviewer's information only: the statement stays incomplete, because
 * Snowflake's resolution of the string (quoting, case, session variables) is
 * not Airlock's to guess.
 */
export function tableNamedByString(text: string, defaults: Defaults): string | undefined {
  const parts = text.trim().split('.').map((p) => p.trim().replace(/^"(.*)"$/s, '$1'));
  if (parts.length === 0 || parts.length > 3 || parts.some((p) => p === '')) return undefined;
  return resolveParts(parts, defaults);
}

/** The text of a string literal node (`'x'`, `$$x$$`), if it is one. */
export function literalText(node: unknown): string | undefined {
  if (!isNode(node)) return undefined;
  if ((node.type === 'single_quote_string' || node.type === 'string') && typeof node.value === 'string') return node.value;
  if (node.type === 'var' && node.prefix === '$$' && typeof node.name === 'string') return node.name;
  return undefined;
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

/** The name a column node holds, plain or wrapped in an expression. */
export function columnName(column: unknown): string | undefined {
  if (typeof column === 'string') return column;
  if (isNode(column) && isNode(column.expr) && typeof column.expr.value === 'string') return column.expr.value;
  return undefined;
}

/**
 * Upper-case name of a function node; a qualified call keeps its qualifiers
 * (`INFORMATION_SCHEMA.QUERY_HISTORY`, `MYDB.UTIL.UPPER`), so it is never taken
 * for the built-in of the same last name.
 */
export function functionName(name: unknown): string | undefined {
  if (typeof name === 'string') return up(name);
  if (isNode(name) && Array.isArray(name.name)) {
    const qualifiers = [name.db, name.schema].filter(isNode).map((q) => q.value);
    const parts = [...qualifiers, ...name.name.map((p) => (isNode(p) ? p.value : undefined))];
    if (parts.every((p): p is string => typeof p === 'string')) return up(parts.join('.'));
  }
  return undefined;
}

const argList = (fn: Node): unknown[] => (isNode(fn.args) && Array.isArray(fn.args.value) ? fn.args.value : []);
/** The first argument of a function node. */
export const firstArg = (fn: Node): unknown => argList(fn)[0];
/** How many arguments a function node has. */
export const argCount = (fn: Node): number => argList(fn).length;

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

/** Whether a SELECT node has LIMIT or TOP. */
export const hasLimitClause = (ast: Node): boolean =>
  (isNode(ast.limit) && Array.isArray(ast.limit.value) && ast.limit.value.length > 0) || Boolean(ast.top);
