/**
 * Reason codes and their risks: the one place that maps statement kinds,
 * categories, flags and rule evidence to a code, and a code to a risk. Pure.
 *
 * To add a code: add it to {@link REASON_CODES}, map whatever produces it here,
 * give it a risk in {@link CODE_RISK} if it has one of its own, and list it in
 * docs/api.md (test/docs/codes.test.ts keeps the two equal).
 */
import type { Classification } from './kinds.ts';
import type { Flag } from './flags.ts';
import { isSystemFunction } from './functions.ts';

/** How severe a decision or one of its reasons is. */
export type Risk = 'low' | 'medium' | 'high' | 'critical';

/** Every reason code the engine itself emits (a rule may set its own: {@link RuleReasonCode}). */
export const REASON_CODES = [
  'READ_ONLY',
  'SELECT_STAR',
  'UNBOUNDED_READ',
  'SENSITIVE_COLUMN',
  'SENSITIVE_TABLE',
  'WRITE',
  'DDL',
  'CLONE',
  'STAGE_ACCESS',
  'SESSION_CHANGE',
  'UNKNOWN_FUNCTION',
  'MULTI_STATEMENT',
  'UNBOUNDED_WRITE',
  'DESTRUCTIVE_DDL',
  'DESTRUCTIVE_WRITE',
  'PRIVILEGE_CHANGE',
  'CODE_EXECUTION',
  'SYSTEM_FUNCTION',
  'CROSS_SESSION',
  'HIDDEN_WRITE',
  'UNKNOWN_STATEMENT',
  'INCOMPLETE_ANALYSIS',
  'EXFILTRATION',
  'ACCOUNT_CHANGE',
  'FUNCTION_CALL',
  'COLUMN_RULE',
  'TABLE_RULE',
  'POLICY_RULE',
  'SQL_UNPARSEABLE',
  'SQL_EMPTY',
  'SQL_TOO_COMPLEX',
  'NOT_SQL',
] as const;
/** A reason code the engine emits. */
export type ReasonCode = (typeof REASON_CODES)[number];

/**
 * A reason's code: one of {@link ReasonCode}, or the `code:` a policy rule sets
 * for itself (UPPER_SNAKE, checked by schema.ts). `string & {}` keeps editor
 * completion for the built-in codes while accepting a rule's own.
 */
export type RuleReasonCode = ReasonCode | (string & {});

/** The risk of a code when the rule sets none; codes not listed count as `medium` (or `high` when incomplete). */
const CODE_RISK: Partial<Record<ReasonCode, Risk>> = {
  READ_ONLY: 'low',
  SELECT_STAR: 'low',
  UNBOUNDED_READ: 'medium',
  SENSITIVE_COLUMN: 'medium',
  SENSITIVE_TABLE: 'high',
  WRITE: 'medium',
  DDL: 'medium',
  CLONE: 'medium',
  STAGE_ACCESS: 'medium',
  SESSION_CHANGE: 'medium',
  UNKNOWN_FUNCTION: 'medium',
  MULTI_STATEMENT: 'medium',
  UNBOUNDED_WRITE: 'high',
  DESTRUCTIVE_DDL: 'high',
  DESTRUCTIVE_WRITE: 'high',
  PRIVILEGE_CHANGE: 'high',
  CODE_EXECUTION: 'high',
  SYSTEM_FUNCTION: 'high',
  CROSS_SESSION: 'high',
  HIDDEN_WRITE: 'high',
  UNKNOWN_STATEMENT: 'high',
  INCOMPLETE_ANALYSIS: 'high',
  EXFILTRATION: 'critical',
  ACCOUNT_CHANGE: 'critical',
  SQL_UNPARSEABLE: 'high',
};

/** The risk a code carries on its own, if it has one (a rule's own code has none). */
export const riskOfCode = (code: RuleReasonCode): Risk | undefined => CODE_RISK[code as ReasonCode];

