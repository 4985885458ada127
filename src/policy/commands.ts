/**
 * Is a statement SQL at all? The words a SQL or Snowflake statement can start
 * with, and the one check that refuses a statement whose first word is none of
 * them (`SELCT * FROM x`, `hello`) at once, with a suggestion, instead of
 * sending it to an hour of human review. Pure.
 *
 * This check only ever makes a decision stricter (`deny` instead of `review`):
 * anything whose first word IS a command keyword goes through the full analysis
 * as before, however little of it the parser can read; a statement that starts
 * with no word at all (a parenthesis, a quoted name) is left to that analysis
 * too. The list is generous on purpose (Snowflake commands and scripting, and
 * the statement words of other SQL dialects): a wrong refusal costs a user a
 * retry, a missing word here costs nothing but the clearer answer.
 */
import type { LexedStatement } from './lexer.ts';

/** Every word a SQL statement (Snowflake, its scripting, or another dialect) may start with. */
export const COMMAND_WORDS: ReadonlySet<string> = new Set([
  // Snowflake commands (the classifier knows each of these: classify.ts)
  'SELECT', 'WITH', 'VALUES', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'COPY', 'PUT', 'GET',
  'LIST', 'LS', 'REMOVE', 'RM', 'CREATE', 'ALTER', 'DROP', 'UNDROP', 'GRANT', 'REVOKE', 'USE', 'SHOW',
  'DESC', 'DESCRIBE', 'EXPLAIN', 'CALL', 'EXECUTE', 'EXEC', 'SET', 'UNSET', 'BEGIN', 'START', 'COMMIT',
  'ROLLBACK', 'COMMENT',
  // Snowflake Scripting (a block split at its semicolons starts statements with these)
  'DECLARE', 'LET', 'IF', 'ELSE', 'ELSEIF', 'CASE', 'WHEN', 'THEN', 'FOR', 'WHILE', 'REPEAT', 'LOOP', 'UNTIL',
  'RETURN', 'RAISE', 'BREAK', 'CONTINUE', 'EXIT', 'ITERATE', 'LEAVE', 'OPEN', 'FETCH', 'CLOSE', 'EXCEPTION',
  'END', 'AWAIT', 'CANCEL', 'NULL', 'DO',
  // Statement words of other dialects an agent may send (then Snowflake answers, or review decides)
  'TABLE', 'FROM', 'REPLACE', 'UPSERT', 'RENAME', 'LOCK', 'UNLOCK', 'PREPARE', 'DEALLOCATE', 'RESET',
  'REFRESH', 'VACUUM', 'ANALYZE', 'ANALYSE', 'PRAGMA', 'ATTACH', 'DETACH', 'INSTALL', 'LOAD', 'UNLOAD',
  'EXPORT', 'IMPORT', 'CHECKPOINT', 'SUMMARIZE', 'PIVOT', 'UNPIVOT', 'SAVEPOINT', 'RELEASE', 'DISCARD',
  'NOTIFY', 'LISTEN', 'UNLISTEN', 'CLUSTER', 'REINDEX', 'KILL', 'ABORT', 'SHUTDOWN', 'BACKUP', 'RESTORE',
  'OPTIMIZE', 'REPAIR', 'FLUSH', 'PURGE', 'HANDLER', 'DBCC', 'PRINT', 'THROW', 'TRY', 'WAITFOR', 'GO',
  'SECURITY', 'SIGNAL', 'RESIGNAL', 'UNION', 'INTERSECT', 'EXCEPT', 'MINUS',
]);

/** The statement whose first word is not a command keyword, and that word; undefined when every statement starts like SQL. */
export function firstNonCommand(statements: readonly LexedStatement[]): { index: number; word: string } | undefined {
  for (const st of statements) {
    const first = st.tokens[0];
    // Only an unquoted word is judged; `(select …)`, `"X"`, `:var` go to the full analysis.
    if (first?.kind === 'word' && !COMMAND_WORDS.has(first.text)) return { index: st.index, word: first.text };
  }
  return undefined;
}

/** The commands a typo is checked against: the everyday ones (a rare scripting word is a worse guess than none). */
const SUGGESTED = [
  'SELECT', 'WITH', 'VALUES', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'COPY', 'CREATE', 'ALTER', 'DROP',
  'UNDROP', 'GRANT', 'REVOKE', 'USE', 'SHOW', 'DESCRIBE', 'EXPLAIN', 'CALL', 'EXECUTE', 'SET', 'BEGIN', 'COMMIT', 'ROLLBACK',
];

/** The everyday command a typo most likely meant (edit distance ≤ 2, and less than the word's length), if any. */
export function nearestCommand(word: string): string | undefined {
  let best: { word: string; distance: number } | undefined;
  for (const candidate of SUGGESTED) {
    const d = editDistance(word, candidate);
    if (d <= 2 && d < word.length && (!best || d < best.distance)) best = { word: candidate, distance: d };
  }
  return best?.word;
}

/** Levenshtein distance with adjacent transpositions (SELCET → SELECT is one edit). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The sentence a refused statement gets: which word, and what it may have meant. */
export function notSqlMessage(found: { index: number; word: string }, statementCount: number): string {
  const where = statementCount > 1 ? `Statement ${found.index + 1} starts` : 'The statement starts';
  const guess = nearestCommand(found.word);
  return `${where} with "${found.word}", which is not a SQL command${guess ? ` (did you mean ${guess}?)` : ''}; nothing ran. Send a SQL statement such as SELECT … FROM ….`;
}
