/**
 * Function calls whose DuckDB spelling or meaning differs from Snowflake's:
 * the refused ones, the session-context ones, semi-structured constructors
 * and accessors; date and time functions are in `dates.ts`.
 */
import { refuse } from './errors.ts';
import { fn, ident, literalKind, literalString, str, tpl, type Node } from './ast.ts';
import { rewriteDateTimeFunction } from './dates.ts';
import { jsonExtract, jsonPath } from './json.ts';
import { identifierColumn } from './sources.ts';
import type { RewriteState } from './types.ts';

/** Functions that are refused because DuckDB has no faithful equivalent. */
export const REFUSED_FUNCTIONS: ReadonlySet<string> = new Set([
  'flatten',
  'result_scan',
  'random',
  'uniform',
  'normal',
  'randstr',
  'seq1',
  'seq2',
  'seq4',
  'seq8',
  'hash',
  'hash_agg',
  'object_agg',
  'approx_count_distinct',
  'hll',
  'convert_timezone',
  'last_query_id',
  'current_session',
  'current_account',
  'current_region',
  'current_client',
  'current_statement',
  'to_number',
  'to_decimal',
  'to_numeric',
  'try_to_number',
  'try_to_decimal',
  'try_to_numeric',
  'strtok_to_array',
  'array_contains',
  'array_cat',
  'array_append',
  'array_slice',
  'object_keys',
  'object_insert',
  'object_delete',
  'typeof',
  'is_array',
  'is_object',
  'as_varchar',
  'as_number',
  'check_json',
  'xmlget',
  'parse_xml',
  'trunc',
  'truncate',
  'ratio_to_report',
]);

/** A function call (its arguments already rewritten) as DuckDB would compute it the Snowflake way. */
export function rewriteFunction(f: Node, st: RewriteState): Node {
  const name = String(f.name).toLowerCase();
  const args: Node[] = f.args ?? [];
  if (REFUSED_FUNCTIONS.has(name) || name.startsWith('system$')) refuse(`function ${name.toUpperCase()}`);
  const dateTime = rewriteDateTimeFunction(name, args);
  if (dateTime !== undefined) return dateTime;
  switch (name) {
    case 'current_database':
      return str(st.ctx.database);
    case 'current_schema':
      return str(st.ctx.schema);
    case 'current_user':
    case 'current_role':
    case 'current_warehouse': {
      const v = name === 'current_user' ? st.ctx.user : name === 'current_role' ? st.ctx.role : st.ctx.warehouse;
      if (v === undefined) refuse(`${name.toUpperCase()}() (the session does not know it)`);
      return str(v);
    }
    case 'array_size':
      return tpl('json_array_length(CAST(__A0 AS JSON))', args[0]);
    case 'array_construct':
      return args.length === 0 ? tpl("CAST('[]' AS JSON)") : fn('json_array', ...args);
    case 'object_construct':
    case 'object_construct_keep_null':
      return objectConstruct(args, name === 'object_construct_keep_null', st);
    case 'identifier':
      return identifierColumn(args);
    case 'generator':
      return refuse('GENERATOR outside FROM TABLE(…)');
    case 'parse_json':
      return tpl('CAST(__A0 AS JSON)', args[0]);
    case 'try_parse_json':
      return tpl('CASE WHEN json_valid(__A0) THEN CAST(__A0 AS JSON) END', args[0]);
    case 'to_variant':
    case 'to_json':
      return fn('to_json', args[0]);
    case 'split':
      return tpl('to_json(string_split(__A0, __A1))', args[0], args[1]);
    case 'get_path': {
      const p = literalString(args[1]);
      if (p === undefined) refuse('GET_PATH with a non-literal path');
      return jsonExtract(args[0], str(jsonPath(p)));
    }
    case 'get': {
      const k = literalString(args[1]);
      if (k !== undefined) return jsonExtract(args[0], str(`$."${k}"`));
      if (literalKind(args[1]) === 'number') return jsonExtract(args[0], args[1]);
      return refuse('GET with a non-literal key');
    }
    default:
      return { function: { ...f, args } };
  }
}

/** OBJECT_CONSTRUCT drops keys whose value is NULL; json_object keeps them, so filter when needed. */
function objectConstruct(args: Node[], keepNull: boolean, st: RewriteState): Node {
  if (args.some((a) => a?.star !== undefined)) return objectConstructStar(args, keepNull, st);
  if (args.length % 2 !== 0) refuse('OBJECT_CONSTRUCT with an odd number of arguments');
  if (args.length === 0) return tpl("CAST('{}' AS JSON)");
  const values = args.filter((_, i) => i % 2 === 1);
  const mayBeNull = values.some((v) => {
    const k = literalKind(v);
    return k === undefined || k === 'null';
  });
  if (keepNull || !mayBeNull) return fn('json_object', ...args);
  // Filter NULL values out: build a MAP of the non-null pairs, then JSON.
  const pairs: string[] = [];
  for (let i = 0; i < args.length; i += 2) pairs.push(`{'k': __A${i}, 'v': to_json(__A${i + 1})}`);
  return tpl(
    `CAST(COALESCE(to_json(map_from_entries(list_filter([${pairs.join(', ')}], e -> e.v IS NOT NULL))), '{}') AS JSON)`,
    ...args,
  );
}

/**
 * `OBJECT_CONSTRUCT(*)` / `OBJECT_CONSTRUCT(c.*)`: one key per column of the
 * innermost SELECT's sources (or of `c`). DuckDB reads a source's name as a
 * STRUCT of its row, so `to_json("C")` is the object; `json_merge_patch` onto
 * `{}` drops its NULL members the way OBJECT_CONSTRUCT does (also NULL members
 * of nested objects, which Snowflake keeps: a documented difference).
 */
function objectConstructStar(args: Node[], keepNull: boolean, st: RewriteState): Node {
  if (args.length !== 1) refuse('OBJECT_CONSTRUCT with * and other arguments');
  const star = args[0].star;
  if (star.except || star.replace || star.rename) refuse('OBJECT_CONSTRUCT(* EXCLUDE/REPLACE/RENAME)');
  const scope = st.scopes?.[st.scopes.length - 1];
  let names: (string | null)[];
  if (star.table) names = [star.table.quoted ? star.table.name : String(star.table.name).toUpperCase()];
  else if (scope && scope.length > 0) names = scope;
  else refuse('OBJECT_CONSTRUCT(*) without a FROM clause');
  if (names.some((n) => n === null)) refuse('OBJECT_CONSTRUCT(*) over a source without a name');
  const rows = names.map((n) => tpl('to_json(__A0)', { column: { name: ident(n!), table: null, join_mark: false } }));
  if (keepNull) {
    if (rows.length !== 1) refuse('OBJECT_CONSTRUCT_KEEP_NULL(*) over several sources');
    return tpl('CAST(__A0 AS JSON)', rows[0]);
  }
  return rows.reduce((acc: Node, row: Node) => tpl('json_merge_patch(__A0, __A1)', acc, row), tpl("CAST('{}' AS JSON)"));
}
