/** `airlock serve`: the chosen roles (all by default; slack only when Slack is configured). */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/env.ts';
import { ALL_ROLES, type Role } from '../../app/roles/role.ts';
import { AirlockError } from '../../errors.ts';
import { logger, onShutdown, stderr } from '../lib/process.ts';

/** `airlock serve [--roles api,worker,slack]`: the production entry point, until SIGTERM. */
export async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { roles: { type: 'string' } }, strict: true });
  const config = loadConfig(process.env);
  const log = logger(config);
  const { buildApp } = await import('../../app/build.ts');
  // By default every role; the slack role only when Slack is configured (SLACK_BOT_TOKEN).
  const roles = values.roles ? values.roles.split(',').map((r) => r.trim()) : ALL_ROLES.filter((r) => r !== 'slack' || config.SLACK_BOT_TOKEN);
  const unknown = roles.filter((r) => !(ALL_ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) {
    throw new AirlockError('BAD_REQUEST', `Unknown role(s): ${unknown.join(', ')}. Roles: ${ALL_ROLES.join(', ')}.`);
  }
  const app = await buildApp(config, { roles: roles as Role[], logger: log });
  const url = await app.listen();
  stderr(`airlock serving roles ${roles.join(',')}${url ? ` on ${url}` : ''}`);
  // SIGHUP re-reads the policy file and the Snowflake key file (docs/operations.md); a bad one is logged and the old one kept.
  process.on('SIGHUP', () => void app.reload());
  await onShutdown(() => app.close());
  return 0;
}
