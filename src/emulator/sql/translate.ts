/**
 * The emulator's SQL layer: one Snowflake statement in, a {@link Translation}
 * out. Session statements (USE, ALTER SESSION) and refusals are answered
 * here; metadata (SHOW, DESCRIBE, INFORMATION_SCHEMA) becomes queries over
 * DuckDB's catalog; everything else goes through polyglot's Snowflake parser,
 * the rewrites in ./rewrite.ts, and polyglot's DuckDB generator.
 *
 * Rule: SQL the emulator cannot run with Snowflake's meaning is refused with
 * an "unsupported in the emulator" error (code 002040) rather than run with a
 * silently different answer.
 */
import { Dialect, generate, init, parse, transpile } from '@polyglot-sql/sdk';
import { errorResult, SF_CODES, TranslateError, unsupported } from './errors.ts';
import { findTopLevel, isWord, LexError, splitStatements, tokenize, type Token } from './lexer.ts';
import { infoSchemaSql, translateMetadata } from './metadata.ts';
import { TIMESTAMP_TZ_COMMENT } from './type-map.ts';
import { collectCtes, expandPlaceholders, REFUSED_FUNCTIONS, rewrite, type Node, type RewriteState, type TranslateContext } from './rewrite.ts';
import type { ColumnOrigin, SnowflakeSqlError, SqlContext, StatementType, Translation } from './types.ts';

export { mapDuckDbError } from './errors.ts';
export type { TranslateContext } from './rewrite.ts';

const STATUS_OK = 'Statement executed successfully.';

/** Snowflake object kinds the emulator does not have. */
const UNSUPPORTED_OBJECTS = new Set([
  'STAGE',
  'PIPE',
  'STREAM',
  'TASK',
  'PROCEDURE',
  'FUNCTION',
  'SEQUENCE',
  'WAREHOUSE',
  'ROLE',
  'USER',
  'INTEGRATION',
  'SHARE',
  'TAG',
  'ALERT',
  'DYNAMIC',
  'EXTERNAL',
  'MATERIALIZED',
  'MASKING',
  'ROW',
  'NETWORK',
  'FILE',
  'SECURE',
  'EVENT',
  'ICEBERG',
  'HYBRID',
  'TEMPORARY',
  'TEMP',
  'VOLATILE',
  'LOCAL',
  'GLOBAL',
  'NOTEBOOK',
  'CORTEX',
  'APPLICATION',
  'REPLICATION',
  'FAILOVER',
  'CONNECTION',
  'SESSION',
  'PASSWORD',
  'AUTHENTICATION',
  'RESOURCE',
]);

/** Verbs refused outright. */
const UNSUPPORTED_VERBS = new Set([
  'CALL',
  'COPY',
  'PUT',
  'GET',
  'LIST',
  'LS',
  'REMOVE',
  'RM',
  'EXECUTE',
  'GRANT',
  'REVOKE',
  'UNDROP',
  'EXPLAIN',
  'SET',
  'UNSET',
  'DECLARE',
  'LET',
  'FOR',
  'WHILE',
  'REPEAT',
  'LOOP',
  'RETURN',
  'CANCEL',
]);

function status(statementType: StatementType, context?: Partial<SqlContext>): Translation {
  const r: Translation = {
    kind: 'result',
    statementType,
    columns: [{ name: 'status', type: 'text' }],
    rows: [[STATUS_OK]],
  };
  if (context) r.context = context;
  return r;
}

function nameOf(t: Token): string {
  return t.kind === 'quoted' ? t.value : t.value.toUpperCase();
}

/** Dotted name at `i` as parts; undefined when tokens there are not a name. */
function dottedName(toks: Token[], i: number): { parts: string[]; next: number } {
  const parts: string[] = [];
  while (toks[i] && (toks[i]!.kind === 'word' || toks[i]!.kind === 'quoted')) {
    parts.push(nameOf(toks[i]!));
    i++;
    if (toks[i]?.value === '.') i++;
    else break;
  }
  return { parts, next: i };
}

function syntaxError(t: Token | undefined): Translation {
  return errorResult(
    'syntax',
    `SQL compilation error:\nsyntax error line 1 at position ${t?.start ?? 0} unexpected '${t?.text ?? '<EOF>'}'.`,
  );
}

