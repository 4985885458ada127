/**
 * A small Snowflake SQL lexer. The translator uses it for what the AST cannot
 * give cheaply: the statement verb, statement count, the source text of each
 * select-list item (Snowflake names unaliased columns after it), and the
 * keyword patterns that mark constructs the emulator refuses.
 */

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct' | 'param';

/** One token with its source span (`end` exclusive). */
export interface Token {
  kind: TokenKind;
  /** Raw source text of the token. */
  text: string;
  /** Upper-cased text for words, unquoted value for quoted identifiers and strings. */
  value: string;
  start: number;
  end: number;
}

/** Thrown for input the lexer cannot close (unterminated string or comment). */
export class LexError extends Error {}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

/** The string literal opening at `at` (`'…'`, with `''` and backslash escapes): its value and the index after it. */
function readString(sql: string, at: number): { value: string; end: number } {
  let value = '';
  let i = at + 1;
  for (;;) {
    if (i >= sql.length) throw new LexError('unterminated string literal');
    const d = sql[i]!;
    if (d === '\\' && i + 1 < sql.length) {
      value += sql[i + 1];
      i += 2;
    } else if (d === "'" && sql[i + 1] === "'") {
      value += "'";
      i += 2;
    } else if (d === "'") {
      return { value, end: i + 1 };
    } else {
      value += d;
      i++;
    }
  }
}

/** The quoted identifier opening at `at` (`"…"`, with `""` escapes): its value and the index after it. */
function readQuoted(sql: string, at: number): { value: string; end: number } {
  let value = '';
  let i = at + 1;
  for (;;) {
    if (i >= sql.length) throw new LexError('unterminated quoted identifier');
    if (sql[i] === '"' && sql[i + 1] === '"') {
      value += '"';
      i += 2;
    } else if (sql[i] === '"') {
      return { value, end: i + 1 };
    } else {
      value += sql[i];
      i++;
    }
  }
}

/** Split SQL into tokens, dropping whitespace and comments. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if ((c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '/')) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) throw new LexError('unterminated comment');
      i = close + 2;
      continue;
    }
    const start = i;
    if (c === "'") {
      const { value, end } = readString(sql, i);
      i = end;
      out.push({ kind: 'string', text: sql.slice(start, i), value, start, end: i });
      continue;
    }
    if (c === '$' && sql[i + 1] === '$') {
      const close = sql.indexOf('$$', i + 2);
      if (close < 0) throw new LexError('unterminated $$ string');
      i = close + 2;
      out.push({ kind: 'string', text: sql.slice(start, i), value: sql.slice(start + 2, close), start, end: i });
      continue;
    }
    if (c === '"') {
      const { value, end } = readQuoted(sql, i);
      i = end;
      out.push({ kind: 'quoted', text: sql.slice(start, i), value, start, end: i });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      while (i < n && /[0-9.eE]/.test(sql[i]!)) {
        if ((sql[i] === 'e' || sql[i] === 'E') && (sql[i + 1] === '-' || sql[i + 1] === '+')) i++;
        i++;
      }
      out.push({ kind: 'number', text: sql.slice(start, i), value: sql.slice(start, i), start, end: i });
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(sql[i]!)) i++;
      const text = sql.slice(start, i);
      out.push({ kind: 'word', text, value: text.toUpperCase(), start, end: i });
      continue;
    }
    if (c === '$' && /[A-Za-z0-9_]/.test(sql[i + 1] ?? '')) {
      i++;
      while (i < n && /[A-Za-z0-9_]/.test(sql[i]!)) i++;
      out.push({ kind: 'param', text: sql.slice(start, i), value: sql.slice(start, i), start, end: i });
      continue;
    }
    const two = sql.slice(i, i + 2);
    if (['::', '||', '<=', '>=', '<>', '!=', '=>', '->'].includes(two)) {
      i += 2;
      out.push({ kind: 'punct', text: two, value: two, start, end: i });
      continue;
    }
    i++;
    out.push({ kind: 'punct', text: c, value: c, start, end: i });
  }
  return out;
}

/** Split tokens into statements at top-level semicolons; empty statements are dropped. */
export function splitStatements(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'punct' && t.value === ';') {
      if (cur.length > 0) out.push(cur);
      cur = [];
    } else {
      cur.push(t);
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** True when the token is the given keyword (an unquoted word). */
export function isWord(t: Token | undefined, ...words: string[]): boolean {
  return t !== undefined && t.kind === 'word' && words.includes(t.value);
}

/** Index of the first top-level token (paren depth 0) matching `pred`, from `from`; -1 if none. */
export function findTopLevel(tokens: Token[], pred: (t: Token) => boolean, from = 0): number {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'punct' && (t.value === '(' || t.value === '[')) depth++;
    else if (t.kind === 'punct' && (t.value === ')' || t.value === ']')) depth--;
    else if (depth === 0 && pred(t)) return i;
  }
  return -1;
}
