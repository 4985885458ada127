/**
 * The {@link AirlockPort} on Airlock's own services, in process: what the
 * HTTP transport at /mcp uses on the api role. The same calls the REST routes
 * make (src/api/server.ts), with the requester the bearer token proved.
 */
import type { SessionAccess } from '../audit/sessions.ts';
import { AirlockError } from '../errors.ts';
import { checkSqlText, refusalCode, type ClientInfo, type Evaluate, type QueryService } from '../queries/service.ts';
import type { Requester } from '../queries/types.ts';
import type { AirlockPort, Refusal } from './port.ts';

/** The api role's services the tools reach. */
export interface McpServices {
  queries: QueryService;
  sessions: SessionAccess;
  evaluate: Evaluate;
  /** AIRLOCK_MAX_SQL_BYTES, checked before a dry run as POST /v1/policy/evaluate does. */
  maxSqlBytes: number;
}

/** A refusal thrown by the intake (it carries the recorded decision and id), or undefined for any other error. */
function refusalOf(err: unknown): Refusal | undefined {
  if (!(err instanceof AirlockError)) return undefined;
  const { id, decision } = err.details as Partial<Pick<Refusal, 'id' | 'decision'>>;
  if (typeof id !== 'string' || decision?.action !== 'deny') return undefined;
  return { id, code: err.code, message: err.message, decision };
}

/** The port for one requester (the token's agent) and where its request came from. */
export function servicesPort(services: McpServices, requester: Requester, client: ClientInfo): AirlockPort {
  const { queries, sessions } = services;
  return {
    async run(request) {
      try {
        const view = await queries.submit(
          requester,
          {
            sql: request.sql,
            waitMs: request.waitMs,
            ...(request.purpose !== undefined ? { purpose: request.purpose } : {}),
            ...(request.prompt !== undefined ? { prompt: request.prompt } : {}),
            ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
          },
          client,
        );
        if (view.status === 'denied') {
          // An idempotent replay answers with the view of the denied query; it is the same refusal.
          return { refused: true, refusal: { id: view.id, code: refusalCode(view.decision), message: view.decision.reasons.map((r) => r.message).join(' '), decision: view.decision } };
        }
        return { refused: false, view };
      } catch (err) {
        const refusal = refusalOf(err);
        if (refusal) return { refused: true, refusal };
        throw err;
      }
    },
    get: (id, waitMs) => queries.get(requester, id, waitMs),
    results: (id, cursor, limit) => queries.results(requester, id, cursor, limit),
    cancel: (id) => queries.cancel(requester, id),
    async evaluate(sql) {
      checkSqlText(sql, services.maxSqlBytes);
      return services.evaluate(sql, requester);
    },
    async mine(filter) {
      // Pinned to the agent itself, reviewer or not: these are "my" queries.
      const page = await sessions.find(requester, {
        agent: requester.id,
        limit: filter.limit,
        ...(filter.status !== undefined ? { status: filter.status } : {}),
        ...(filter.table !== undefined ? { table: filter.table } : {}),
        ...(filter.cursor !== undefined ? { cursor: filter.cursor } : {}),
      });
      return { sessions: page.sessions, ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) };
    },
  };
}