function translateUse(toks: Token[]): Translation {
  const kw = toks[1];
  if (isWord(kw, 'WAREHOUSE', 'ROLE')) {
    const r = dottedName(toks, 2);
    if (r.parts.length !== 1 || r.next !== toks.length) return syntaxError(toks[r.next]);
    return status('use');
  }
  if (isWord(kw, 'SECONDARY')) return status('use');
  if (isWord(kw, 'DATABASE')) {
    const r = dottedName(toks, 2);
    if (r.parts.length !== 1 || r.next !== toks.length) return syntaxError(toks[r.next]);
    return status('use', { database: r.parts[0]!, schema: 'PUBLIC' });
  }
  if (isWord(kw, 'SCHEMA')) {
    const r = dottedName(toks, 2);
    if (r.parts.length === 0 || r.parts.length > 2 || r.next !== toks.length) return syntaxError(toks[r.next]);
    return status('use', r.parts.length === 2 ? { database: r.parts[0]!, schema: r.parts[1]! } : { schema: r.parts[0]! });
  }
  const r = dottedName(toks, 1);
  if (r.parts.length === 0 || r.parts.length > 2 || r.next !== toks.length) return syntaxError(toks[r.next]);
  if (r.parts.length === 2) return status('use', { database: r.parts[0]!, schema: r.parts[1]! });
  return status('use', { database: r.parts[0]!, schema: 'PUBLIC' });
}

/** CREATE/DROP SCHEMA, handled from tokens (the schema lands in the current database). */
function translateSchemaDdl(toks: Token[], ctx: TranslateContext): Translation {
  const create = isWord(toks[0], 'CREATE');
  let i = 1;
  if (isWord(toks[i], 'OR')) return unsupported('CREATE OR REPLACE SCHEMA');
  if (isWord(toks[i], 'TRANSIENT')) i++;
  i++; // SCHEMA
  let ifClause = '';
  if (create && isWord(toks[i], 'IF') && isWord(toks[i + 1], 'NOT') && isWord(toks[i + 2], 'EXISTS')) {
    ifClause = 'IF NOT EXISTS ';
    i += 3;
  } else if (!create && isWord(toks[i], 'IF') && isWord(toks[i + 1], 'EXISTS')) {
    ifClause = 'IF EXISTS ';
    i += 2;
  }
  const r = dottedName(toks, i);
  if (r.parts.length === 0 || r.parts.length > 2) return syntaxError(toks[r.next]);
  const [db, schema] = r.parts.length === 2 ? r.parts : [ctx.database, r.parts[0]!];
  let tail = '';
  if (!create && isWord(toks[r.next], 'CASCADE', 'RESTRICT')) tail = ` ${toks[r.next]!.value}`;
  else if (r.next < toks.length) {
    if (create && isWord(toks[r.next], 'COMMENT', 'DATA_RETENTION_TIME_IN_DAYS', 'WITH')) {
      return unsupported(`CREATE SCHEMA options (${toks[r.next]!.value})`);
    }
    return syntaxError(toks[r.next]);
  }
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return {
    kind: 'duckdb',
    sql: `${create ? 'CREATE' : 'DROP'} SCHEMA ${ifClause}${q(db!)}.${q(schema!)}${tail}`,
    statementType: 'ddl',
  };
}

/**
 * CREATE DATABASE → `ATTACH ':memory:' AS "X"`, which the wire server routes to
 * the engine's createDatabase (it owns storage). DROP and OR REPLACE are refused.
 */
function translateCreateDatabase(toks: Token[], at: number): Translation {
  if (!isWord(toks[0], 'CREATE')) return unsupported('DROP DATABASE');
  if (isWord(toks[1], 'OR')) return unsupported('CREATE OR REPLACE DATABASE');
  let i = at + 1;
  let ifNotExists = '';
  if (isWord(toks[i], 'IF') && isWord(toks[i + 1], 'NOT') && isWord(toks[i + 2], 'EXISTS')) {
    ifNotExists = 'IF NOT EXISTS ';
    i += 3;
  }
  const r = dottedName(toks, i);
  if (r.parts.length !== 1) return syntaxError(toks[r.next]);
  if (r.next < toks.length) return unsupported(`CREATE DATABASE options (${toks[r.next]!.text})`);
  const name = r.parts[0]!;
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(name)) return unsupported(`database name '${name}'`);
  return { kind: 'duckdb', sql: `ATTACH ${ifNotExists}':memory:' AS "${name}"`, statementType: 'ddl' };
}

