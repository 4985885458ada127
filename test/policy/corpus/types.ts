/**
 * Shape of one policy corpus case. Every case is evaluated against the shipped
 * default policy (`policies/default.yaml`) by `test/policy/corpus.test.ts`.
 */
export type Action = 'allow' | 'review' | 'deny';
export type Risk = 'low' | 'medium' | 'high' | 'critical';

export interface PolicyCase {
  sql: string;
  /** The expected action, or the set of acceptable ones (used only where the semantics leave a choice). */
  action: Action | Action[];
  /** Reason codes that must all appear (more may). */
  codes?: string[];
  /** Reason codes that must not appear. */
  absent?: string[];
  /** Exact risk, or the set of acceptable ones. */
  risk?: Risk | Risk[];
  /** `approvals.required` (review only). */
  approvals?: number;
  /** Groups that must be among `approvals.groups`. */
  groups?: string[];
  /**
   * Sensitive objects a SENSITIVE_COLUMN / SENSITIVE_TABLE reason must name:
   * `DB.SCHEMA.TABLE.COLUMN` must equal some such reason's `column`;
   * `DB.SCHEMA.TABLE` must equal its `table` or prefix its `column`.
   */
  names?: string[];
  /** Resolved tables that must appear among the statements' `tables`. */
  tables?: string[];
  /** Exact number of statements the request splits into. */
  statements?: number;
  /** Statement kinds, in order (checked when given). */
  kinds?: string[];
  /** An evasion attempt (counted towards the ≥ 60 required). */
  evasion?: boolean;
  /** Why the case exists, when the SQL alone does not say. */
  note?: string;
  ctx?: { agent?: string; groups?: string[] };
}

export const HIGH: Risk[] = ['high', 'critical'];
export const NOT_ALLOW: Action[] = ['review', 'deny'];

/** Mark every case of a list as an evasion attempt. */
export const evasions = (cases: PolicyCase[]): PolicyCase[] => cases.map((c) => ({ ...c, evasion: true }));
