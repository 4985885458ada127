/**
 * What the main thread and an analysis thread say to each other
 * (src/analysis/pool.ts, src/analysis/thread.ts): plain data, copied by
 * structured clone.
 */
import type { Decision } from '../policy/decision.ts';
import type { EvaluationContext } from '../policy/engine.ts';
import type { ParsedPolicy } from '../policy/schema.ts';

/** Evaluate `sql` under `policy` for the requester in `ctx`. */
export interface ThreadTask {
  id: number;
  policy: ParsedPolicy;
  sql: string;
  ctx: EvaluationContext;
}

/** The decision, or why the thread could not produce one. */
export type ThreadReply = { id: number; decision: Decision } | { id: number; error: string };
