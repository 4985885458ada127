/**
 * Snowflake-aware statement splitter and lexer.
 *
 * node-sql-parser cannot parse every Snowflake statement (DESIGN §4), so the
 * policy engine never relies on it to find statement boundaries or verbs. This
 * lexer understands single-quoted strings (`''` and `\'` escapes), "quoted"
 * identifiers, `$$…$$` bodies, `--`, `//` and `/* *\/` comments, so a `;` or a
 * verb inside any of those neither splits nor classifies a statement. Pure.
 */
import { createHash } from 'node:crypto';

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'symbol';

export interface Token {
  kind: TokenKind;
  /** Source text; for `word` tokens upper-cased (Snowflake folds unquoted identifiers). */
  text: string;
  /** Offset of the first character in the request text. */
  start: number;
  /** Offset one past the last character. */
  end: number;
}

/** One statement of a request: its tokens and its exact source text. */
export interface LexedStatement {
  index: number;
  tokens: Token[];
  /** Source from the first token to the last (inner comments kept, no trailing `;`). */
  text: string;
}

export interface LexResult {
  statements: LexedStatement[];
  /** Set when the text cannot be read safely (an unterminated string, comment or body). */
  error?: { message: string; offset: number };
}

const isWordStart = (c: string) => (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c === '_';
const isWordChar = (c: string) => isWordStart(c) || (c >= '0' && c <= '9') || c === '$';
const isDigit = (c: string) => c >= '0' && c <= '9';
/** JS `\s` covers the Unicode space separators too (NBSP, U+2000…, U+3000, BOM). */
const SPACE = /\s/;
const LINE_BREAK = /[\n\r\v\f\u0085\u2028\u2029]/;

/**
 * Split `sql` into statements of tokens; comments are dropped, literals kept exactly.
 * One function on purpose (81 lines): a single pass over the characters whose
 * position and statement state every branch shares; split, that state would be
 * threaded through helpers on the path every request takes.
 */
export function lex(sql: string): LexResult {
  const statements: LexedStatement[] = [];
  let current: Token[] = [];
  const flush = () => {
    if (current.length > 0) {
      const text = sql.slice(current[0]!.start, current[current.length - 1]!.end);
      statements.push({ index: statements.length, tokens: current, text });
    }
    current = [];
  };
  const fail = (message: string, offset: number): LexResult => {
    flush();
    return { statements, error: { message, offset } };
  };
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (SPACE.test(c)) {
      i++;
    } else if ((c === '-' && next === '-') || (c === '/' && next === '/')) {
      // Any line break ends it, Unicode ones too: if Snowflake read past one, we only see more than it runs.
      while (i < n && !LINE_BREAK.test(sql[i]!)) i++;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) return fail('an unterminated /* comment', i);
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
      if (!closed) return fail('an unterminated string literal', i);
      current.push({ kind: 'string', text: sql.slice(i, j + 1), start: i, end: j + 1 });
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
      if (!closed) return fail('an unterminated quoted identifier', i);
      current.push({ kind: 'quoted', text: sql.slice(i, j + 1), start: i, end: j + 1 });
      i = j + 1;
    } else if (c === '$' && next === '$') {
      const end = sql.indexOf('$$', i + 2);
      if (end < 0) return fail('an unterminated $$ body', i);
      current.push({ kind: 'string', text: sql.slice(i, end + 2), start: i, end: end + 2 });
      i = end + 2;
    } else if (c === ';') {
      flush();
      i++;
    } else if (isWordStart(c)) {
      let j = i + 1;
      while (j < n && isWordChar(sql[j]!)) j++;
      current.push({ kind: 'word', text: sql.slice(i, j).toUpperCase(), start: i, end: j });
      i = j;
    } else if (isDigit(c) || (c === '.' && next !== undefined && isDigit(next))) {
      let j = i + 1;
      while (j < n && (isDigit(sql[j]!) || sql[j] === '.' || sql[j] === 'e' || sql[j] === 'E')) j++;
      current.push({ kind: 'number', text: sql.slice(i, j), start: i, end: j });
      i = j;
    } else {
      current.push({ kind: 'symbol', text: c, start: i, end: i + 1 });
      i++;
    }
  }
  flush();
  return { statements };
}

/**
 * The text an approval binds to: tokens joined by single spaces, comments
 * dropped, keywords and unquoted identifiers upper-cased, literals and quoted
 * identifiers exactly as written, statements joined by `;`.
 */
export function normalize(statements: readonly LexedStatement[]): string {
  return statements.map((s) => s.tokens.map((t) => t.text).join(' ')).join(';\n');
}

/** sha256 (hex) of the normalized statement text; see {@link normalize}. */
export function fingerprintOf(statements: readonly LexedStatement[]): string {
  return createHash('sha256').update(normalize(statements)).digest('hex');
}

/** Fingerprint of raw SQL text (lexes it first). */
export function fingerprint(sql: string): string {
  return fingerprintOf(lex(sql).statements);
}

/** The value of a string token: quotes removed, `''` and `\'` escapes resolved. */
export function stringValue(token: Token): string {
  const t = token.text;
  if (t.startsWith('$$')) return t.slice(2, -2);
  const body = t.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "'" && body[i + 1] === "'") {
      out += "'";
      i++;
    } else if (c === '\\' && i + 1 < body.length) {
      const e = body[++i]!;
      out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '0' ? '\0' : e;
    } else out += c;
  }
  return out;
}

/** An identifier token's name as Snowflake resolves it: unquoted upper-cased, quoted exact. */
export function identifierName(token: Token): string {
  if (token.kind === 'quoted') return token.text.slice(1, -1).replace(/""/g, '"');
  return token.text;
}
