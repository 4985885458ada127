/**
 * Adapters from settings: the OIDC issuer, Snowflake and Slack are made from
 * the config here, once (Redis and the session log in `redis.ts`), so every
 * role and `airlock dev` get the same options.
 */
import { createHash, randomBytes } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import type { Config } from '../config/env.ts';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Authenticator } from '../api/server.ts';
import { isOwnerless } from '../approvals/identity.ts';
import { createTokenVerifier } from '../identity/verifier.ts';
import { webClientOptions } from '../slack/app.ts';
import { createSnowflakeWarehouse, type SnowflakeWarehouse } from '../warehouse/snowflake.ts';
import type { Role } from './roles/role.ts';

/** Turn the token's identity into the requester the services know. */
export function authenticatorFromConfig(config: Config, options: { logger: Logger; allowInsecureIssuer?: boolean }): Authenticator {
  if (!config.OIDC_ISSUER || !config.OIDC_AUDIENCE) {
    // Fail closed: without an issuer no token can be verified, so every call is refused.
    return {
      verify: async () => {
        throw new AirlockError('AUTH_INVALID', 'No OIDC issuer is configured (OIDC_ISSUER); the API accepts no tokens.');
      },
    };
  }
  const verifier = createTokenVerifier({
    issuer: config.OIDC_ISSUER,
    audience: config.OIDC_AUDIENCE,
    algorithms: config.AIRLOCK_OIDC_ALGORITHMS,
    clockSkewSeconds: config.AIRLOCK_OIDC_CLOCK_SKEW_SECONDS,
    claims: { owner: config.AIRLOCK_OIDC_OWNER_CLAIM, groups: config.AIRLOCK_OIDC_GROUPS_CLAIM, name: config.AIRLOCK_OIDC_NAME_CLAIM },
    allowInsecureHttp: options.allowInsecureIssuer ?? false,
    logger: options.logger.child({ component: 'identity' }),
  });
  return {
    async verify(authorization) {
      const identity = await verifier.verify(authorization);
      return {
        id: identity.id,
        name: identity.name,
        ...(identity.owner ? { owner: identity.owner } : {}),
        groups: [...identity.groups],
        scopes: [...identity.scopes],
      };
    },
  };
}

/**
 * AIRLOCK_OWNERLESS_TOKENS=refuse_token: a token without a usable owner claim
 * (absent, or not an email address) is refused at the door, so no query
 * without an owner to keep from approving it ever exists (docs/approvals.md).
 */
export function requireOwnerWhenAsked(config: Config, inner: Authenticator): Authenticator {
  if (config.AIRLOCK_OWNERLESS_TOKENS !== 'refuse_token') return inner;
  return {
    async verify(authorization) {
      const requester = await inner.verify(authorization);
      if (isOwnerless(requester.owner)) {
        throw new AirlockError(
          'FORBIDDEN',
          `This token names no owner email (claim ${config.AIRLOCK_OIDC_OWNER_CLAIM}), and this install refuses such tokens (AIRLOCK_OWNERLESS_TOKENS=refuse_token): ask for a token that names the agent's owner.`,
          { details: { reason: 'OWNER_CLAIM_MISSING', claim: config.AIRLOCK_OIDC_OWNER_CLAIM } },
        );
      }
      return requester;
    },
  };
}

