/**
 * Rewrites of the polyglot (sqlglot-style) AST of one Snowflake statement so
 * that polyglot's DuckDB generator prints SQL with Snowflake semantics:
 * identifiers folded and quoted, table names fully qualified, and the
 * functions whose DuckDB spelling or meaning differs replaced.
 *
 * The AST is polyglot's JSON form: every expression is a one-key object
 * (`{column: {...}}`, `{function: {name, args}}`, …).
 */
import { refuse, sfError, TranslateError } from './errors.ts';
import { isDateFormat, toStrftime } from './formats.ts';
import { tokenize } from './lexer.ts';
import { duckType } from './type-map.ts';
import type { SqlContext } from './types.ts';

/** A polyglot AST node (JSON object); shapes vary by node kind. */
// `any` on purpose: polyglot's AST is untyped JSON with dozens of node shapes.
export type Node = any;

/** Optional session facts the translator can use; all beyond SqlContext are optional. */
export interface TranslateContext extends SqlContext {
  user?: string;
  role?: string;
  warehouse?: string;
  /**
   * Column names of a table (upper case, in order), if the engine knows them.
   * Lets `columnOrigins` cover `SELECT *`; without it a star gives no origins.
   */
  columnsOf?(database: string, schema: string, table: string): string[] | undefined;
  /**
   * Declared Snowflake type per column of a table (same order as `columnsOf`)
   * where DuckDB's type does not tell it, e.g. `'TIMESTAMP_TZ'`; null elsewhere.
   */
  declaredTypesOf?(database: string, schema: string, table: string): (string | null)[] | undefined;
}

/** Per-statement state of a rewrite. */
export interface RewriteState {
  ctx: TranslateContext;
  /** CTE names (folded) visible anywhere in the statement. */
  ctes: Set<string>;
  /** Placeholder table name → SQL text of the subquery that replaces it. */
  placeholders: Map<string, string>;
  /** Placeholder table name → the table it samples (for columnOrigins). */
  placeholderOrigins: Map<string, { database: string; schema: string; table: string }>;
  /** Builds the SQL for an INFORMATION_SCHEMA view of a database. */
  infoSchema(database: string, view: string): string | undefined;
  /**
   * Names (folded alias or table name) of the FROM sources of each SELECT
   * being rewritten, innermost last; `null` for a source that has no name.
   * `OBJECT_CONSTRUCT(*)` expands over the innermost one.
   */
  scopes?: (string | null)[][];
}


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

const DATE_PARTS: Record<string, string> = {
  YEAR: 'year', YEARS: 'year', Y: 'year', YY: 'year', YYY: 'year', YYYY: 'year', YR: 'year', YRS: 'year',
  QUARTER: 'quarter', QUARTERS: 'quarter', Q: 'quarter', QTR: 'quarter', QTRS: 'quarter',
  MONTH: 'month', MONTHS: 'month', MM: 'month', MON: 'month', MONS: 'month',
  WEEK: 'week', WEEKS: 'week', W: 'week', WK: 'week', WEEKOFYEAR: 'week', WOY: 'week', WY: 'week',
  DAY: 'day', DAYS: 'day', D: 'day', DD: 'day', DAYOFMONTH: 'day',
  HOUR: 'hour', HOURS: 'hour', H: 'hour', HH: 'hour', HR: 'hour', HRS: 'hour',
  MINUTE: 'minute', MINUTES: 'minute', M: 'minute', MI: 'minute', MIN: 'minute', MINS: 'minute',
  SECOND: 'second', SECONDS: 'second', S: 'second', SEC: 'second', SECS: 'second',
  MILLISECOND: 'millisecond', MILLISECONDS: 'millisecond', MS: 'millisecond', MSEC: 'millisecond',
  MICROSECOND: 'microsecond', MICROSECONDS: 'microsecond', US: 'microsecond', USEC: 'microsecond',
};

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

const jsonArgs = new WeakMap<object, Node[]>();
const dateNodes = new WeakSet<object>();

