/**
 * The interim, fail-closed gate that stands in for the policy engine.
 *
 * Until the policy engine lands there is no human review, so only plainly
 * read-only statements may run: one SELECT, WITH … SELECT, SHOW or DESCRIBE.
 * Everything else — several statements, writes, DDL, anything unrecognised —
 * is denied with a reason that says review is not available yet. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { Decision, Reason, StatementFacts } from './decision.ts';

interface Token {
  kind: 'word' | 'symbol' | 'string' | 'quoted';
  text: string;
}

/** Outcome of lexing: tokens per statement, or why the text cannot be read safely. */
interface Lexed {
  statements: Token[][];
  error?: string;
}

const isWordStart = (c: string) => /[A-Za-z_$]/.test(c);
const isWordChar = (c: string) => /[A-Za-z0-9_$]/.test(c);

/**
 * Split into statements and tokens, skipping comments and understanding
 * Snowflake strings ('' and \' escapes), "quoted" identifiers and $$ bodies.
 */
export function lex(sql: string): Lexed {
  const statements: Token[][] = [];
  let current: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if ((c === '-' && next === '-') || (c === '/' && next === '/')) {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) return { statements, error: 'an unterminated /* comment' };
      i = end + 2;
    } else if (c === "'") {
      let j = i + 1;
      let closed = false;
      while (j < n) {
        if (sql[j] === '\\') j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") {
          closed = true;
          break;
        } else j++;
      }
      if (!closed) return { statements, error: 'an unterminated string literal' };
      current.push({ kind: 'string', text: sql.slice(i, j + 1) });
      i = j + 1;
    } else if (c === '"') {
      let j = i + 1;
      let closed = false;
      while (j < n) {
        if (sql[j] === '"' && sql[j + 1] === '"') j += 2;
        else if (sql[j] === '"') {
          closed = true;
          break;
        } else j++;
      }
      if (!closed) return { statements, error: 'an unterminated quoted identifier' };
      current.push({ kind: 'quoted', text: sql.slice(i, j + 1) });
      i = j + 1;
    } else if (c === '$' && next === '$') {
      const end = sql.indexOf('$$', i + 2);
      if (end < 0) return { statements, error: 'an unterminated $$ block' };
      current.push({ kind: 'string', text: sql.slice(i, end + 2) });
      i = end + 2;
    } else if (c === ';') {
      if (current.length > 0) statements.push(current);
      current = [];
      i++;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql[j]!)) j++;
      current.push({ kind: 'word', text: sql.slice(i, j).toUpperCase() });
      i = j;
    } else {
      current.push({ kind: 'symbol', text: c });
      i++;
    }
  }
  if (current.length > 0) statements.push(current);
  return { statements };
}

/** Words that must never appear as keywords in a statement we let through unreviewed. */
const WRITE_WORDS = new Set([
  'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'DROP', 'CREATE', 'ALTER', 'UNDROP', 'GRANT', 'REVOKE',
  'COPY', 'PUT', 'GET', 'REMOVE', 'CALL', 'EXECUTE', 'USE', 'SET', 'UNSET', 'BEGIN', 'COMMIT', 'ROLLBACK', 'INTO',
]);

/**
 * Reads that reach past the agent's own statement. The warehouse session is a
 * pooled connection of one service user shared by every agent, so
 * RESULT_SCAN(LAST_QUERY_ID()) returns another agent's result, QUERY_HISTORY
 * shows their SQL, and SYSTEM$ functions (SYSTEM$CANCEL_QUERY, …) act on them.
 */
const CROSS_SESSION_WORDS = new Set(['RESULT_SCAN', 'LAST_QUERY_ID']);
const isCrossSession = (t: Token): boolean => {
  if (t.kind !== 'word' && t.kind !== 'quoted') return false;
  // Quoted names match case-sensitively, so only an upper-case "RESULT_SCAN" resolves to the built-in.
  const name = t.kind === 'quoted' ? t.text.slice(1, -1) : t.text;
  return CROSS_SESSION_WORDS.has(name) || name.startsWith('SYSTEM$') || name.startsWith('QUERY_HISTORY');
};