/** The Snowflake warehouse from SNOWFLAKE_*; refuses to start without an account and a user. */
export async function warehouseFromConfig(config: Config, logger: Logger, namespace?: { database: string; schema: string }): Promise<SnowflakeWarehouse> {
  if (!config.SNOWFLAKE_ACCOUNT || !config.SNOWFLAKE_USER) {
    throw new AirlockError('CONFIG_INVALID', 'The worker role needs SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and SNOWFLAKE_PRIVATE_KEY_PATH.', {
      details: {
        problems: ['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER']
          .filter((v) => !config[v as keyof Config])
          .map((variable) => ({ variable, message: 'required by the worker role' })),
      },
    });
  }
  return createSnowflakeWarehouse({
    account: config.SNOWFLAKE_ACCOUNT,
    user: config.SNOWFLAKE_USER,
    ...(config.SNOWFLAKE_PRIVATE_KEY_PATH ? { privateKeyPath: config.SNOWFLAKE_PRIVATE_KEY_PATH } : {}),
    ...(config.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE ? { privateKeyPassphrase: config.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE } : {}),
    ...(config.SNOWFLAKE_ACCESS_URL ? { accessUrl: config.SNOWFLAKE_ACCESS_URL } : {}),
    ...(config.SNOWFLAKE_WAREHOUSE ? { warehouse: config.SNOWFLAKE_WAREHOUSE } : {}),
    ...(config.SNOWFLAKE_ROLE ? { role: config.SNOWFLAKE_ROLE } : {}),
    // Where the policy resolves unqualified names (policy/session-defaults.ts), so what is judged is what runs.
    ...(namespace ? namespace : {}),
    ...(!namespace && config.SNOWFLAKE_DATABASE ? { database: config.SNOWFLAKE_DATABASE } : {}),
    ...(!namespace && config.SNOWFLAKE_SCHEMA ? { schema: config.SNOWFLAKE_SCHEMA } : {}),
    poolSize: config.AIRLOCK_WAREHOUSE_POOL_SIZE,
    statementTimeoutMs: config.AIRLOCK_STATEMENT_TIMEOUT_MS,
    logger,
  });
}

/** The Slack slice of the config, once checked against the roles that will run. */
export interface SlackSettings {
  botToken: string;
  /** Needed where cards are posted (worker or slack role). */
  channel?: string;
  /** Needed where Slack's requests are received over HTTP. */
  signingSecret?: string;
  /** Socket Mode instead of HTTP. */
  appToken?: string;
  apiUrl?: string;
}

/**
 * Slack is on when SLACK_BOT_TOKEN is set. Each role then needs its own part:
 * the card outbox the channel, the receiver the signing secret (or an app token
 * for Socket Mode). A role that would need a missing part refuses to start.
 */
export function slackSettings(config: Config, roles: readonly Role[]): SlackSettings | undefined {
  if (!config.SLACK_BOT_TOKEN) {
    if (roles.includes('slack')) throw new AirlockError('CONFIG_INVALID', 'The slack role needs SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN).');
    return undefined;
  }
  const missing: string[] = [];
  if ((roles.includes('worker') || roles.includes('slack')) && !config.SLACK_APPROVAL_CHANNEL) missing.push('SLACK_APPROVAL_CHANNEL (where cards are posted)');
  if (roles.includes('slack') && !config.SLACK_SIGNING_SECRET && !config.SLACK_APP_TOKEN) missing.push('SLACK_SIGNING_SECRET or SLACK_APP_TOKEN (to receive clicks)');
  if (missing.length > 0) throw new AirlockError('CONFIG_INVALID', `SLACK_BOT_TOKEN is set, so Slack is on; also set ${missing.join(' and ')}.`);
  return {
    botToken: config.SLACK_BOT_TOKEN,
    ...(config.SLACK_APPROVAL_CHANNEL ? { channel: config.SLACK_APPROVAL_CHANNEL } : {}),
    ...(config.SLACK_SIGNING_SECRET ? { signingSecret: config.SLACK_SIGNING_SECRET } : {}),
    ...(config.SLACK_APP_TOKEN ? { appToken: config.SLACK_APP_TOKEN } : {}),
    ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}),
  };
}

/** Slack's Web API client for the bot token, when Slack is on. */
export function slackClient(slack: SlackSettings | undefined): WebClient | undefined {
  return slack ? new WebClient(slack.botToken, webClientOptions(slack.apiUrl)) : undefined;
}

/**
 * The HMAC key for `hash` masking tokens: AIRLOCK_MASKING_KEY (hashed to 32
 * bytes), or one the caller passes (dev keeps one under .airlock/). Without
 * either, a random key for this process: tokens then change on restart.
 */
export function maskingKey(config: Config, logger: Logger, given: Buffer | undefined): Buffer {
  if (config.AIRLOCK_MASKING_KEY) return createHash('sha256').update(config.AIRLOCK_MASKING_KEY).digest();
  if (given) return given;
  logger.warn({ component: 'masking' }, 'AIRLOCK_MASKING_KEY is not set: hash tokens in masked results change when this process restarts');
  return randomBytes(32);
}
