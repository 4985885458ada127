/**
 * A query record as `/airlock pending` and `/airlock show` may display it.
 *
 * Literals carry the data a query is about (`WHERE ssn = '123-45-6789'`,
 * `email = 'x@y'`, an account number), so every string, `$$…$$` body and
 * number literal in the SQL is replaced by a placeholder (`'***'`, `$$***$$`,
 * `#`), keeping the statement's shape for review; what is left (comments,
 * identifiers) then goes through the same masking detectors the session log
 * uses (`redactText`), as do the prompt, purpose and decision reasons. Text the
 * lexer cannot read past (an unterminated string) is hidden from that point
 * on. Pure.
 */
import { redactDecision, redactText } from '../audit/redact.ts';
import { lex } from '../policy/lexer.ts';
import type { QueryRecord } from '../queries/types.ts';

const HIDDEN_TAIL = '… [rest hidden: Airlock could not read it safely]';

/** `sql` with every literal replaced and the rest through the detectors. */
export function maskSqlLiterals(sql: string): string {
  const { statements, error } = lex(sql);
  let out = '';
  let at = 0;
  for (const statement of statements) {
    for (const token of statement.tokens) {
      if (token.kind !== 'string' && token.kind !== 'number') continue;
      out += sql.slice(at, token.start);
      out += token.kind === 'number' ? '#' : token.text.startsWith('$$') ? '$$***$$' : "'***'";
      at = token.end;
    }
  }
  if (error && error.offset >= at) {
    out += sql.slice(at, error.offset) + HIDDEN_TAIL;
  } else {
    out += sql.slice(at);
  }
  return redactText(out);
}

/** A copy of the record safe for a Slack listing: SQL literals masked, free text through the detectors. */
export function recordForDisplay(record: QueryRecord): QueryRecord {
  return {
    ...record,
    sql: maskSqlLiterals(record.sql),
    decision: redactDecision(record.decision),
    ...(record.prompt !== undefined ? { prompt: redactText(record.prompt) } : {}),
    ...(record.purpose !== undefined ? { purpose: redactText(record.purpose) } : {}),
    ...(record.error ? { error: { ...record.error, message: redactText(record.error.message) } } : {}),
  };
}
