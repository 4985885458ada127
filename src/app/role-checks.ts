/**
 * What `airlock serve --roles …` would refuse, found without starting it:
 * `airlock config check` runs these per role, so a deployment learns before
 * its pods crash-loop that the worker has no Snowflake user or an unreadable
 * key, or that Slack is half configured. Warnings name what starts but will
 * not work as intended (an api role with no OIDC issuer accepts no token).
 */
import type { Config } from '../config/env.ts';
import { asAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { slackSettings, warehouseFromConfig } from './adapters.ts';
import { ALL_ROLES, type Role } from './roles/role.ts';

/** What one role needs that is missing (`problems`: serve refuses) or unwise (`warnings`: serve starts). */
export interface RoleCheck {
  role: Role;
  problems: string[];
  warnings: string[];
  /** One line on what was checked, when there is no problem. */
  ok?: string;
}

/** The roles `airlock serve` runs when none are named: all, the slack role only when Slack is configured. */
export function defaultRoles(config: Config): Role[] {
  return ALL_ROLES.filter((r) => r !== 'slack' || Boolean(config.SLACK_BOT_TOKEN));
}

/** The worker: SNOWFLAKE_ACCOUNT, _USER and a key file that loads (read and, if encrypted, decrypted), as start-up does. */
async function workerCheck(config: Config, logger: Logger): Promise<RoleCheck> {
  const check: RoleCheck = { role: 'worker', problems: [], warnings: [] };
  for (const variable of ['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER', 'SNOWFLAKE_PRIVATE_KEY_PATH'] as const) {
    if (!config[variable]) check.problems.push(`${variable}: required by the worker role`);
  }
  if (check.problems.length === 0) {
    try {
      // Builds the adapter exactly as the worker does (the key is loaded now; no connection is made).
      const warehouse = await warehouseFromConfig(config, logger);
      check.ok = `Snowflake ${config.SNOWFLAKE_USER}@${config.SNOWFLAKE_ACCOUNT}, key ${config.SNOWFLAKE_PRIVATE_KEY_PATH} loads (the login is checked by /readyz)`;
      await warehouse.close();
    } catch (err) {
      check.problems.push(`SNOWFLAKE_PRIVATE_KEY_PATH: ${asAirlockError(err).message}`);
    }
  }
  if (!config.AIRLOCK_MASKING_KEY) check.warnings.push('AIRLOCK_MASKING_KEY is unset: hash tokens in masked results change whenever a worker restarts, and differ between workers');
  return check;
}

/** The api role: it starts without an issuer, but then no token verifies. */
function apiCheck(config: Config): RoleCheck {
  const check: RoleCheck = { role: 'api', problems: [], warnings: [] };
  if (!config.OIDC_ISSUER) check.warnings.push('OIDC_ISSUER is unset: the API starts but accepts no token (every /v1 request gets 401 AUTH_INVALID)');
  else check.ok = `tokens from ${config.OIDC_ISSUER} for ${config.OIDC_AUDIENCE} (reachability is checked by /readyz)`;
  return check;
}

/** Check every role in `roles` as `airlock serve --roles` would start them. */
export async function checkRoles(config: Config, roles: readonly Role[], logger: Logger): Promise<RoleCheck[]> {
  const checks: RoleCheck[] = [];
  // Slack's parts depend on the whole set of roles in the process (adapters.ts decides, as at start-up).
  let slackProblem: string | undefined;
  try {
    slackSettings(config, roles);
  } catch (err) {
    slackProblem = asAirlockError(err).message;
  }
  for (const role of roles) {
    const check = role === 'worker' ? await workerCheck(config, logger) : role === 'api' ? apiCheck(config) : { role, problems: [], warnings: [] };
    // Reported once: on the slack role when it runs here, else on the worker (which posts the cards).
    if (slackProblem && role === (roles.includes('slack') ? 'slack' : 'worker')) check.problems.push(slackProblem);
    checks.push(check);
  }
  return checks;
}