/** Constructs refused wherever they appear. */
function scanForRefusals(toks: Token[]): Translation | undefined {
  const query = classify(toks) === 'select';
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const next = toks[i + 1];
    if (t.kind === 'param') return unsupported(`positional column or variable ${t.text}`);
    if (t.kind !== 'word') continue;
    // Also caught on the AST, but some parse to dedicated nodes (RANDOM → rand).
    if (next?.value === '(' && REFUSED_FUNCTIONS.has(t.value.toLowerCase()) && toks[i - 1]?.value !== '.') {
      return unsupported(`function ${t.value}`);
    }
    switch (t.value) {
      case 'MATCH_RECOGNIZE':
        return unsupported('MATCH_RECOGNIZE');
      case 'AT':
      case 'BEFORE':
        if (next?.value === '(' && isWord(toks[i + 2], 'TIMESTAMP', 'OFFSET', 'STATEMENT', 'STREAM')) {
          return unsupported('time travel (AT/BEFORE)');
        }
        break;
      case 'CHANGES':
        if (next?.value === '(') return unsupported('CHANGES');
        break;
      case 'CONNECT':
        if (isWord(next, 'BY')) return unsupported('CONNECT BY');
        break;
      case 'LATERAL':
        // A LATERAL subquery runs as in Snowflake; LATERAL FLATTEN and other table functions do not.
        if (next?.value !== '(' || !isWord(toks[i + 2], 'SELECT', 'WITH')) return unsupported('LATERAL');
        break;
      case 'FLATTEN':
        if (next?.value === '(') return unsupported('FLATTEN');
        break;
      case 'IDENTIFIER':
        // In queries IDENTIFIER('…') names a table or a column (rewrite.ts); elsewhere it is refused.
        if (next?.value === '(' && !query) return unsupported('IDENTIFIER() outside a query');
        break;
      case 'PIVOT':
      case 'UNPIVOT':
        return unsupported(t.value);
      case 'ASOF':
        return unsupported('ASOF JOIN');
      case 'SEQ1':
      case 'SEQ2':
      case 'SEQ4':
      case 'SEQ8':
        return unsupported(t.value);
      case 'EXCLUDE':
      case 'RENAME':
      case 'REPLACE':
        if (toks[i - 1]?.value === '*') return unsupported(`SELECT * ${t.value}`);
        break;
      case 'CLUSTER':
        if (isWord(next, 'BY')) return unsupported('CLUSTER BY');
        break;
      case 'SEED':
      case 'REPEATABLE':
        if (next?.value === '(') return unsupported(`SAMPLE … ${t.value}`);
        break;
      case 'NEXTVAL':
        return unsupported('sequences');
      default:
        break;
    }
  }
  return undefined;
}

function classify(toks: Token[]): StatementType {
  const v = toks[0]?.value;
  switch (v) {
    case 'SELECT':
    case 'WITH':
    case 'VALUES':
    case '(':
      return 'select';
    case 'INSERT':
      return 'insert';
    case 'UPDATE':
      return 'update';
    case 'DELETE':
      return 'delete';
    case 'MERGE':
      return 'merge';
    default:
      return 'ddl';
  }
}

/** Words ending a select list. */
const SELECT_LIST_END = new Set([
  'FROM', 'WHERE', 'GROUP', 'HAVING', 'QUALIFY', 'ORDER', 'LIMIT', 'UNION', 'EXCEPT', 'MINUS',
  'INTERSECT', 'WINDOW', 'FETCH', 'OFFSET', 'INTO',
]);

/** Source text of each item of the outermost select list, or undefined when it cannot be found. */
function selectItemTexts(toks: Token[], sql: string): string[] | undefined {
  const sel = findTopLevel(toks, (t) => isWord(t, 'SELECT'));
  if (sel < 0) return undefined;
  let i = sel + 1;
  if (isWord(toks[i], 'DISTINCT', 'ALL')) i++;
  if (isWord(toks[i], 'TOP') && toks[i + 1]?.kind === 'number') i += 2;
  const end = findTopLevel(
    toks,
    (t) => {
      const k = toks.indexOf(t);
      if (isWord(t, 'GROUP', 'ORDER')) return isWord(toks[k + 1], 'BY') && !isWord(toks[k - 1], 'WITHIN');
      return isWord(t, ...SELECT_LIST_END);
    },
    i,
  );
  const stop = end < 0 ? toks.length : end;
  const items: string[] = [];
  let from = i;
  for (;;) {
    const comma = findTopLevel(toks, (t) => t.kind === 'punct' && t.value === ',', from);
    const last = comma < 0 || comma > stop ? stop : comma;
    if (last <= from) return undefined;
    items.push(sql.slice(toks[from]!.start, toks[last - 1]!.end));
    if (last === stop) break;
    from = last + 1;
  }
  return items;
}

