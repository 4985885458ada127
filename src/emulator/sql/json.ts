/**
 * Snowflake's semi-structured access (`v:a.b[0]`, GET, GET_PATH) as DuckDB
 * JSON functions, and the comparisons where a JSON side must be read as a
 * scalar the way Snowflake compares a VARIANT with a literal.
 */
import { refuse } from './errors.ts';
import { cast, fn, literalKind, type Node } from './ast.ts';

const jsonArgs = new WeakMap<object, Node[]>();


function markJson(n: Node, args: Node[]): Node {
  jsonArgs.set(n, args);
  return n;
}

export function jsonExtract(base: Node, path: Node): Node {
  return markJson(fn('json_extract', base, path), [base, path]);
}

/** True when the node is a JSON (semi-structured) extraction we produced. */
export function isJsonExtract(n: Node): boolean {
  return n !== null && typeof n === 'object' && jsonArgs.has(n);
}

/** The extraction as text (json_extract_string), for casts and comparisons. */
export function asJsonText(n: Node): Node {
  return fn('json_extract_string', ...jsonArgs.get(n)!);
}

/** Snowflake JSON path (`a.b[0]`, `"odd key".c`) → DuckDB JSONPath (`$.a.b[0]`). */
export function jsonPath(path: string): string {
  let out = '$';
  let i = 0;
  while (i < path.length) {
    const c = path[i]!;
    if (c === '.') {
      i++;
      continue;
    }
    if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) refuse(`JSON path ${path}`);
      const inner = path.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) out += `[${inner}]`;
      else out += `."${inner.replace(/^['"]|['"]$/g, '')}"`;
      i = close + 1;
      continue;
    }
    if (c === '"') {
      const close = path.indexOf('"', i + 1);
      if (close < 0) refuse(`JSON path ${path}`);
      out += `."${path.slice(i + 1, close)}"`;
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    out += `.${path.slice(i, j)}`;
    i = j;
  }
  return out;
}

/** Comparison/LIKE operators where a JSON side must be compared as a scalar. */
export const COMPARISONS = new Set(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'i_like', 'ilike']);

export function scalarSide(json: Node, other: Node): Node {
  const k = literalKind(other);
  if (k === 'number') return cast(asJsonText(json), 'DOUBLE');
  if (k === 'boolean') return cast(asJsonText(json), 'BOOLEAN');
  return asJsonText(json);
}