/** An expression from DuckDB SQL text where `__A0`, `__A1`… stand for the argument nodes. */
function tpl(sql: string, ...args: Node[]): Node {
  let id = templateIds.get(sql);
  if (id === undefined) {
    id = templateTexts.length;
    templateTexts.push(sql);
    templateIds.set(sql, id);
  }
  return { function: { name: `__AIRLOCK_T${id}`, args, distinct: false, trailing_comments: [], use_bracket_syntax: false, no_parens: false, quoted: false } };
}

function fn(name: string, ...args: Node[]): Node {
  return tpl(`${name}(${args.map((_, i) => `__A${i}`).join(', ')})`, ...args);
}

function ident(name: string): Node {
  return { name, quoted: true, trailing_comments: [], span: null };
}

function str(value: string): Node {
  return { literal: { literal_type: 'string', value } };
}

/** A custom data type node that prints as a placeholder for a DuckDB type. */
function typeNode(duck: string): Node {
  let id = typeIds.get(duck);
  if (id === undefined) {
    id = typeTexts.length;
    typeTexts.push(duck);
    typeIds.set(duck, id);
  }
  return { data_type: 'custom', name: `AIRLOCK_TY_${id}` };
}

function cast(x: Node, duck: string): Node {
  const n = tpl(`CAST(__A0 AS ${duck})`, x);
  if (duck === 'DATE') dateNodes.add(n);
  return n;
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

function markJson(n: Node, args: Node[]): Node {
  jsonArgs.set(n, args);
  return n;
}

function jsonExtract(base: Node, path: Node): Node {
  return markJson(fn('json_extract', base, path), [base, path]);
}

/** True when the node is a JSON (semi-structured) extraction we produced. */
function isJsonExtract(n: Node): boolean {
  return n !== null && typeof n === 'object' && jsonArgs.has(n);
}

/** The extraction as text (json_extract_string), for casts and comparisons. */
function asJsonText(n: Node): Node {
  return fn('json_extract_string', ...jsonArgs.get(n)!);
}

/** Snowflake JSON path (`a.b[0]`, `"odd key".c`) → DuckDB JSONPath (`$.a.b[0]`). */
function jsonPath(path: string): string {
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

function literalString(n: Node): string | undefined {
  const l = n?.literal;
  if (l && (l.literal_type === 'string' || l.literal_type === 'dollar_string')) return String(l.value);
  return undefined;
}

function literalKind(n: Node): 'string' | 'number' | 'boolean' | 'null' | undefined {
  if (n?.literal) return n.literal.literal_type === 'number' ? 'number' : 'string';
  if (n?.boolean) return 'boolean';
  if (n?.null !== undefined && Object.keys(n).length === 1) return 'null';
  if (n?.neg) return literalKind(n.neg.this);
  return undefined;
}

/** Date part from a DATEADD/DATEDIFF first argument (`day`, `'day'`, `"DAY"`). */
function datePart(n: Node): string {
  const raw: string | undefined =
    n?.var?.this ?? literalString(n) ?? n?.column?.name?.name ?? n?.identifier?.name ?? (typeof n === 'string' ? n : undefined);
  const part = raw === undefined ? undefined : DATE_PARTS[raw.toUpperCase()];
  if (part === undefined) refuse(`date part ${raw ?? JSON.stringify(n).slice(0, 40)}`);
  return part;
}

/** Best-effort: is this expression a DATE (not a timestamp)? */
function isDateTyped(n: Node): boolean {
  return n !== null && typeof n === 'object' && dateNodes.has(n);
}

const INTERVAL_FN: Record<string, [string, number]> = {
  year: ['to_years', 1],
  quarter: ['to_months', 3],
  month: ['to_months', 1],
  week: ['to_weeks', 1],
  day: ['to_days', 1],
  hour: ['to_hours', 1],
  minute: ['to_minutes', 1],
  second: ['to_seconds', 1],
  millisecond: ['to_milliseconds', 1],
  microsecond: ['to_microseconds', 1],
};

function dateAdd(partNode: Node, n: Node, x: Node): Node {
  const part = datePart(partNode);
  const [toFn, mult] = INTERVAL_FN[part]!;
  const count = mult === 1 ? n : tpl(`__A0 * ${mult}`, n);
  const intType = ['year', 'quarter', 'month', 'week', 'day'].includes(part) ? 'INTEGER' : 'BIGINT';
  const sum = tpl(`__A0 + ${toFn}(CAST(__A1 AS ${intType}))`, x, count);
  const dateOnly = ['year', 'quarter', 'month', 'week', 'day'].includes(part) && isDateTyped(x);
  return dateOnly ? cast(sum, 'DATE') : sum;
}

function dateFormatArg(n: Node, fnName: string): string {
  const s = literalString(n);
  if (s === undefined) refuse(`${fnName.toUpperCase()} with a non-literal format`);
  if (s.toUpperCase() === 'AUTO') return '';
  return toStrftime(s);
}

// ---------------------------------------------------------------------------
// Function rewrites

function rewriteFunction(f: Node, st: RewriteState): Node {
  const name = String(f.name).toLowerCase();
  const args: Node[] = f.args ?? [];
  if (REFUSED_FUNCTIONS.has(name) || name.startsWith('system$')) refuse(`function ${name.toUpperCase()}`);
  const textOf = (x: Node): Node => (isJsonExtract(x) ? asJsonText(x) : x);
  switch (name) {
    case 'to_char':
    case 'to_varchar': {
      if (args.length === 1) return isJsonExtract(args[0]) ? asJsonText(args[0]) : cast(args[0], 'VARCHAR');
      const fmt = literalString(args[1]);
      if (fmt === undefined || !isDateFormat(fmt)) refuse(`${name.toUpperCase()} with a numeric or non-literal format`);
      return fn('strftime', args[0], str(toStrftime(fmt)));
    }
    case 'to_date':
    case 'date':
    case 'try_to_date': {
      const castFn = name === 'try_to_date' ? 'TRY_CAST' : 'CAST';
      const f2 = args.length === 1 ? '' : dateFormatArg(args[1], name);
      const p = name === 'try_to_date' ? 'try_strptime' : 'strptime';
      const out = f2 === '' ? tpl(`${castFn}(__A0 AS DATE)`, textOf(args[0])) : cast(fn(p, textOf(args[0]), str(f2)), 'DATE');
      dateNodes.add(out);
      return out;
    }
    case 'to_timestamp':
    case 'to_timestamp_ntz':
    case 'to_timestamp_ltz':
    case 'to_timestamp_tz':
    case 'try_to_timestamp':
    case 'try_to_timestamp_ntz':
    case 'try_to_timestamp_ltz':
    case 'try_to_timestamp_tz': {
      const target = /_(ltz|tz)$/.test(name) ? 'TIMESTAMPTZ' : 'TIMESTAMP';
      const tryIt = name.startsWith('try_');
      const castFn = tryIt ? 'TRY_CAST' : 'CAST';
      if (args.length === 1) {
        if (literalKind(args[0]) === 'number') {
          return cast(fn('make_timestamp', tpl('CAST(CAST(__A0 AS DOUBLE) * 1000000 AS BIGINT)', args[0])), target);
        }
        return tpl(`${castFn}(__A0 AS ${target})`, textOf(args[0]));
      }
      if (literalKind(args[1]) === 'number') refuse(`${name.toUpperCase()} with a scale argument`);
      const f2 = dateFormatArg(args[1], name);
      if (f2 === '') return tpl(`${castFn}(__A0 AS ${target})`, textOf(args[0]));
      return cast(fn(tryIt ? 'try_strptime' : 'strptime', textOf(args[0]), str(f2)), target);
    }
    case 'current_timestamp':
    case 'localtimestamp':
    case 'getdate':
    case 'systimestamp':
      if (args.length > 0) refuse(`${name.toUpperCase()} with a precision`);
      return name === 'localtimestamp' || name === 'getdate'
        ? tpl('CAST(current_timestamp AS TIMESTAMP)')
        : tpl('current_timestamp');
    case 'sysdate':
      return tpl("CAST(timezone('UTC', current_timestamp) AS TIMESTAMP)");
    case 'current_date': {
      const out = tpl('current_date');
      dateNodes.add(out);
      return out;
    }
    case 'current_time':
    case 'localtime':
      return tpl('CAST(current_timestamp AS TIME)');
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
    case 'dateadd':
    case 'timestampadd':
    case 'timeadd':
      if (args.length !== 3) refuse(`${name.toUpperCase()} with ${args.length} arguments`);
      return dateAdd(args[0], args[1], args[2]);
    case 'datediff':
    case 'timestampdiff':
    case 'timediff':
      if (args.length !== 3) refuse(`${name.toUpperCase()} with ${args.length} arguments`);
      return fn('date_diff', str(datePart(args[0])), args[1], args[2]);
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

/**
 * The parts of an identifier written as a string (`'db.schema."Odd name"'`),
 * as identifier nodes: unquoted parts fold to upper case later, quoted ones
 * keep their case, as Snowflake reads `TABLE('…')` and `IDENTIFIER('…')`.
 */
function identifierParts(text: string, what: string): Node[] {
  let toks: ReturnType<typeof tokenize>;
  try {
    toks = tokenize(text);
  } catch {
    return badIdentifier(text, what);
  }
  const parts: Node[] = [];
  for (let i = 0; i < toks.length; i += 2) {
    const t = toks[i]!;
    if (t.kind !== 'word' && t.kind !== 'quoted') return badIdentifier(text, what);
    parts.push({ name: t.kind === 'quoted' ? t.value : t.text, quoted: t.kind === 'quoted', trailing_comments: [], span: null });
    const sep = toks[i + 1];
    if (sep !== undefined && (sep.value !== '.' || i + 2 >= toks.length)) return badIdentifier(text, what);
  }
  if (parts.length === 0) return badIdentifier(text, what);
  return parts;
}

function badIdentifier(text: string, what: string): never {
  throw new TranslateError(sfError('syntax', `SQL compilation error:\ninvalid identifier '${text}' in ${what}`));
}

/** The string argument of TABLE(…) / IDENTIFIER(…), or a refusal for variables and binds. */
function identifierText(args: Node[], what: string): string {
  const text = args.length === 1 ? literalString(args[0]) : undefined;
  if (text === undefined) refuse(`${what} with anything but a string literal`);
  return text;
}

/** `IDENTIFIER('ssn')` / `IDENTIFIER('c.ssn')` used as an expression: a column reference. */
function identifierColumn(args: Node[]): Node {
  const parts = identifierParts(identifierText(args, 'IDENTIFIER()'), 'IDENTIFIER()');
  if (parts.length > 2) refuse('IDENTIFIER() naming a column with more than two parts');
  const name = foldIdent(parts[parts.length - 1]);
  const table = parts.length === 2 ? foldIdent(parts[0]) : null;
  return { column: { name, table, join_mark: false } };
}

/**
 * A FROM or JOIN item written as a table literal becomes the table reference
 * it names: `TABLE('db.s.t')`, `TABLE($$t$$)`, `IDENTIFIER('t')` (Snowflake
 * treats the two alike in FROM). `TABLE(GENERATOR(ROWCOUNT => n))` becomes a
 * derived table of n rows whose only column has a name no query uses, so a
 * column named in a subquery over it resolves to the outer query, as in
 * Snowflake (GENERATOR has no columns). Other table functions are refused.
 */
function tableLiteral(item: Node, st: RewriteState): Node {
  const aliased = item?.alias?.this?.function ? item.alias : undefined;
  const f = aliased ? aliased.this.function : item?.function;
  if (!f) return item;
  const name = String(f.name).toUpperCase();
  if (name !== 'TABLE' && name !== 'IDENTIFIER') return item;
  const args: Node[] = f.args ?? [];
  const alias: Node = aliased?.alias ?? null;
  const inner = args.length === 1 ? args[0]?.function : undefined;
  if (name === 'TABLE' && inner) {
    if (String(inner.name).toUpperCase() !== 'GENERATOR') refuse(`table function ${String(inner.name).toUpperCase()}`);
    return generatorSource(inner.args ?? [], alias, st);
  }
  const parts = identifierParts(identifierText(args, `${name}()`), `${name}()`);
  if (parts.length > 3) badIdentifier(literalString(args[0])!, `${name}()`);
  const [catalog, schema, table] = [null, null, ...parts].slice(-3);
  return {
    table: {
      name: table, schema, catalog, alias, alias_explicit_as: aliased?.alias_explicit_as ?? false,
      column_aliases: aliased?.column_aliases ?? [], trailing_comments: [], when: null, only: false, final_: false, hints: [],
    },
  };
}

/** `GENERATOR(ROWCOUNT => n)` as a placeholder table (see {@link tableLiteral}). */
function generatorSource(args: Node[], alias: Node, st: RewriteState): Node {
  let rows: string | undefined;
  for (const a of args) {
    const na = a?.named_argument;
    const key = na ? String(na.name?.name ?? '').toUpperCase() : '';
    const v = na?.value?.literal;
    if (key === 'ROWCOUNT' && v?.literal_type === 'number' && /^\d+$/.test(String(v.value))) rows = String(v.value);
    else refuse('GENERATOR with anything but ROWCOUNT => <integer>');
  }
  if (rows === undefined) refuse('GENERATOR without ROWCOUNT');
  const ph = `__AIRLOCK_IS_${++placeholderSeq}`;
  st.placeholders.set(ph, `SELECT NULL AS "__AIRLOCK_GENERATOR_ROW" FROM range(${rows})`);
  return {
    table: {
      name: ident(ph), schema: null, catalog: null, alias: alias ?? ident('GENERATOR'), alias_explicit_as: true,
      column_aliases: [], trailing_comments: [], when: null, only: false, final_: false, hints: [],
    },
  };
}

/** Name of a FROM/JOIN item for `OBJECT_CONSTRUCT(*)`, folded; null when it has none. */
function sourceName(item: Node): string | null {
  const fold = (i: Node): string | null => (i && typeof i.name === 'string' ? (i.quoted ? i.name : i.name.toUpperCase()) : null);
  if (item?.table) return fold(item.table.alias) ?? fold(item.table.name);
  return fold(item?.subquery?.alias) ?? fold(item?.alias?.alias);
}

/** Rewrite a SELECT: table literals in FROM/JOIN first, then everything with its sources in scope. */
function rewriteSelect(d: Node, st: RewriteState): Node {
  const sel: Node = { ...d };
  if (sel.from?.expressions) sel.from = { ...sel.from, expressions: sel.from.expressions.map((e: Node) => tableLiteral(e, st)) };
  if (Array.isArray(sel.joins)) sel.joins = sel.joins.map((j: Node) => ({ ...j, this: tableLiteral(j.this, st) }));
  // An unaliased derived table gets a name no query can write, so OBJECT_CONSTRUCT(*) can read its row.
  if (sel.from?.expressions) {
    sel.from.expressions = sel.from.expressions.map((e: Node) =>
      e?.subquery && !e.subquery.alias ? { subquery: { ...e.subquery, alias: ident(`__AIRLOCK_SUBQUERY_${++placeholderSeq}`) } } : e,
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

// ---------------------------------------------------------------------------
// The walk

function dataTypeName(dt: Node): string {
  switch (dt.data_type) {
    case 'custom':
      return String(dt.name);
    case 'decimal':
      return dt.precision == null ? 'NUMBER' : `NUMBER(${dt.precision},${dt.scale ?? 0})`;
    case 'var_char':
    case 'char':
    case 'text':
    case 'string':
      return 'VARCHAR';
    case 'timestamp':
      return dt.timezone ? 'TIMESTAMP_TZ' : 'TIMESTAMP_NTZ';
    case 'binary':
    case 'var_binary':
    case 'blob':
      return 'BINARY';
    case 'big_int':
    case 'small_int':
    case 'tiny_int':
    case 'int':
      return 'NUMBER';
    case 'double':
    case 'float':
    case 'real':
      return 'FLOAT';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'json':
      return 'VARIANT';
    default:
      return String(dt.data_type).toUpperCase();
  }
}

function isIdentifier(o: Node): boolean {
  return typeof o.name === 'string' && 'quoted' in o;
}

function isTableRef(o: Node): boolean {
  return 'catalog' in o && 'schema' in o && o.name !== null && typeof o.name === 'object' && isIdentifier(o.name);
}

/** Fold an identifier the Snowflake way and quote it so DuckDB keeps the case. */
function foldIdent(o: Node): Node {
  return { ...o, name: o.quoted ? o.name : String(o.name).toUpperCase(), quoted: true };
}

let placeholderSeq = 0;

function qualifyTable(t: Node, st: RewriteState): Node {
  const name = foldIdent(t.name);
  const schema = t.schema ? foldIdent(t.schema) : null;
  const catalog = t.catalog ? foldIdent(t.catalog) : null;
  const out: Node = { ...t, name, schema, catalog };
  if (t.alias && isIdentifier(t.alias)) out.alias = foldIdent(t.alias);
  if (!schema && st.ctes.has(name.name)) return out;
  if (!schema && st.placeholders.has(name.name)) return out;
  const db = catalog?.name ?? st.ctx.database;
  const sc = schema?.name ?? st.ctx.schema;
  if (sc === 'INFORMATION_SCHEMA') {
    const sql = st.infoSchema(db, name.name);
    if (sql === undefined) refuse(`INFORMATION_SCHEMA.${name.name}`);
    const ph = `__AIRLOCK_IS_${++placeholderSeq}`;
    st.placeholders.set(ph, sql);
    return { ...out, catalog: null, schema: null, name: ident(ph), alias: out.alias ?? ident(name.name) };
  }
  if (out.when) refuse('time travel (AT/BEFORE) and CHANGES');
  out.catalog = catalog ?? ident(db);
  out.schema = schema ?? ident(sc);
  if (out.table_sample) {
    // polyglot's round trip loses the ROWS/PERCENT distinction: splice the clause in as text.
    const q = (x: string) => `"${x.replace(/"/g, '""')}"`;
    const ph = `__AIRLOCK_IS_${++placeholderSeq}`;
    st.placeholders.set(ph, `SELECT * FROM ${q(db)}.${q(sc)}.${q(name.name)} ${sampleClause(out.table_sample)}`);
    st.placeholderOrigins.set(ph, { database: db, schema: sc, table: name.name });
    return { ...out, catalog: null, schema: null, table_sample: null, name: ident(ph), alias: out.alias ?? ident(name.name) };
  }
  return out;
}

/** DuckDB TABLESAMPLE clause for a Snowflake SAMPLE/TABLESAMPLE. */
function sampleClause(s: Node): string {
  if (s.seed != null || s.offset != null) refuse('SAMPLE with SEED/REPEATABLE');
  const size = s.size?.literal?.literal_type === 'number' ? String(s.size.literal.value) : undefined;
  if (size === undefined) refuse('SAMPLE with a non-literal size');
  if (s.unit_after_size) {
    if (!/^\d+$/.test(size)) refuse(`SAMPLE (${size} ROWS)`);
    return `TABLESAMPLE reservoir(${size} ROWS)`;
  }
  const method = String(s.method ?? '').toLowerCase();
  const m = method === 'system' || method === 'block' ? 'system' : 'bernoulli';
  return `TABLESAMPLE ${m}(${size} PERCENT)`;
}

/** Comparison/LIKE operators where a JSON side must be compared as a scalar. */
const COMPARISONS = new Set(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'i_like', 'ilike']);

function scalarSide(json: Node, other: Node): Node {
  const k = literalKind(other);
  if (k === 'number') return cast(asJsonText(json), 'DOUBLE');
  if (k === 'boolean') return cast(asJsonText(json), 'BOOLEAN');
  return asJsonText(json);
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
    const kind = keys[0]!;
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
      case 'try_cast': {
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
        if (target === 'DATE') dateNodes.add(out);
        return out;
      }
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
        if (COMPARISONS.has(kind) && d && typeof d === 'object' && 'left' in d && 'right' in d) {
          let left = rewrite(d.left, st);
          let right = rewrite(d.right, st);
          if (isJsonExtract(left) && !isJsonExtract(right) && literalKind(right) !== undefined) left = scalarSide(left, right);
          else if (isJsonExtract(right) && !isJsonExtract(left) && literalKind(left) !== undefined) right = scalarSide(right, left);
          else if (isJsonExtract(left) && (kind === 'like' || kind === 'i_like' || kind === 'ilike')) left = asJsonText(left);
          return { [kind]: { ...rewriteObject(d, st), left, right } };
        }
    }
  }
  return rewriteObject(v, st);
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
