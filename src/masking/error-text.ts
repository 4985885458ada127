/**
 * Redaction of warehouse error text. A warehouse error can echo a value from
 * the data (`Numeric value '123x45x6789' is not recognized` after a cast of a
 * rewritten SSN), and that text would reach the agent, the Slack card and the
 * session log. The rule: an error message never carries a quoted value the
 * agent did not itself send. Pure; fails closed (when in doubt, redact).
 *
 * What stays: fragments that are whole tokens of the submitted SQL (an
 * identifier, keyword, literal or number the agent wrote) or names of the
 * tables the policy resolved, so `invalid identifier 'SSNN'` and `Object
 * 'ANALYTICS.PUBLIC.CUSTOMERZ' does not exist` remain useful. What goes:
 * every other quoted fragment; every value in a value-echo position (`Numeric
 * value '…'`, `string "…"`, `Input: …`), even one equal to a literal of the SQL,
 * because decoy literals would otherwise turn the echo into an oracle; long
 * unquoted numbers; then whatever the PII detectors find in what remains.
 */
import { maskText } from './scan.ts';

/** What replaces a redacted fragment. */
export const ERROR_REDACTION = '[REDACTED]';

/** Longest error text kept; the rest is cut (a long message is more likely to carry data). */
export const MAX_ERROR_TEXT_CHARS = 1000;

/** What the submitted statement tells us about text the agent sent. */
export interface ErrorTextContext {
  /** The SQL exactly as the agent submitted it. */
  sql: string;
  /** Fully qualified table names the policy resolved (`ANALYTICS.PUBLIC.CUSTOMERS`); their parts may be echoed. */
  names?: readonly string[];
}

/** Quote characters warehouses use, opening → closing. */
const QUOTES: ReadonlyMap<string, string> = new Map([
  ["'", "'"],
  ['"', '"'],
  ['`', '`'],
  ['\u2018', '\u2019'],
  ['\u201c', '\u201d'],
  ['\u00ab', '\u00bb'],
  ['[', ']'],
]);

/**
 * Words that, right before a fragment or an unquoted token, say it is a value
 * taken from the data being processed (not a name from the SQL).
 */
const VALUE_CONTEXT =
  /(?:\b(?:values?|strings?|date|time|timestamp(?:_[a-z]+)?|boolean|literal|input|inputs|characters?|keyword|numbers?|numeric|parse|decimal|json|text|token|content|got|found|received|actual|data|row|variant|key|cast|casting|convert|converting|pattern|regex|regexp|regular expression|format|specifier)\s*[:=]?\s*)$/i;

/** A value-echo tail: `… Input: <value>` up to the end of the line. */
const COLON_TAIL = /\b(?:input|value|values|got|found|received|string|data|row|actual|literal|text|content|near)\s*[:=]\s*([^\s'"`\u2018\u201c\u00ab[][^\n]*)/gi;

/** Numbers a message may show: `line 1`, `position 12`, `byte 0`, type sizes. */
const STRUCTURAL_NUMBER = /\b(?:line|position|pos|offset|column|col|character|char|byte|bytes|index|length|precision|scale|size|width|at|code|statement|argument|arguments|expected|maximum|max|minimum|min|limit)\s*$/i;

/** `VARCHAR(16777216)`, `NUMBER(38,0)`: digits inside a type's size. */
const TYPE_SIZE = /\b[A-Z][A-Z0-9_]*\(\s*(?:\d+\s*,\s*)?$/;

/** A Snowflake/driver code prefix such as `100038 (22018): `. */
const CODE_PREFIX = /^\d{6} \([0-9A-Z]{5}\): /;

/** A marker this module or the detectors wrote. */
const MARKER = /^\[REDACTED(?::[A-Z_]+)?\]/;

const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/**
 * Every token of the SQL the agent may see echoed, upper-cased: bare words,
 * numbers, string literal contents ('…' and $$…$$) and quoted identifiers.
 */
export function sqlTokens(sql: string): Set<string> {
  const out = new Set<string>();
  const add = (t: string) => {
    if (t !== '') out.add(t.toUpperCase());
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'") {
      let j = i + 1;
      let text = '';
      let rawEnd = -1;
      while (j < sql.length) {
        if (sql[j] === '\\' && j + 1 < sql.length) {
          text += sql[j]! + sql[j + 1]!;
          j += 2;
          continue;
        }
        if (sql[j] === "'") {
          if (sql[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          rawEnd = j;
          break;
        }
        text += sql[j]!;
        j++;
      }
      add(text);
      add(sql.slice(i + 1, rawEnd < 0 ? sql.length : rawEnd));
      i = rawEnd < 0 ? sql.length : rawEnd + 1;
    } else if (c === '$' && sql[i + 1] === '$') {
      const end = sql.indexOf('$$', i + 2);
      add(sql.slice(i + 2, end < 0 ? sql.length : end));
      i = end < 0 ? sql.length : end + 2;
    } else if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      add(sql.slice(i + 1, end < 0 ? sql.length : end));
      i = end < 0 ? sql.length : end + 1;
    } else if (/[\p{L}_]/u.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[\p{L}\p{N}_$]/u.test(sql[j]!)) j++;
      add(sql.slice(i, j));
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[0-9.eE]/.test(sql[j]!)) j++;
      add(sql.slice(i, j));
      i = j;
    } else {
      i++;
    }
  }
  return out;
}

interface Known {
  tokens: Set<string>;
  names: Set<string>;
}

/** A fragment the agent sent: a whole SQL token, or a dotted name whose every part is one (or a resolved table's part). */
function sentByAgent(fragment: string, known: Known): boolean {
  const f = fragment.trim().toUpperCase();
  if (f === '' || MARKER.test(f)) return true;
  if (known.tokens.has(f) || known.tokens.has(f.replace(/^"(.*)"$/, '$1'))) return true;
  const parts = f.split('.');
  if (parts.length < 2) return false;
  return parts.every((p) => {
    const part = p.replace(/^"(.*)"$/, '$1');
    return part !== '' && (known.tokens.has(part) || known.names.has(part));
  });
}

/** Where the quoted fragment that opens at `open` ends (index of its closing quote), or -1 when unterminated. */
function closingQuote(text: string, open: number, close: string): number {
  for (let j = open + 1; j < text.length; j++) {
    if (text[j] !== close) continue;
    // A closing quote ends a word: `'O'Brien'` closes after Brien, not after O.
    if (!isWordChar(text[j + 1])) return j;
  }
  return -1;
}

/** The last closing quote after `open` that ends a word, or -1. */
function lastClosingQuote(text: string, open: number, close: string): number {
  for (let j = text.length - 1; j > open; j--) if (text[j] === close && !isWordChar(text[j + 1])) return j;
  return -1;
}

/** Replace every quoted fragment the agent did not send, and every value in a value-echo position. */
function redactQuoted(text: string, known: Known): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    // Markers of an earlier pass (`[REDACTED]`, `[REDACTED:SSN]`) stay as they are.
    const marker = c === '[' ? MARKER.exec(text.slice(i, i + 40)) : null;
    if (marker) {
      out += marker[0];
      i += marker[0].length;
      continue;
    }
    const close = QUOTES.get(c);
    // An opening quote starts a word: the apostrophe in `Can't` opens nothing.
    if (close === undefined || isWordChar(text[i - 1])) {
      out += c;
      i++;
      continue;
    }
    const valuePosition = VALUE_CONTEXT.test(text.slice(Math.max(0, i - 40), i));
    // A value from the data may hold the quote character itself (`'it' is 189-43-2403'`): in a value
    // position the fragment runs to the last closing quote of the message, so no part of it escapes.
    const end = valuePosition ? lastClosingQuote(text, i, close) : closingQuote(text, i, close);
    if (end < 0) {
      // Unterminated: everything after the quote may be a value.
      return `${out}${c}${ERROR_REDACTION}`;
    }
    const keep = !valuePosition && sentByAgent(text.slice(i + 1, end), known);
    // A bracketed value becomes the bare marker, which is bracketed already.
    out += keep ? text.slice(i, end + 1) : c === '[' ? ERROR_REDACTION : `${c}${ERROR_REDACTION}${close}`;
    i = end + 1;
  }
  return out;
}

