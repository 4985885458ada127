/** `airlock config check`: the environment and the policy file, every problem with its path. */
import { checkEnv } from '../../config/env.ts';
import { DEFAULT_POLICY_PATH, formatPolicyProblem, loadPolicyFile, policyPathFrom, policyProblemsOf } from '../../config/policy-file.ts';
import { stderr } from '../lib/process.ts';

/** Print every problem with the environment and the policy file; exit 1 when there is any. */
export async function configCheck(): Promise<number> {
  const { config, problems } = checkEnv(process.env);
  const lines = problems.map((p) => `${p.variable}: ${p.message}`);
  // With an invalid environment there is no Config; still check the file it names.
  const policyPath = config ? policyPathFrom(config) : process.env.AIRLOCK_POLICY || DEFAULT_POLICY_PATH;
  try {
    const policy = await loadPolicyFile(policyPath);
    if (lines.length === 0) {
      stderr(`policy ${policyPath}: OK (${policy.file.rules.length} rules, version ${policy.version.slice(0, 12)})`);
    }
  } catch (err) {
    const policyProblems = policyProblemsOf(err);
    if (policyProblems.length === 0) throw err;
    for (const p of policyProblems) lines.push(`policy ${policyPath}: ${formatPolicyProblem(p)}`);
  }
  if (lines.length === 0) {
    process.stdout.write('configuration OK\n');
    return 0;
  }
  for (const line of lines) process.stdout.write(`${line}\n`);
  return 1;
}
