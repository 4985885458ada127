/**
 * Where a statement is analysed: small ones in process (well under a
 * millisecond, cheaper than a thread hop), large ones on the analysis pool
 * (src/analysis/pool.ts), so a 100 KB statement cannot stall the event loop.
 * The threshold is chosen by measurement (docs/benchmarks.md, docs/reliability.md).
 */
import type { Decision } from '../policy/decision.ts';
import type { EvaluationContext } from '../policy/engine.ts';
import { fingerprintOf, lex } from '../policy/lexer.ts';
import type { ParsedPolicy } from '../policy/schema.ts';
import { AnalysisStopped, type AnalysisPool } from './pool.ts';

/**
 * Statements of more UTF-8 bytes than this go to the pool by default
 * (AIRLOCK_ANALYSIS_OFFLOAD_BYTES). At 16 KB the
 * in-process analysis already costs several milliseconds of event loop while
 * the thread hop (copying the statement and the decision) stays well under
 * one (bench/analysis.ts; docs/reliability.md#large-sql-off-the-event-loop).
 */
export const OFFLOAD_BYTES = 16 * 1024;

/** More UTF-8 bytes than `thresholdBytes`; the length first (a UTF-16 unit is at most 3 bytes), so short SQL is never measured. */
export function isLarge(sql: string, thresholdBytes: number): boolean {
  return sql.length > thresholdBytes / 3 && Buffer.byteLength(sql) > thresholdBytes;
}

export interface OffloadOptions {
  /** The engine of the policy in force, in process. */
  inProcess: (sql: string, ctx: EvaluationContext) => Decision;
  /** The policy in force, sent with each large statement (a reloaded policy applies at once). */
  current: () => ParsedPolicy;
  pool: AnalysisPool;
  /** Statements of more UTF-8 bytes than this go to the pool. */
  thresholdBytes: number;
}

/** Evaluate in process or on the pool by size; a statement whose analysis stopped is denied as SQL_TOO_COMPLEX. */
export function offloadingEvaluate(options: OffloadOptions): (sql: string, ctx: EvaluationContext) => Promise<Decision> {
  return async (sql, ctx) => {
    if (!isLarge(sql, options.thresholdBytes)) return options.inProcess(sql, ctx);
    const policy = options.current();
    try {
      return await options.pool.evaluate(policy, sql, ctx);
    } catch (err) {
      if (err instanceof AnalysisStopped) return tooComplex(policy, sql, err.why);
      throw err;
    }
  };
}

/** The deny decision for a statement whose analysis did not finish: stricter than any analysis, never looser. */
function tooComplex(policy: ParsedPolicy, sql: string, why: string): Decision {
  return {
    action: 'deny',
    risk: 'high',
    reasons: [{ code: 'SQL_TOO_COMPLEX', message: `The SQL is too complex for Airlock to analyse (${why}); split it into smaller statements.`, statement: 0 }],
    approvals: { required: 0, groups: [] },
    statements: [],
    fingerprint: fingerprintOf(lex(sql).statements),
    complete: false,
    policy: { ...(policy.file.name ? { name: policy.file.name } : {}), version: policy.version },
  };
}