/** Redact unquoted values: colon tails, tokens after value words, and long numbers the SQL does not hold. */
function redactUnquoted(text: string, known: Known): string {
  let t = text.replace(COLON_TAIL, (whole: string, tail: string) => {
    if (sentByAgent(tail, known)) return whole;
    return whole.slice(0, whole.length - tail.length) + ERROR_REDACTION;
  });
  // `… with value 189432403 can't be cast`, `string abc to INT32`: the token after a value word.
  t = t.replace(/\b(values?|strings?|literal|input)(\s+)([^\s'"`\u2018\u201c\u00ab[]+)/gi, (whole: string, word: string, space: string, token: string) => {
    const bare = token.replace(/[.,;:)]+$/, '');
    // Even a token the SQL holds goes: in a value position an echo of a decoy literal would be an oracle.
    if (bare === '' || bare === ERROR_REDACTION || /^(?:is|was|to|of|for|in|from|as|at|the|a|an|and|or|not|cannot|can't|could|does|did|has|have|are|were|be|must|should|will|would|too|out|with|when|exceeds?)$/i.test(bare)) return whole;
    return `${word}${space}${ERROR_REDACTION}${token.slice(bare.length)}`;
  });
  // Any run holding a digit that the SQL does not hold, unless the message's structure explains it.
  const prefix = CODE_PREFIX.exec(t)?.[0] ?? '';
  const body = t.slice(prefix.length);
  return (
    prefix +
    body.replace(/[^\s'"`,;()[\]{}<>]*\d[^\s'"`,;()[\]{}<>]*/g, (run: string, offset: number) => {
      const bare = run.replace(/[.:]+$/, '');
      if (bare.includes(ERROR_REDACTION) || sentByAgent(bare, known)) return run;
      const digits = bare.replace(/\D/g, '').length;
      // `INT64`, `UTF8`, `line 1`, `pos 12`: few digits in a name, or a small number.
      if (digits <= 2 && (/^\p{L}/u.test(bare) || /^\d+$/.test(bare))) return run;
      const before = body.slice(Math.max(0, offset - 40), offset);
      if (/^\d+$/.test(bare) && (STRUCTURAL_NUMBER.test(before) || TYPE_SIZE.test(before))) return run;
      return ERROR_REDACTION + run.slice(bare.length);
    })
  );
}

/**
 * The error message as it may leave Airlock: quoted fragments the agent did
 * not send redacted, values in value-echo positions redacted, unexplained
 * numbers redacted, then the PII detectors over the rest. Idempotent.
 */
export function redactErrorText(message: string, context: ErrorTextContext): string {
  const known: Known = {
    tokens: sqlTokens(context.sql),
    names: new Set((context.names ?? []).flatMap((n) => n.toUpperCase().split('.')).map((p) => p.replace(/^"(.*)"$/, '$1'))),
  };
  let text = message.length > MAX_ERROR_TEXT_CHARS ? `${message.slice(0, MAX_ERROR_TEXT_CHARS)} …(cut)` : message;
  text = redactQuoted(text, known);
  text = redactUnquoted(text, known);
  return maskText(text);
}
