/**
 * What an agent can do about a reason: for each reason code, one sentence on
 * what would pass instead (drop the column, add a LIMIT, ask for review with a
 * purpose). Pure; the tools put it beside the reason so a denial teaches.
 */
import type { Action, Reason } from '../policy/decision.ts';

/** A reason as the tools show it: code, message, the table and column at fault, and what would pass. */
export interface TaughtReason {
  code: string;
  message: string;
  rule?: string;
  table?: string;
  column?: string;
  /** What would pass instead, when Airlock knows. */
  instead?: string;
}

/** The last part of a DATABASE.SCHEMA.TABLE.COLUMN name. */
const last = (name: string) => name.split('.').at(-1) ?? name;

/** One sentence per code: what would pass. `action` is what the policy decided for the whole request. */
function insteadOf(reason: Reason, action: Action): string | undefined {
  const column = reason.column ? last(reason.column) : undefined;
  switch (reason.code) {
    case 'SENSITIVE_COLUMN':
    case 'COLUMN_RULE':
      return `Leave out ${column ?? 'the sensitive column'} (from the select list and from WHERE/JOIN/GROUP BY/ORDER BY) to run without approval; or keep it and pass a purpose so approvers see why.`;
    case 'SENSITIVE_TABLE':
    case 'TABLE_RULE':
      return 'Read an aggregate or a non-sensitive table instead, or pass a purpose so approvers see why this table is needed.';
    case 'SELECT_STAR':
      return 'Name the columns you need instead of *.';
    case 'UNBOUNDED_READ':
      return 'Add a LIMIT (or a selective WHERE).';
    case 'UNBOUNDED_WRITE':
      return 'Add a WHERE clause that names the rows to change.';
    case 'MULTI_STATEMENT':
      return 'Send one statement per call.';
    case 'SESSION_CHANGE':
      return 'Name objects fully (DATABASE.SCHEMA.TABLE) instead of USE, SET, ALTER SESSION or transactions; each statement runs on its own pooled session.';
    case 'CROSS_SESSION':
      return "Re-run the query you need instead of reading another session's results (RESULT_SCAN, LAST_QUERY_ID, QUERY_HISTORY).";
    case 'EXFILTRATION':
      return 'Results come back through Airlock only; query the rows you need instead of copying data to a stage or URL.';
    case 'ACCOUNT_CHANGE':
      return 'Account settings are changed outside Airlock, by an administrator.';
    case 'SQL_UNPARSEABLE':
    case 'NOT_SQL':
    case 'SQL_EMPTY':
      return 'Send one complete Snowflake SQL statement.';
    case 'SQL_TOO_COMPLEX':
      return 'Split the statement into smaller ones, or simplify deeply nested expressions.';
    case 'INCOMPLETE_ANALYSIS':
    case 'UNKNOWN_STATEMENT':
    case 'UNKNOWN_FUNCTION':
      return 'Rewrite with plain SELECT syntax and built-in functions so Airlock can analyse it, or pass a purpose for the approvers.';
    default:
      return action === 'review' ? 'Pass a purpose that says why this is needed: approvers see it on the Slack card.' : undefined;
  }
}

/** The decision's reasons that are not plain "read only", each with what would pass. */
export function teach(reasons: readonly Reason[], action: Action): TaughtReason[] {
  return reasons
    .filter((r) => action === 'allow' || r.code !== 'READ_ONLY')
    .map((r) => {
      const instead = action === 'allow' ? undefined : insteadOf(r, action);
      return {
        code: r.code,
        message: r.message,
        ...(r.rule !== undefined ? { rule: r.rule } : {}),
        ...(r.table !== undefined ? { table: r.table } : {}),
        ...(r.column !== undefined ? { column: r.column } : {}),
        ...(instead !== undefined ? { instead } : {}),
      };
    });
}