const READ_VERBS: Record<string, StatementFacts['kind']> = {
  SELECT: 'select',
  WITH: 'select',
  SHOW: 'show',
  DESCRIBE: 'describe',
  DESC: 'describe',
};

/**
 * sha256 of the statement text normalized for whitespace, comments and keyword
 * case; literals and quoted identifiers are kept exactly.
 */
export function fingerprint(sql: string): string {
  const { statements } = lex(sql);
  const normal = statements.map((s) => s.map((t) => t.text).join(' ')).join(';\n');
  return createHash('sha256').update(normal).digest('hex');
}

function deny(reasons: Reason[], statements: StatementFacts[], fp: string): Decision {
  return {
    action: 'deny',
    risk: 'high',
    reasons,
    approvals: { required: 0, groups: [] },
    statements,
    fingerprint: fp,
    complete: false,
  };
}

const NO_REVIEW = 'human review is not available yet in this version of Airlock, so only read-only statements may run';

/** Decide for one request: allow a single read, deny everything else (fail closed). */
export function evaluateInterim(sql: string): Decision {
  const lexed = lex(sql);
  const fp = fingerprint(sql);
  if (lexed.error) {
    return deny([{ code: 'SQL_UNPARSEABLE', message: `The SQL has ${lexed.error}.`, statement: 0 }], [], fp);
  }
  if (lexed.statements.length === 0) {
    return deny([{ code: 'SQL_EMPTY', message: 'There is no SQL statement to run.', statement: 0 }], [], fp);
  }
  const statements: StatementFacts[] = lexed.statements.map((tokens) => {
    const verb = tokens[0]?.kind === 'word' ? tokens[0].text : '';
    return { kind: READ_VERBS[verb] ?? 'unknown', verb: verb || null, tables: [], columns: [], complete: false };
  });
  if (lexed.statements.length > 1) {
    return deny(
      [{ code: 'MULTI_STATEMENT', message: `Send one statement per request (found ${lexed.statements.length}); ${NO_REVIEW}.`, statement: 1 }],
      statements,
      fp,
    );
  }
  const tokens = lexed.statements[0]!;
  const facts = statements[0]!;
  if (facts.kind === 'unknown') {
    const verb = facts.verb ?? 'this statement';
    return deny([{ code: 'REVIEW_UNAVAILABLE', message: `${verb} needs review; ${NO_REVIEW}.`, statement: 0 }], statements, fp);
  }
  // GET(obj, 'key') is a Snowflake function, not the GET file command.
  const writeWord = tokens.find(
    (t, i) => t.kind === 'word' && WRITE_WORDS.has(t.text) && !(t.text === 'GET' && tokens[i + 1]?.text === '('),
  );
  if (writeWord && facts.kind === 'select') {
    return deny(
      [{ code: 'REVIEW_UNAVAILABLE', message: `The query contains ${writeWord.text}, which needs review; ${NO_REVIEW}.`, statement: 0 }],
      statements,
      fp,
    );
  }
  const crossSession = tokens.find(isCrossSession);
  if (crossSession) {
    return deny(
      [{ code: 'REVIEW_UNAVAILABLE', message: `The query uses ${crossSession.text}, which can reach other agents' queries; ${NO_REVIEW}.`, statement: 0 }],
      statements,
      fp,
    );
  }
  if (facts.kind === 'select' && tokens[0]!.text === 'WITH' && !tokens.some((t) => t.kind === 'word' && t.text === 'SELECT')) {
    return deny([{ code: 'REVIEW_UNAVAILABLE', message: `WITH without SELECT; ${NO_REVIEW}.`, statement: 0 }], statements, fp);
  }
  facts.complete = true;
  return {
    action: 'allow',
    risk: 'low',
    reasons: [{ code: 'READ_ONLY', message: `A single read-only ${facts.verb} statement.`, statement: 0 }],
    approvals: { required: 0, groups: [] },
    statements,
    fingerprint: fp,
    complete: true,
  };
}
