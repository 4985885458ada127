/**
 * What the main thread and an analysis thread say to each other
 * (src/analysis/pool.ts, src/analysis/thread.ts): plain data, copied by
 * structured clone.
 */
import type { SelectLineage } from '../masking/lineage.ts';
import type { Decision } from '../policy/decision.ts';
import type { EvaluationContext } from '../policy/engine.ts';
import type { Defaults } from '../policy/names.ts';
import type { ParsedPolicy } from '../policy/schema.ts';

/** Evaluate `sql` under `policy` for the requester in `ctx` (API role), or trace its select list's lineage (worker role). */
export type ThreadTask =
  | { id: number; kind: 'decide'; policy: ParsedPolicy; sql: string; ctx: EvaluationContext }
  | { id: number; kind: 'lineage'; sql: string; defaults: Defaults };

/** The answer, or why the thread could not produce one. */
export type ThreadReply = { id: number; decision: Decision } | { id: number; lineage: SelectLineage } | { id: number; error: string };
