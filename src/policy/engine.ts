/**
 * The policy engine: SQL → per-statement analyses (analyse.ts) → rules
 * (rules.ts) → one decision, cached. Pure.
 *
 * The steps live in files of one concept each: tokens.ts (what the tokens
 * say), facts.ts (what the parse tree says), analyse.ts (one statement's
 * analysis), patterns.ts (name patterns and the sensitive catalog), rules.ts
 * (matching, verdicts, combining), codes.ts (reason codes and their risks).
 */
import { analyse, defaultsOf, type AnalysisContext } from './analyse.ts';
import type { ReasonCode } from './codes.ts';
import { firstNonCommand, notSqlMessage } from './commands.ts';
import type { Decision, StatementFacts } from './decision.ts';
import { fingerprintOf, lex } from './lexer.ts';
import { LruCache } from './lru.ts';
import { compileCatalog } from './patterns.ts';
import { combine, compileRules, decideStatement, type EvaluationContext, type RuleSet } from './rules.ts';
import type { ParsedPolicy } from './schema.ts';

export { catalogLookup, type CatalogLookup } from './patterns.ts';
export type { EvaluationContext } from './rules.ts';
export { COMPLEXITY_LIMITS } from './tokens.ts';

/** Decides for SQL under one policy. */
export interface PolicyEngine {
  /** The policy version (sha256 of its canonical form). */
  readonly version: string;
  /** Decide for `sql`. With the cache on, the decision is deeply frozen (shared between callers). */
  evaluate(sql: string, ctx?: EvaluationContext): Decision;
}

/** How an engine is built. */
export interface EngineOptions {
  /** Decisions kept in the LRU cache; 0 disables it. Default 10,000. */
  cacheSize?: number;
}

/** Build an engine for a validated policy. */
export function createPolicyEngine(policy: ParsedPolicy, options: EngineOptions = {}): PolicyEngine {
  const pc: AnalysisContext = { defaults: defaultsOf(policy.file), catalog: compileCatalog(policy.file.sensitive) };
  const rs = compileRules(policy.file);
  const cacheSize = options.cacheSize ?? 10_000;
  const cache = cacheSize > 0 ? new LruCache<string, Decision>(cacheSize) : undefined;
  return {
    version: policy.version,
    evaluate(sql: string, ctx: EvaluationContext = {}): Decision {
      if (!cache) return decide(policy, pc, rs, sql, ctx);
      const key = `${ctx.agent ?? ''}\u0000${[...(ctx.groups ?? [])].sort().join(',')}\u0000${sql}`;
      const hit = cache.get(key);
      if (hit) return hit;
      // Frozen, so a cached decision can be handed out without copying and never changed by a caller.
      const d = deepFreeze(decide(policy, pc, rs, sql, ctx));
      cache.set(key, d);
      return d;
    },
  };
}

/** Lex, analyse every statement, refuse what cannot be analysed, else decide by the rules. */
function decide(policy: ParsedPolicy, pc: AnalysisContext, rs: RuleSet, sql: string, ctx: EvaluationContext): Decision {
  const file = policy.file;
  const lexed = lex(sql);
  const fingerprint = fingerprintOf(lexed.statements);
  const policyInfo = { ...(file.name ? { name: file.name } : {}), version: policy.version };
  const refuse = (code: ReasonCode, message: string, statements: StatementFacts[] = [], statement = 0): Decision => ({
    action: 'deny',
    risk: 'high',
    reasons: [{ code, message, statement }],
    approvals: { required: 0, groups: [] },
    statements,
    fingerprint,
    complete: false,
    policy: policyInfo,
  });
  if (lexed.error) return refuse('SQL_UNPARSEABLE', `The SQL has ${lexed.error.message} at character ${lexed.error.offset + 1}.`);
  if (lexed.statements.length === 0) return refuse('SQL_EMPTY', 'There is no SQL statement to run (only whitespace or comments).');
  // A first word that is no SQL command (a typo, prose) is refused at once: stricter than review, never looser.
  const notSql = firstNonCommand(lexed.statements);
  if (notSql) return refuse('NOT_SQL', notSqlMessage(notSql, lexed.statements.length), [], notSql.index);
  const analyses = lexed.statements.map((st) => analyse(st, sql, 0, pc));
  const complex = analyses.find((a) => a.tooComplex);
  if (complex) {
    return refuse(
      'SQL_TOO_COMPLEX',
      `Statement ${complex.index + 1} is too complex for Airlock to analyse (${complex.tooComplex}); split it into smaller statements.`,
      analyses.map((a) => a.facts),
    );
  }
  const verdicts = analyses.map((a) => decideStatement(rs, a, ctx, a.index, analyses.length > 1 ? `Statement ${a.index + 1}: ` : ''));
  const c = combine(file, analyses, verdicts);
  // Keys in the order the decision JSON has always had.
  return {
    action: c.action,
    risk: c.risk,
    reasons: c.reasons,
    approvals: c.approvals,
    statements: analyses.map((a) => a.facts),
    fingerprint,
    complete: c.complete,
    ...(c.limits ? { limits: c.limits } : {}),
    policy: policyInfo,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
