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
import { isWord, LexError, splitStatements, tokenize, type Token } from './lexer.ts';
import { infoSchemaSql, translateMetadata } from './metadata.ts';
import { expandPlaceholders, type Node } from './ast.ts';
import { collectCtes, rewrite } from './rewrite.ts';
import type { RewriteState, TranslateContext } from './types.ts';
import type { ColumnOrigin, SnowflakeSqlError, SqlContext, StatementType, Translation } from './types.ts';
import { addHeaders, leftmostSelect, selectItemTexts } from './headers.ts';
import { columnOrigins, declaredTypeFollowUp, tzCastFlags } from './origins.ts';
import { classify, scanForRefusals, status, syntaxError, translateCreateDatabase, translateSchemaDdl, translateUse, UNSUPPORTED_OBJECTS, UNSUPPORTED_VERBS } from './statements.ts';

export { mapDuckDbError } from './errors.ts';
export type { TranslateContext } from './types.ts';

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
