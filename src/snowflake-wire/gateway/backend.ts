/**
 * The Airlock gateway as a back end of the Snowflake wire protocol: logins
 * become wire sessions of a verified agent (Redis, any replica), statements
 * become Airlock queries, chunks come from the stored masked results.
 */
import type { Redis } from 'ioredis';
import type { Authenticator } from '../../api/server.ts';
import type { Logger } from '../../log.ts';
import type { QueryService } from '../../queries/service.ts';
import { DEFAULT_PARAMETERS, type ParamValue } from '../parameters.ts';
import type { WireBackend, WireContext } from '../port.ts';
import { CHUNK_PREFIX, ChunkLinks } from './chunks.ts';
import { wireKeys } from './keys.ts';
import { verifyLogin } from './login.ts';
import { DEFAULT_LIFETIMES, WireSessionStore, type WireTokenLifetimes } from './sessions.ts';
import { WireStatements } from './statements.ts';

export interface GatewayDeps {
  queries: QueryService;
  /** The REST API's authenticator (with the owner check when the install asks for it). */
  authenticator: Authenticator;
  redis: Redis;
  /** AIRLOCK_REDIS_PREFIX. */
  prefix: string;
  /** AIRLOCK_MAX_WAIT_MS: the longest a poll is held. */
  maxWaitMs: number;
  logger: Logger;
  now?: () => number;
  lifetimes?: WireTokenLifetimes;
}

/** Session parameters a driver may set at login that are carried back with results (formats, tags). */
function loginParameters(given: Record<string, unknown>): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = { ...DEFAULT_PARAMETERS };
  for (const [k, v] of Object.entries(given)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') params[k.toUpperCase()] = v;
  }
  return params;
}

/** The gateway's answers to the driver. */
export function gatewayBackend(deps: GatewayDeps): WireBackend {
  const now = deps.now ?? Date.now;
  const keys = wireKeys(deps.prefix);
  const sessions = new WireSessionStore(deps.redis, keys, now, deps.lifetimes ?? DEFAULT_LIFETIMES);
  const chunks = new ChunkLinks(deps.redis, keys, sessions, deps.queries);
  const statements = new WireStatements({ queries: deps.queries, chunks, redis: deps.redis, keys, maxWaitMs: deps.maxWaitMs });
  const log = deps.logger;
  return {
    chunkPrefix: CHUNK_PREFIX,
    async login(request) {
      const { requester, notAfterMs } = await verifyLogin(deps.authenticator, request).catch((err: unknown) => {
        log.info({ authenticator: request.authenticator, code: (err as { code?: string }).code }, 'snowflake wire login refused');
        throw err;
      });
      // Informational: Airlock runs each statement on its own warehouse session, so names must be qualified.
      const context: WireContext = { database: '', schema: '', warehouse: '', role: '', ...request.context };
      const parameters = loginParameters(request.sessionParameters);
      const tokens = await sessions.create({ requester, context, parameters, notAfterMs });
      log.info({ sessionId: tokens.sessionId, agent: requester.id }, 'snowflake wire session opened');
      return { ...tokens, displayUserName: requester.name, serverVersion: 'airlock', parameters, context };
    },
    renew: (masterToken, oldSessionToken) => sessions.renew(masterToken, oldSessionToken),
    async heartbeat(token) {
      await sessions.authenticate(token);
    },
    async logout(token) {
      const session = await sessions.authenticate(token);
      await sessions.remove(session);
      log.info({ sessionId: session.id, agent: session.requester.id }, 'snowflake wire session closed');
    },
    submit: async (token, request, baseUrl) => statements.submit(await sessions.authenticate(token), request, baseUrl),
    result: async (token, queryId, baseUrl) => statements.result(await sessions.authenticate(token), queryId, baseUrl),
    monitor: async (token, queryId) => statements.monitor(await sessions.authenticate(token), queryId),
    abort: async (token, target) => statements.abort(await sessions.authenticate(token), target),
    chunk: (segments, key) => chunks.serve(segments, key),
  };
}
