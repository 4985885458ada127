/**
 * What a statement's tokens say, whether or not the parser reads it: size
 * bounds (SQL_TOO_COMPLEX), gaps and flags the tree may hide, and a fallback
 * reading of names for statements the parser cannot explain. Pure.
 */
import { joinName, resolveParts, type Defaults } from './names.ts';
import { BUILT_IN_FUNCTIONS, HARMLESS_TABLE_FUNCTIONS, isCrossSession, isCrossSessionFunction, isSystemFunction, PRESIGNED_FUNCTIONS } from './functions.ts';
import { identifierName, type LexedStatement } from './lexer.ts';

/**
 * Size bounds of one statement, checked on its tokens before the parser runs:
 * past them the request is refused with SQL_TOO_COMPLEX (a 4xx, nothing runs)
 * instead of costing seconds of parsing or the stack. Tree depth is bounded in
 * facts.ts (MAX_TREE_DEPTH).
 */
export const COMPLEXITY_LIMITS = { tokens: 50_000, parenDepth: 200, setOperations: 500 } as const;

/** Words after which a name is a table: the fallback for statements the parser cannot read. */
const TABLE_INTRODUCERS = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE', 'TABLE', 'USING']);
/** Words followed by `(` that are not function calls. */
const NOT_FUNCTIONS = new Set([
  'IN', 'EXISTS', 'VALUES', 'OVER', 'AS', 'FROM', 'JOIN', 'USING', 'SAMPLE', 'TABLESAMPLE', 'AT', 'BEFORE', 'CHANGES',
  'INTO', 'TABLE', 'AND', 'OR', 'NOT', 'ON', 'WHERE', 'SELECT', 'WITH', 'LATERAL', 'PARTITION', 'BY', 'ANY', 'ALL',
  'SOME', 'EXCLUDE', 'RENAME', 'REPLACE', 'MATCH_RECOGNIZE', 'PIVOT', 'UNPIVOT', 'FOR', 'WITHIN', 'GROUP', 'IDENTIFIER',
  'CLUSTER', 'FILE_FORMAT', 'RECURSIVE', 'FILTER', 'QUALIFY', 'HAVING', 'THEN', 'ELSE', 'WHEN', 'CASE', 'LIMIT', 'TOP',
  'VIEW', 'FUNCTION', 'PROCEDURE', 'RETURNS', 'ARRAY', 'OBJECT', 'NUMBER', 'DECIMAL', 'VARCHAR', 'CHAR', 'STRING', 'TIMESTAMP',
]);

/**
 * What the tokens say when the parser could not: tables named after FROM/JOIN/…,
 * names that equal catalogued sensitive columns, calls of unknown functions.
 * Only used for incomplete statements, which are never allowed; it keeps their
 * reasons informative for the reviewer.
 */
export function tokenFallback(st: LexedStatement, d: Defaults): { tables: string[]; words: Set<string>; unknownCall: boolean } {
  const toks = st.tokens;
  const tables: string[] = [];
  const words = new Set<string>();
  let unknownCall = false;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'word' && t.kind !== 'quoted') continue;
    words.add(joinName([identifierName(t)]));
    if (t.kind === 'word' && TABLE_INTRODUCERS.has(t.text)) {
      let j = i + 1;
      if (toks[j]?.kind === 'word' && ['TABLE', 'LATERAL', 'ONLY'].includes(toks[j]!.text)) j++;
      const parts: string[] = [];
      while (toks[j] && (toks[j]!.kind === 'word' || toks[j]!.kind === 'quoted')) {
        parts.push(identifierName(toks[j]!));
        if (toks[j + 1]?.text !== '.') break;
        j += 2;
      }
      if (parts.length > 0 && toks[j + 1]?.text !== '(') tables.push(resolveParts(parts, d));
    }
    if (t.kind === 'word' && toks[i + 1]?.text === '(' && !NOT_FUNCTIONS.has(t.text) && toks[i - 1]?.text !== '.') {
      if (!BUILT_IN_FUNCTIONS.has(t.text) && !isSystemFunction(t.text) && !isCrossSession(t.text) && !PRESIGNED_FUNCTIONS.has(t.text)) unknownCall = true;
    }
    // `db.sch.fn(…)`: a qualified call is always a UDF or an external function.
    if (toks[i + 1]?.text === '.' && toks[i + 3]?.text === '(' && i + 2 < toks.length && toks[i + 2]!.kind === 'word' && !TABLE_INTRODUCERS.has(toks[i - 1]?.text ?? '')) {
      unknownCall = true;
    }
  }
  return { tables: [...new Set(tables)], words, unknownCall };
}