/** The reason code a rule matched on a flag reports, unless the rule names its own. */
const FLAG_CODES: Record<Flag, ReasonCode> = {
  incomplete: 'INCOMPLETE_ANALYSIS',
  no_where: 'UNBOUNDED_WRITE',
  no_limit: 'UNBOUNDED_READ',
  select_star: 'SELECT_STAR',
  unknown_function: 'UNKNOWN_FUNCTION',
  system_function: 'SYSTEM_FUNCTION',
  cross_session: 'CROSS_SESSION',
  presigned_url: 'EXFILTRATION',
  stage_reference: 'STAGE_ACCESS',
  hidden_write: 'HIDDEN_WRITE',
  write_after_cte: 'WRITE',
  replace: 'DESTRUCTIVE_DDL',
  clone: 'CLONE',
  overwrite: 'DESTRUCTIVE_WRITE',
  admin_role: 'PRIVILEGE_CHANGE',
  drop_container: 'DESTRUCTIVE_DDL',
  unknown_object: 'UNKNOWN_STATEMENT',
  script_block: 'CODE_EXECUTION',
};

/** What a statement's code depends on: its kind and categories, and its flags (`no_where`). */
export interface KindFacts {
  cls: Pick<Classification, 'kind' | 'categories'>;
  flags: ReadonlySet<string>;
}

/** Categories from the most severe family down: a statement's kind code is that of the first it has. */
const CATEGORY_SEVERITY: readonly Classification['categories'][number][] = ['exfiltration', 'account', 'privilege', 'session', 'transaction', 'code', 'destructive', 'write', 'ddl', 'stage', 'unknown'];

/** The code one category implies for a statement (`read` and anything unlisted: READ_ONLY). */
function categoryCode(category: string, s: KindFacts): ReasonCode {
  switch (category) {
    case 'exfiltration':
      return 'EXFILTRATION';
    case 'account':
      return 'ACCOUNT_CHANGE';
    case 'privilege':
      return 'PRIVILEGE_CHANGE';
    case 'session':
    case 'transaction':
      return 'SESSION_CHANGE';
    case 'code':
      return 'CODE_EXECUTION';
    case 'destructive':
      return ['drop', 'create', 'alter', 'undrop'].includes(s.cls.kind) ? 'DESTRUCTIVE_DDL' : 'DESTRUCTIVE_WRITE';
    case 'write':
      return s.flags.has('no_where') ? 'UNBOUNDED_WRITE' : 'WRITE';
    case 'ddl':
      return 'DDL';
    case 'stage':
      return 'STAGE_ACCESS';
    case 'unknown':
      return 'UNKNOWN_STATEMENT';
    default:
      return 'READ_ONLY';
  }
}

/** The code a statement's own kind implies, most severe family first. */
export function kindCode(s: KindFacts): ReasonCode {
  const category = CATEGORY_SEVERITY.find((c) => s.cls.categories.includes(c));
  return category ? categoryCode(category, s) : 'READ_ONLY';
}

/** What a rule's match held on, as far as its code depends on it (most specific first in {@link codeFor}). */
export interface CodeEvidence {
  kind?: string;
  category?: string;
  flag?: Flag;
  table?: string;
  column?: string;
  fn?: string;
  incomplete?: boolean;
}

/** The code of a matched rule without its own `code:` (sensitive touches are coded where they are described). */
export function codeFor(ev: CodeEvidence, s: KindFacts): ReasonCode {
  if (ev.flag) return FLAG_CODES[ev.flag];
  if (ev.incomplete) return 'INCOMPLETE_ANALYSIS';
  if (ev.fn) return isSystemFunction(ev.fn) ? 'SYSTEM_FUNCTION' : 'FUNCTION_CALL';
  if (ev.column) return 'COLUMN_RULE';
  if (ev.category) return categoryCode(ev.category, s);
  if (ev.kind) {
    if (ev.kind.endsWith('_without_where')) return 'UNBOUNDED_WRITE';
    return kindCode(s);
  }
  if (ev.table) return 'TABLE_RULE';
  return 'POLICY_RULE';
}
