/**
 * The process's one HTTP server. Every role serves /healthz, /readyz and
 * /metrics (so container health checks work); the api role adds /v1, and a
 * Slack receiver in HTTP mode adds /slack/events.
 */
import type { FastifyInstance } from 'fastify';
import { buildApi, type Authenticator } from '../api/server.ts';
import { authenticatorFromConfig, requireOwnerWhenAsked } from './adapters.ts';
import type { Core } from './core.ts';
import { issuerCheck, redisCheck, runReadiness, type ReadinessChecks } from './readiness.ts';
import type { ApiRole } from './roles/api.ts';

/** What the roles add to the server, and who checks tokens. */
export interface HttpParts {
  /** The api role's services (absent: no /v1). */
  api?: ApiRole;
  /**
   * Routes added by the roles (a Slack receiver in HTTP mode, other doors), registered in order.
   * A door that takes bearer tokens (/mcp) gets the API's own authenticator, so its callers are the same agents.
   */
  mounts?: ReadonlyArray<(server: FastifyInstance, door: { authenticator: Authenticator }) => void>;
  /** Replace the OIDC authenticator built from the config (tests, benches). */
  authenticator?: Authenticator;
  /** Allow http:// issuers (dev issuer, tests). */
  allowInsecureIssuer?: boolean;
  /** What the roles add to /readyz (the worker: its Snowflake login), beside Redis and the api role's issuer. */
  readiness?: ReadinessChecks;
}

/** Build the HTTP server on the core; it listens when the app does. */
export function buildHttp(core: Core, parts: HttpParts): FastifyInstance {
  const { config, logger, command } = core;
  const authenticator =
    parts.authenticator ??
    authenticatorFromConfig(config, { logger, ...(parts.allowInsecureIssuer !== undefined ? { allowInsecureIssuer: parts.allowInsecureIssuer } : {}) });
  // Built once: the network checks keep their last outcome between probes.
  const checks: ReadinessChecks = {
    redis: redisCheck(command),
    ...parts.readiness,
    ...(parts.api && config.OIDC_ISSUER ? { issuer: issuerCheck(config.OIDC_ISSUER) } : {}),
  };
  const verified = requireOwnerWhenAsked(config, authenticator);
  return buildApi({
    ...(parts.mounts ? { mounts: parts.mounts.map((mount) => (server: FastifyInstance) => mount(server, { authenticator: verified })) } : {}),
    ...(parts.api ? { queries: parts.api.queries, sessions: parts.api.sessions } : {}),
    authenticator: verified,
    evaluate: core.evaluate,
    logger,
    bodyLimitBytes: config.AIRLOCK_BODY_LIMIT_BYTES,
    trustProxy: config.AIRLOCK_TRUST_PROXY,
    maxSqlBytes: config.AIRLOCK_MAX_SQL_BYTES,
    info: async () => (await Promise.all(core.info.map((lines) => lines()))).flat(),
    readiness: () => runReadiness(checks),
  });
}
