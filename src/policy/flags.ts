/**
 * Findings the analysis attaches to a statement, each with the reason code it
 * produces. A policy's `match.flags` names them; docs/policy.md lists them.
 */

export const FLAGS = [
  'incomplete',
  'no_where',
  'no_limit',
  'select_star',
  'unknown_function',
  'system_function',
  'cross_session',
  'presigned_url',
  'stage_reference',
  'hidden_write',
  'write_after_cte',
  'replace',
  'clone',
  'overwrite',
  'admin_role',
  'drop_container',
  'unknown_object',
  'script_block',
] as const;
export type Flag = (typeof FLAGS)[number];

/** The reason code a rule matched on a flag reports, unless the rule names its own. */
export const FLAG_CODES: Record<Flag, string> = {
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