/** True when a top-level WHERE appears in the statement (for writes the parser could not read). */
export function hasTopLevelWhere(st: LexedStatement): boolean {
  let depth = 0;
  for (const t of st.tokens) {
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && t.kind === 'word' && t.text === 'WHERE') return true;
  }
  return false;
}

/** Why a statement is past {@link COMPLEXITY_LIMITS}, or undefined. */
export function complexityProblem(st: LexedStatement): string | undefined {
  const toks = st.tokens;
  if (toks.length > COMPLEXITY_LIMITS.tokens) return `it has ${toks.length} tokens (at most ${COMPLEXITY_LIMITS.tokens})`;
  let depth = 0;
  let setOps = 0;
  for (const t of toks) {
    if (t.text === '(' && ++depth > COMPLEXITY_LIMITS.parenDepth) return `parentheses nest deeper than ${COMPLEXITY_LIMITS.parenDepth} levels`;
    if (t.text === ')') depth--;
    if (t.kind === 'word' && (t.text === 'UNION' || t.text === 'EXCEPT' || t.text === 'MINUS' || t.text === 'INTERSECT') && ++setOps >= COMPLEXITY_LIMITS.setOperations) {
      return `it combines more than ${COMPLEXITY_LIMITS.setOperations} queries with UNION/EXCEPT/INTERSECT`;
    }
  }
  return undefined;
}

/**
 * Object references the tokens show that the tree may not: `IDENTIFIER(…)`
 * anywhere, and `TABLE(…)` around anything but a harmless table function. A
 * backstop for the AST walk (facts.ts), so a spelling the parser reads
 * differently still leaves the statement incomplete.
 */
export function tokenGaps(st: LexedStatement): string[] {
  const gaps: string[] = [];
  const toks = st.tokens;
  for (let i = 0; i + 1 < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'word' || toks[i + 1]!.text !== '(') continue;
    if (t.text === 'IDENTIFIER') gaps.push('IDENTIFIER(…) names an object by a string Airlock does not resolve');
    if (t.text === 'TABLE') {
      const next = toks[i + 2];
      const harmless = next?.kind === 'word' && HARMLESS_TABLE_FUNCTIONS.has(next.text) && toks[i + 3]?.text === '(';
      if (!harmless) gaps.push('TABLE(…) reads rows Airlock cannot resolve to a known table');
    }
  }
  return gaps;
}

/** Flags the tokens show: stage references, cross-session names and calls, system and presigned-URL functions. */
export function tokenFlags(st: LexedStatement, flags: Set<string>): void {
  const toks = st.tokens;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'word' && t.kind !== 'quoted') {
      // `@stage`, `@~`, `@%table`: a stage reference.
      if (t.text === '@') flags.add('stage_reference');
      continue;
    }
    const name = identifierName(t).toUpperCase();
    // Quoted names resolve case-sensitively, but flagging the lower-case spelling too fails closed.
    if (isCrossSession(name)) flags.add('cross_session');
    // A call of any …HISTORY… table function (COPY_HISTORY(…), TASK_HISTORY(…)), parsed or not.
    if (toks[i + 1]?.text === '(' && isCrossSessionFunction(name)) flags.add('cross_session');
    if (isSystemFunction(name)) flags.add('system_function');
    if (PRESIGNED_FUNCTIONS.has(name)) flags.add('presigned_url');
  }
}
