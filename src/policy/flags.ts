/**
 * Findings the analysis attaches to a statement. A policy's `match.flags` names
 * them; docs/policy.md lists them; the code each produces is in codes.ts.
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
