/**
 * The api role: the agent API under /v1 (queries, and sessions for
 * reviewers), and the MCP server at /mcp on the same services. The process's HTTP server itself exists in every role
 * (`../http.ts`); this role only adds the services behind /v1.
 */
import { SessionAccess } from '../../audit/sessions.ts';
import { mcpMount } from '../../mcp/http.ts';
import type { LocalRunner } from '../../queries/ports.ts';
import { QueryService } from '../../queries/service.ts';
import { defaultsOf } from '../../policy/analyse.ts';
import { snowflakeWireDoor } from '../../snowflake-wire/gateway/mount.ts';
import type { Core } from '../core.ts';

/** The services the api role puts behind /v1. */
export interface ApiRole {
  queries: QueryService;
  sessions: SessionAccess;
}

/** The api role's services on the core; nothing to stop beyond the HTTP server. `local`: the worker role of this process, when it has one. */
export function apiRole(core: Core, local?: LocalRunner): ApiRole {
  const { config } = core;
  const queries = new QueryService({
    store: core.store,
    notifier: core.notifier,
    queue: core.executeQueue,
    evaluate: core.evaluate,
    audit: core.audit,
    approvals: core.approvals,
    ...(core.cards ? { cards: core.cards } : {}),
    logger: core.logger.child({ component: 'queries' }),
    limits: { maxWaitMs: config.AIRLOCK_MAX_WAIT_MS, maxSqlBytes: config.AIRLOCK_MAX_SQL_BYTES, inlineRows: 1000 },
    clock: core.clock,
    ...(local ? { local } : {}),
    namespace: () => defaultsOf(core.policy.current.file),
  });
  const sessions = new SessionAccess(core.auditSearch, { reviewerGroups: config.AIRLOCK_REVIEWER_GROUPS, reviewerScope: config.AIRLOCK_REVIEWER_SCOPE });
  return { queries, sessions };
}

/** The MCP door of the api role: /mcp (streamable HTTP) and its OAuth protected resource metadata, on the same services as /v1. */
export function mcpDoor(core: Core, role: ApiRole): ReturnType<typeof mcpMount> {
  const { config } = core;
  return mcpMount({
    services: { queries: role.queries, sessions: role.sessions, evaluate: core.evaluate, maxSqlBytes: config.AIRLOCK_MAX_SQL_BYTES },
    logger: core.logger.child({ component: 'mcp' }),
    ...(config.OIDC_ISSUER ? { issuer: config.OIDC_ISSUER } : {}),
    ...(config.AIRLOCK_PUBLIC_URL ? { publicUrl: config.AIRLOCK_PUBLIC_URL } : {}),
    bindHost: config.AIRLOCK_HOST,
  });
}

/** The Snowflake-wire door of the api role: the driver's endpoints, each statement an Airlock query on the same services as /v1 (AIRLOCK_SNOWFLAKE_WIRE). */
export function wireDoor(core: Core, role: ApiRole): ReturnType<typeof snowflakeWireDoor> {
  const { config } = core;
  return snowflakeWireDoor({
    queries: role.queries,
    redis: core.command,
    prefix: config.AIRLOCK_REDIS_PREFIX,
    maxWaitMs: config.AIRLOCK_MAX_WAIT_MS,
    logger: core.logger,
    now: () => core.clock().getTime(),
  });
}