/** Snowflake's header for an unaliased expression: its text, upper-cased outside quoted identifiers. */
function headerFor(text: string): string {
  return text.replace(/("(?:[^"]|"")*")|([^"]+)/g, (_m, quoted: string | undefined, plain: string | undefined) =>
    quoted !== undefined ? quoted : plain!.toUpperCase(),
  );
}

/** The leftmost plain SELECT of a query (through set operations), or undefined. */
function leftmostSelect(stmt: Node): Node | undefined {
  let s = stmt;
  for (let k = 0; k < 64 && s; k++) {
    if (s.select) return s.select;
    const key = Object.keys(s)[0]!;
    if (['union', 'intersect', 'except'].includes(key)) s = s[key].left;
    else if (key === 'paren' || key === 'subquery') s = s[key].this;
    else return undefined;
  }
  return undefined;
}

function addHeaders(select: Node, texts: string[] | undefined): void {
  const exprs: Node[] = select.expressions ?? [];
  if (!texts || texts.length !== exprs.length) {
    // Fall back to polyglot's Snowflake rendering of each item.
    texts = exprs.map((e) => {
      const g = generate([{ select: { ...emptySelect(), expressions: [e] } }], Dialect.Snowflake);
      return g.success && g.sql?.[0] ? g.sql[0].replace(/^SELECT\s+/i, '') : 'EXPR';
    });
  }
  select.expressions = exprs.map((e, i) => {
    if (e.alias || e.column || e.star) return e;
    return { alias: { this: e, alias: { name: headerFor(texts![i]!.trim()), quoted: true, trailing_comments: [], span: null }, column_aliases: [], alias_explicit_as: true, pre_alias_comments: [], trailing_comments: [] } };
  });
}

function emptySelect(): Node {
  const r = parse('SELECT 1', Dialect.Snowflake);
  return (r.ast as Node[])[0].select;
}

/** True when a select item (before rewriting) is a cast to TIMESTAMP_TZ: `::timestamp_tz`, CAST, TO_TIMESTAMP_TZ. */
function isTzCast(e: Node): boolean {
  let x = e;
  while (x?.alias) x = x.alias.this;
  const c = x?.cast ?? x?.try_cast;
  if (c) return c.to?.data_type === 'timestamp' && c.to.timezone === true;
  const f = x?.function;
  if (f && typeof f.name === 'string') return ['to_timestamp_tz', 'try_to_timestamp_tz'].includes(f.name.toLowerCase());
  return false;
}

/** Per item of the leftmost SELECT of the original statement: does it cast to TIMESTAMP_TZ? */
function tzCastFlags(stmt: Node): boolean[] | undefined {
  const sel = stmt?.select;
  return sel ? (sel.expressions ?? []).map(isTzCast) : undefined;
}

/**
 * Where each output column of a plain SELECT comes from, and the Snowflake
 * type that overrides DuckDB's where one is known (declared TIMESTAMP_TZ
 * columns, casts to TIMESTAMP_TZ flagged in `tzFlags`).
 */
