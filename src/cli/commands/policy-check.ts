/**
 * `airlock policy check [--policy FILE] [--json] [--agent NAME] [--groups a,b] [SQL]`:
 * one SQL argument gives one decision; none reads JSON lines on stdin (`lib/json-lines.ts`).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/env.ts';
import { effectivePolicy, formatPolicyProblem, loadPolicyFile, policyPathFrom, policyProblemsOf } from '../../config/policy-file.ts';
import { asAirlockError } from '../../errors.ts';
import type { Decision } from '../../policy/decision.ts';
import type { PolicyEngine } from '../../policy/engine.ts';
import { formatDecision } from '../lib/format-decision.ts';
import { type CheckRequest, checkJsonLines } from '../lib/json-lines.ts';
import { stderr } from '../lib/process.ts';

const splitGroups = (s: string): string[] => s.split(',').map((g) => g.trim()).filter(Boolean);

/**
 * `airlock policy check`: evaluate SQL against a policy without running it.
 * Exit 0 whatever the decisions say; 2 for usage errors and an invalid policy.
 */
const POLICY_CHECK_OPTIONS = {
  policy: { type: 'string' },
  json: { type: 'boolean', default: false },
  agent: { type: 'string' },
  groups: { type: 'string' },
} as const;

export async function policyCheck(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof POLICY_CHECK_OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args, options: POLICY_CHECK_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usage(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) {
    return usage(`give the SQL as one argument (quote it), or none to read JSON lines from stdin; got ${positionals.length} arguments`);
  }
  const config = loadConfig(process.env);
  const policyPath = values.policy ?? policyPathFrom(config);
  let engine: PolicyEngine;
  try {
    // Judged as a running Airlock judges: with the connection's database and schema (SNOWFLAKE_DATABASE/SCHEMA).
    const policy = effectivePolicy(await loadPolicyFile(policyPath), { database: config.SNOWFLAKE_DATABASE, schema: config.SNOWFLAKE_SCHEMA }, policyPath);
    const { createPolicyEngine } = await import('../../policy/engine.ts');
    engine = createPolicyEngine(policy, { cacheSize: 1000 });
  } catch (err) {
    const problems = policyProblemsOf(err);
    if (problems.length === 0) throw err;
    stderr(`airlock: POLICY_INVALID: ${(err as Error).message}`);
    for (const p of problems) stderr(`  ${formatPolicyProblem(p)}`);
    return 2;
  }
  const defaults = {
    ...(values.agent ? { agent: values.agent } : {}),
    ...(values.groups !== undefined ? { groups: splitGroups(values.groups) } : {}),
  };
  const { checkSqlText } = await import('../../queries/service.ts');
  const evaluate = (req: CheckRequest): Decision => {
    checkSqlText(req.sql, config.AIRLOCK_MAX_SQL_BYTES);
    const groups = req.groups ?? defaults.groups;
    const agent = req.agent ?? defaults.agent;
    return engine.evaluate(req.sql, { ...(agent !== undefined ? { agent } : {}), ...(groups !== undefined ? { groups } : {}) });
  };

  const sql = positionals[0];
  if (sql !== undefined) {
    let decision: Decision;
    try {
      decision = evaluate({ sql });
    } catch (err) {
      const e = asAirlockError(err);
      if (e.code === 'SQL_INVALID' || e.code === 'SQL_TOO_LARGE') return usage(`${e.code}: ${e.message}`, false);
      throw err;
    }
    process.stdout.write(values.json ? `${JSON.stringify(decision)}\n` : `${formatDecision(decision)}\n`);
    return 0;
  }
  if (process.stdin.isTTY) {
    stderr('Reading JSON lines from stdin, e.g. {"sql": "select 1"}; end with Ctrl-D. (Or: airlock policy check "SQL")');
  }
  return checkJsonLines(evaluate, config.AIRLOCK_MAX_SQL_BYTES);
}

function usage(message: string, hint = true): number {
  stderr(`airlock: ${message}`);
  if (hint) stderr('usage: airlock policy check [--policy FILE] [--json] [--agent NAME] [--groups a,b] [SQL]');
  return 2;
}
