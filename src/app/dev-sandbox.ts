/**
 * `airlock dev` without SLACK_BOT_TOKEN: the Slack sandbox (src/sandbox/) on
 * dev's own HTTP server. Airlock is configured exactly as for real Slack — a
 * bot token, a signing secret, an approval channel and SLACK_API_URL — only
 * every value points at the sandbox, so no code path of Airlock changes. The
 * policy gets the sandbox's approvers (the file on disk is not touched), and
 * the sandbox's security reviewer joins AIRLOCK_SLACK_REVIEWERS. The channel
 * is kept in `sandbox-channel.json` in the state directory across restarts.
 */
import { join } from 'node:path';
import type { Config } from '../config/env.ts';
import type { Logger } from '../log.ts';
import type { ParsedPolicy } from '../policy/schema.ts';
import { createSandbox, type Sandbox } from '../sandbox/server.ts';
import { sandboxPolicy } from '../sandbox/roster.ts';

/** The sandbox's channel in the state directory, kept across restarts. */
const SANDBOX_CHANNEL_FILE = 'sandbox-channel.json';

/** Dev's config and policy with the sandbox in place, and the sandbox to mount. */
export interface SandboxedDev {
  config: Config;
  policy: ParsedPolicy;
  sandbox?: Sandbox;
}

/** True when dev should run the sandbox: no real Slack is configured. */
const wantsSandbox = (config: Config): boolean => !config.SLACK_BOT_TOKEN && !config.SLACK_APP_TOKEN;

/** `http://host:port` as a loopback client reaches a server bound to `host`. */
function originOf(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/**
 * With no Slack configured, the sandbox: its URL needs the port before the
 * server listens, so a port of 0 is resolved to a free one here.
 */
export async function withSandbox(config: Config, policy: ParsedPolicy, deps: { logger: Logger; freePort: () => Promise<number>; stateDir?: string }): Promise<SandboxedDev> {
  if (!wantsSandbox(config)) return { config, policy };
  const port = config.AIRLOCK_PORT === 0 ? await deps.freePort() : config.AIRLOCK_PORT;
  const sandbox = createSandbox({
    origin: originOf(config.AIRLOCK_HOST, port),
    logger: deps.logger.child({ component: 'sandbox' }),
    ...(deps.stateDir ? { stateFile: join(deps.stateDir, SANDBOX_CHANNEL_FILE) } : {}),
  });
  await sandbox.ready;
  const sandboxed: Config = Object.freeze({
    ...config,
    ...sandbox.slackEnv,
    AIRLOCK_PORT: port,
    AIRLOCK_SLACK_REVIEWERS: [...new Set([...config.AIRLOCK_SLACK_REVIEWERS, sandbox.reviewerId])],
  });
  return { config: sandboxed, policy: sandboxPolicy(policy), sandbox };
}