function columnOrigins(
  select: Node,
  st: RewriteState,
  tzFlags: boolean[] | undefined,
): { origins: (ColumnOrigin | null)[]; types: (string | null)[] } | undefined {
  interface Source {
    key: string;
    origin: ColumnOrigin | null;
    /**
     * How an unqualified `*` treats this source's columns: `'all'` keeps them,
     * `{ using }` drops the USING columns (DuckDB lists them once, at the left
     * table's position), `'natural'` drops those an earlier source also has,
     * `'unknown'` (semi/anti joins) makes the expansion unknowable.
     */
    star?: 'all' | 'natural' | 'unknown' | { using: string[] };
  }
  const sources: Source[] = [];
  const addSource = (n: Node, star: Source['star'] = 'all'): void => {
    const t = n?.table;
    if (t?.name && ((t.catalog && t.schema) || t.name.name.startsWith('__AIRLOCK_IS_'))) {
      const origin = t.name.name.startsWith('__AIRLOCK_IS_') ? (st.placeholderOrigins.get(t.name.name) ?? null) : { database: t.catalog.name, schema: t.schema.name, table: t.name.name };
      sources.push({ key: t.alias?.name ?? t.name.name, origin, star });
    } else if (t?.name) {
      sources.push({ key: t.alias?.name ?? t.name.name, origin: null, star });
    } else {
      const alias = n?.subquery?.alias?.name ?? n?.alias?.alias?.name;
      sources.push({ key: alias ?? '', origin: null, star });
    }
  };
  for (const f of select.from?.expressions ?? []) addSource(f);
  for (const j of select.joins ?? []) {
    const kind = String(j.kind ?? '');
    const using: Node[] = j.using ?? [];
    addSource(
      j.this,
      kind.startsWith('Natural') ? 'natural' : /Semi|Anti/.test(kind) ? 'unknown' : using.length > 0 ? { using: using.map((u) => u.name) } : 'all',
    );
  }
  const columnsOf = (s: Source): string[] | undefined =>
    s.origin && st.ctx.columnsOf ? st.ctx.columnsOf(s.origin.database, s.origin.schema, s.origin.table) : undefined;
  const declaredOf = (s: Source | undefined): (string | null)[] | undefined =>
    s?.origin && st.ctx.declaredTypesOf ? st.ctx.declaredTypesOf(s.origin.database, s.origin.schema, s.origin.table) : undefined;
  /** Rowtype override for a declared column type (only TIMESTAMP_TZ needs one). */
  const wireType = (declared: string | null | undefined): string | null => (declared === 'TIMESTAMP_TZ' ? 'timestamp_tz' : null);
  const typeOfColumn = (s: Source | undefined, name: string): string | null => {
    if (!s) return null;
    const k = columnsOf(s)?.indexOf(name) ?? -1;
    return k < 0 ? null : wireType(declaredOf(s)?.[k]);
  };
  const out: (ColumnOrigin | null)[] = [];
  const types: (string | null)[] = [];
  const exprs: Node[] = select.expressions ?? [];
  for (let i = 0; i < exprs.length; i++) {
    const e = exprs[i];
    const inner = e.alias ? e.alias.this : e;
    if (e.star || inner.star) {
      const star = e.star ?? inner.star;
      const targets = star.table ? sources.filter((s) => s.key === star.table.name) : sources;
      if (targets.length === 0) return undefined;
      for (const s of targets) {
        const cols = columnsOf(s);
        if (!cols) return undefined;
        // An unqualified `*` lists a USING / NATURAL join column once, so the
        // right-hand copies are skipped to keep origins aligned with the output.
        let hidden = new Set<string>();
        if (!star.table && s.star && s.star !== 'all') {
          if (s.star === 'unknown') return undefined;
          if (s.star === 'natural') {
            for (const earlier of sources.slice(0, sources.indexOf(s))) {
              const theirs = columnsOf(earlier);
              if (!theirs) return undefined;
              for (const c of theirs) if (cols.includes(c)) hidden.add(c);
            }
          } else {
            hidden = new Set(s.star.using);
          }
        }
        const declared = declaredOf(s);
        for (let k = 0; k < cols.length; k++) {
          if (hidden.has(cols[k]!)) continue;
          out.push(s.origin);
          types.push(wireType(declared?.[k]));
        }
      }
      continue;
    }
    if (!inner.column) {
      out.push(null);
      types.push(tzFlags?.[i] ? 'timestamp_tz' : null);
      continue;
    }
    const c = inner.column;
    let source: Source | undefined;
    if (c.table) source = sources.find((s) => s.key === c.table.name);
    else if (sources.length === 1) source = sources[0];
    else {
      const having = sources.filter((s) => columnsOf(s)?.includes(c.name.name));
      source = having.length === 1 ? having[0] : undefined;
    }
    out.push(source?.origin ?? null);
    types.push(typeOfColumn(source, c.name.name));
  }
  return { origins: out, types };
}

