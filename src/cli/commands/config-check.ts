/**
 * `airlock config check [--roles api,worker,slack]`: the environment, the
 * policy file, and per role what `airlock serve` would refuse at start-up,
 * every problem with its variable or path.
 */
import { parseArgs } from 'node:util';
import { checkEnv } from '../../config/env.ts';
import { sessionDefaultProblems } from '../../policy/session-defaults.ts';
import { DEFAULT_POLICY_PATH, formatPolicyProblem, loadPolicyFile, policyPathFrom, policyProblemsOf } from '../../config/policy-file.ts';
import { logger, stderr } from '../lib/process.ts';

/** Print every problem with the environment, the policy file and the roles; exit 1 when there is any, 2 on a usage error. */
export async function configCheck(args: string[] = []): Promise<number> {
  const { values } = parseArgs({ args, options: { roles: { type: 'string' } }, strict: true });
  const { config, problems } = checkEnv(process.env);
  const lines = problems.map((p) => `${p.variable}: ${p.message}`);
  // With an invalid environment there is no Config; still check the file it names.
  const policyPath = config ? policyPathFrom(config) : process.env.AIRLOCK_POLICY || DEFAULT_POLICY_PATH;
  try {
    const policy = await loadPolicyFile(policyPath);
    // The same check every process makes at start: the policy's defaults and the connection's names agree.
    const session = { database: config?.SNOWFLAKE_DATABASE, schema: config?.SNOWFLAKE_SCHEMA };
    for (const p of sessionDefaultProblems(policy, session)) lines.push(`policy ${policyPath}: ${formatPolicyProblem(p)}`);
    if (lines.length === 0) {
      stderr(`policy ${policyPath}: OK (${policy.file.rules.length} rules, version ${policy.version.slice(0, 12)})`);
    }
  } catch (err) {
    const policyProblems = policyProblemsOf(err);
    if (policyProblems.length === 0) throw err;
    for (const p of policyProblems) lines.push(`policy ${policyPath}: ${formatPolicyProblem(p)}`);
  }
  // The roles are checked only on a valid environment: their rules read the parsed values.
  if (config) {
    const { ALL_ROLES } = await import('../../app/roles/role.ts');
    const { checkRoles, defaultRoles } = await import('../../app/role-checks.ts');
    const named = values.roles?.split(',').map((r) => r.trim()).filter(Boolean);
    const unknown = (named ?? []).filter((r) => !(ALL_ROLES as readonly string[]).includes(r));
    if (unknown.length > 0) {
      stderr(`airlock: unknown role(s): ${unknown.join(', ')}. Roles: ${ALL_ROLES.join(', ')}.`);
      return 2;
    }
    const roles = (named as typeof ALL_ROLES | undefined) ?? defaultRoles(config);
    stderr(`roles ${roles.join(',')}${named ? '' : ' (what `airlock serve` runs by default; --roles to check others)'}:`);
    for (const check of await checkRoles(config, roles, logger({ ...config, AIRLOCK_LOG_LEVEL: 'silent' }))) {
      for (const p of check.problems) lines.push(`${check.role} role: ${p}`);
      for (const w of check.warnings) stderr(`  ${check.role}: warning: ${w}`);
      if (check.problems.length === 0) stderr(`  ${check.role}: OK${check.ok ? ` (${check.ok})` : ''}`);
    }
  }
  if (lines.length === 0) {
    process.stdout.write('configuration OK\n');
    return 0;
  }
  for (const line of lines) process.stdout.write(`${line}\n`);
  return 1;
}
