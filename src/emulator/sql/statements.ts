/**
 * Statements answered from their tokens alone, before any parser: USE,
 * CREATE/DROP SCHEMA and DATABASE, the verbs and objects the emulator refuses,
 * and the statement type of everything else.
 */
import { errorResult, unsupported } from './errors.ts';
import { REFUSED_FUNCTIONS } from './functions.ts';
import { isWord, type Token } from './lexer.ts';
import type { SqlContext, StatementType, TranslateContext, Translation } from './types.ts';

const STATUS_OK = 'Statement executed successfully.';

/** Snowflake object kinds the emulator does not have. */
export const UNSUPPORTED_OBJECTS = new Set([
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
export const UNSUPPORTED_VERBS = new Set([
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

export function status(statementType: StatementType, context?: Partial<SqlContext>): Translation {
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

export function syntaxError(t: Token | undefined): Translation {
  return errorResult(
    'syntax',
    `SQL compilation error:\nsyntax error line 1 at position ${t?.start ?? 0} unexpected '${t?.text ?? '<EOF>'}'.`,
  );
}

export function translateUse(toks: Token[]): Translation {
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
export function translateSchemaDdl(toks: Token[], ctx: TranslateContext): Translation {
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
export function translateCreateDatabase(toks: Token[], at: number): Translation {
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
export function scanForRefusals(toks: Token[]): Translation | undefined {
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

export function classify(toks: Token[]): StatementType {
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