/** DuckDB COMMENT statements recording the columns a CREATE TABLE / ALTER TABLE ADD COLUMN declares TIMESTAMP_TZ. */
function declaredTypeFollowUp(original: Node, rewritten: Node, ctx: TranslateContext): string[] {
  const q = (x: string) => `"${x.replace(/"/g, '""')}"`;
  let table: Node;
  let columns: Node[];
  if (original?.create_table) {
    table = rewritten.create_table?.name;
    columns = original.create_table.columns ?? [];
    // IF NOT EXISTS on a table that exists changes nothing: leave its columns alone.
    if (original.create_table.if_not_exists && table?.catalog && ctx.columnsOf?.(table.catalog.name, table.schema.name, table.name.name)) {
      return [];
    }
  } else if (original?.alter_table) {
    table = rewritten.alter_table?.name;
    columns = (original.alter_table.actions ?? []).map((a: Node) => a?.AddColumn?.column).filter(Boolean);
  } else {
    return [];
  }
  if (!table?.catalog || !table?.schema || !table?.name) return [];
  const full = `${q(table.catalog.name)}.${q(table.schema.name)}.${q(table.name.name)}`;
  const out: string[] = [];
  for (const col of columns) {
    const dt = col?.data_type;
    // A column with its own COMMENT keeps it (and reads back as TIMESTAMP_LTZ).
    if (dt?.data_type !== 'timestamp' || dt.timezone !== true || col.comment != null || !col.name) continue;
    const name: string = col.name.quoted ? col.name.name : String(col.name.name).toUpperCase();
    out.push(`COMMENT ON COLUMN ${full}.${q(name)} IS '${TIMESTAMP_TZ_COMMENT}'`);
  }
  return out;
}

/** Translate a statement that polyglot parses (queries, DML, table/view DDL). */
function translateGeneral(text: string, toks: Token[], ctx: TranslateContext, statementType: StatementType): Translation {
  const parsed = parse(text, Dialect.Snowflake);
  if (!parsed.success) {
    return errorResult('syntax', `SQL compilation error:\n${parsed.error ?? 'syntax error'}`);
  }
  const ast = parsed.ast as Node[];
  if (ast.length !== 1) return errorResult('statementCount', `Actual statement count ${ast.length} did not match the desired statement count 1.`);
  const st: RewriteState = { ctx, ctes: collectCtes(ast), placeholders: new Map(), placeholderOrigins: new Map(), infoSchema: infoSchemaSql };
  const stmt = rewrite(ast[0], st);
  let origins: (ColumnOrigin | null)[] | undefined;
  let types: (string | null)[] | undefined;
  if (statementType === 'select') {
    const sel = leftmostSelect(stmt);
    if (sel) {
      addHeaders(sel, selectItemTexts(toks, text));
      if (stmt.select) {
        const cols = columnOrigins(sel, st, tzCastFlags(ast[0]));
        origins = cols?.origins;
        if (cols?.types.some((t) => t !== null)) types = cols.types;
      }
    }
  }
  const followUp = statementType === 'ddl' ? declaredTypeFollowUp(ast[0], stmt, ctx) : [];
  // polyglot's dialect transforms run only inside transpile(), so print the
  // rewritten statement as Snowflake SQL and transpile that.
  const g = generate([stmt], Dialect.Snowflake);
  if (!g.success || !g.sql || g.sql.length !== 1) return unsupported(`statement (${g.error ?? 'no SQL form'})`);
  const t = transpile(g.sql[0]!, Dialect.Snowflake, Dialect.DuckDB);
  if (!t.success || !t.sql || t.sql.length !== 1) return unsupported(`statement (${t.error ?? 'no DuckDB form'})`);
  let sql = expandPlaceholders(t.sql[0]!);
  for (const [ph, sub] of st.placeholders) sql = sql.split(`"${ph}"`).join(`(${sub})`);
  const out: Translation = { kind: 'duckdb', sql, statementType };
  if (origins) out.columnOrigins = origins;
  if (types) out.columnTypes = types;
  if (followUp.length > 0) out.followUp = followUp;
  return out;
}

function translateOne(text: string, toks: Token[], ctx: TranslateContext): Translation {
  const verb = toks[0]!.value;
  const second = toks[1]?.value;
  if (toks[0]!.kind !== 'word' && verb !== '(') return syntaxError(toks[0]);
  switch (verb) {
    case 'USE':
      return translateUse(toks);
    case 'SHOW':
    case 'TERSE':
    case 'DESC':
    case 'DESCRIBE':
      return translateMetadata(toks, ctx);
    case 'ALTER':
      if (second === 'SESSION') {
        if (isWord(toks[2], 'SET', 'UNSET')) return status('set');
        return syntaxError(toks[2]);
      }
      if (second === 'DATABASE' || second === 'SCHEMA' || second === 'ACCOUNT' || second === 'USER' || second === 'WAREHOUSE') {
        return unsupported(`ALTER ${second}`);
      }
      break;
    case 'BEGIN':
    case 'START':
      if (verb === 'START' && second !== 'TRANSACTION') return syntaxError(toks[1]);
      return { kind: 'duckdb', sql: 'BEGIN TRANSACTION', statementType: 'transaction' };
    case 'COMMIT':
      return { kind: 'duckdb', sql: 'COMMIT', statementType: 'transaction' };
    case 'ROLLBACK':
      return { kind: 'duckdb', sql: 'ROLLBACK', statementType: 'transaction' };
    case 'CREATE':
    case 'DROP': {
      let i = 1;
      if (isWord(toks[i], 'OR') && isWord(toks[i + 1], 'REPLACE')) i += 2;
      if (isWord(toks[i], 'TRANSIENT')) i++;
      const obj = toks[i]?.value ?? '';
      if (obj === 'DATABASE') return translateCreateDatabase(toks, i);
      if (obj === 'SCHEMA') return translateSchemaDdl(toks, ctx);
      if (UNSUPPORTED_OBJECTS.has(obj)) return unsupported(`${verb} ${obj}`);
      break;
    }
    default:
      if (UNSUPPORTED_VERBS.has(verb)) return unsupported(verb);
  }
  const refusal = scanForRefusals(toks);
  if (refusal) return refusal;
  const type = classify(toks);
  if (type === 'ddl' && !['CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'COMMENT'].includes(verb)) {
    return syntaxError(toks[0]);
  }
  if (verb === 'COMMENT') return unsupported('COMMENT ON');
  return translateGeneral(text, toks, ctx, type);
}

/**
 * Translate one Snowflake statement for DuckDB. Never throws: problems come
 * back as `kind:'error'` with a Snowflake code.
 */
export function translate(sql: string, ctx: SqlContext | TranslateContext): Translation {
  // Translations are pure in (sql, context); agents repeat statements, so keep a small LRU.
  const full = ctx as TranslateContext;
  const key = full.columnsOf ? undefined : [ctx.database, ctx.schema, full.user, full.role, full.warehouse, sql].join('\u0000');
  if (key !== undefined) {
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      cache.set(key, hit);
      return structuredClone(hit);
    }
  }
  const out = translateUncached(sql, ctx);
  if (key !== undefined) {
    cache.set(key, structuredClone(out));
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  return out;
}

const CACHE_SIZE = 512;
const cache = new Map<string, Translation>();

function translateUncached(sql: string, ctx: TranslateContext): Translation {
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch (e) {
    if (e instanceof LexError) return errorResult('syntax', `SQL compilation error:\n${e.message}`);
    throw e;
  }
  const stmts = splitStatements(tokens);
  if (stmts.length === 0) return errorResult('empty', 'Empty SQL statement.');
  if (stmts.length > 1) {
    return errorResult('statementCount', `Actual statement count ${stmts.length} did not match the desired statement count 1.`);
  }
  const toks = stmts[0]!;
  const text = sql.slice(toks[0]!.start, toks[toks.length - 1]!.end);
  try {
    return translateOne(text, toks, ctx);
  } catch (e) {
    if (e instanceof TranslateError) return { kind: 'error', error: e.error };
    const error: SnowflakeSqlError = {
      ...SF_CODES.unsupported,
      message: `SQL compilation error:\nunsupported in the emulator: ${(e as Error).message}`,
    };
    return { kind: 'error', error };
  }
}

/** Warm the translator (WASM start-up and first-use paths) so the first query is not slow. */
export async function warmUp(): Promise<void> {
  await init();
  transpile('SELECT 1', Dialect.Snowflake, Dialect.DuckDB);
  translate(
    "SELECT IFF(a > 1, 'x', 'y'), DATEADD(day, 1, d), TO_CHAR(d, 'YYYY-MM-DD'), v:a.b::string, COUNT(*) FROM t WHERE a / 2 > 0",
    { database: 'WARMUP', schema: 'PUBLIC' },
  );
}
