/**
 * The HTTP API on fastify: routes speak HTTP only and call services.
 *
 * Every error leaves through one handler that shapes `{error:{code,message,details}}`
 * with the status from src/errors.ts; unknown errors become a generic 500
 * without a stack trace.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AirlockError, asAirlockError, httpStatusFor, toErrorBody } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { QueryService } from '../queries/service.ts';
import { TERMINAL_STATUSES, type Requester } from '../queries/types.ts';
import type { Evaluate } from '../queries/service.ts';
import { checkSqlText, refusalCode, type RefusalCode } from '../queries/service.ts';
import { IDEMPOTENCY_HEADER, idempotencyKeyOf } from './idempotency.ts';
import { buildOpenApi } from './openapi.ts';
import { writeClientError } from './client-error.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.ts';
import { trackRoutes } from './routes.ts';
import { Metrics } from './metrics.ts';
import type { SessionAccess } from '../audit/sessions.ts';
import { evaluateBody, idParams, queryWaitQuery, resultsQuery, sessionIdParams, sessionsQuery, submitBody } from './schemas.ts';

/** Verifies the bearer token; the identity module implements it. */
export interface Authenticator {
  verify(authorization: string | undefined): Promise<Requester>;
}

export interface ApiDeps {
  /** Absent in worker-only processes, which serve the operations routes alone. */
  queries?: QueryService;
  /** Session search and replay (api role). */
  sessions?: SessionAccess;
  authenticator: Authenticator;
  evaluate: Evaluate;
  logger: Logger;
  bodyLimitBytes: number;
  maxSqlBytes: number;
  /** AIRLOCK_TRUST_PROXY: false (the socket's peer is the client), true (believe any X-Forwarded-For), or proxy addresses. */
  trustProxy?: boolean | string;
  /** Dependencies checked by /readyz: each by name, and a sentence for each one that fails (app/readiness.ts). */
  readiness: () => Promise<{ checks: Record<string, boolean>; problems?: Record<string, string> }>;
  /** More Prometheus lines for /metrics: what this process runs now (policy version, Snowflake key fingerprint), and the execute lane's depth. */
  info?: () => string[] | Promise<string[]>;
  /**
   * Extra doors with their own body handling, each registered on the server in
   * order: the Slack receiver at POST /slack/events, and any other door a role adds.
   */
  mounts?: ReadonlyArray<(server: FastifyInstance) => void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    requester?: Requester;
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
  throw new AirlockError('VALIDATION_FAILED', `Invalid request: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}.`, {
    details: { problems },
  });
}

/** Map fastify's own errors (bad JSON, too large, wrong media type) to stable codes. */
function fromFastifyError(err: unknown): AirlockError {
  if (err instanceof AirlockError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AirlockError('BODY_TOO_LARGE', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AirlockError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AirlockError('INVALID_JSON', 'The body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AirlockError('BAD_REQUEST', 'The Content-Length header does not match the body.');
    default:
      if (err instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return new AirlockError('INVALID_JSON', 'The body is not valid JSON.');
      }
      if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
        return new AirlockError('BAD_REQUEST', 'The request could not be read.');
      }
      return asAirlockError(err);
  }
}

/** Build the fastify app (not listening yet). */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    // Per-request info lines would drown the log; errors still come through at warn and above.
    loggerInstance: deps.logger.child({ component: 'api' }, { level: 'warn' }),
    bodyLimit: deps.bodyLimitBytes,
    // Which X-Forwarded-For hops to believe (AIRLOCK_TRUST_PROXY): the client address goes into the session log.
    trustProxy: deps.trustProxy ?? false,
    return503OnClosing: true,
    // What Node's HTTP parser refuses (bad request line, headers over 16 KB) in Airlock's error shape too.
    clientErrorHandler: writeClientError,
    // The router's own refusals (a malformed percent-encoding, an over-long id) in Airlock's error shape.
    frameworkErrors: (err, _request, reply) => {
      const mapped =
        err.code === 'FST_ERR_BAD_URL'
          ? new AirlockError('BAD_REQUEST', 'The URL is not valid (a malformed percent-encoding).')
          : (err as { statusCode?: number }).statusCode === 414
            ? new AirlockError('BAD_REQUEST', 'A path parameter is longer than 100 characters; no id is that long.')
            : fromFastifyError(err);
      // The framework hook's reply is typed for no route in particular; it is an ordinary reply.
      void (reply as unknown as FastifyReply).status(httpStatusFor(mapped.code)).send(toErrorBody(mapped));
    },
  }) as unknown as FastifyInstance; // pino's Logger type is wider than FastifyBaseLogger; the instance is used only through the base API.
  trackRoutes(app);
  const metrics = new Metrics();
  installJsonParser(app);
  installErrorHandling(app, metrics);
  for (const mount of deps.mounts ?? []) mount(app);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(toErrorBody(new AirlockError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`)));
  });
  const ctx: RouteContext = {
    deps,
    metrics,
    authenticate: async (request) => {
      request.requester = await deps.authenticator.verify(request.headers.authorization);
    },
    requester: (request) => {
      if (!request.requester) throw new AirlockError('AUTH_MISSING', 'Send a bearer token.');
      return request.requester;
    },
  };
  if (deps.queries) registerQueryRoutes(app, ctx, deps.queries);
  if (deps.sessions) registerSessionRoutes(app, ctx, deps.sessions);
  registerOperationRoutes(app, ctx);
  return app;
}

/** What every route handler needs: the dependencies, the counters, and the token check. */
interface RouteContext {
  deps: ApiDeps;
  metrics: Metrics;
  authenticate: (request: FastifyRequest) => Promise<void>;
  requester: (request: FastifyRequest) => Requester;
}

/**
 * Only JSON bodies, parsed by Airlock: a text/plain body gets 415 (not a confusing
 * validation error), an empty body means "no body" (POST …/cancel needs none),
 * and malformed JSON or invalid UTF-8 becomes INVALID_JSON at once.
 */
function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  // Bytes, not a string: invalid UTF-8 must be refused, not silently turned into U+FFFD.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    let text: string;
    try {
      text = typeof body === 'string' ? body : utf8.decode(body);
    } catch {
      return done(new AirlockError('INVALID_JSON', 'The body is not valid UTF-8; send JSON encoded as UTF-8.'), undefined);
    }
    if (text.trim() === '') return done(null, undefined);
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      return done(new AirlockError('INVALID_JSON', `The body nests deeper than ${MAX_JSON_DEPTH} levels; no request of this API needs that.`), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new AirlockError('INVALID_JSON', 'The body is not valid JSON.'), undefined);
    }
  });
}

/** The one error handler: `{error:{code,message,details}}` with the status from src/errors.ts. */
function installErrorHandling(app: FastifyInstance, metrics: Metrics): void {
  app.setErrorHandler((err, request, reply) => {
    const mapped = fromFastifyError(err);
    const status = httpStatusFor(mapped.code);
    if (status >= 500 && mapped.code === 'INTERNAL') request.log.error({ err }, 'unhandled error');
    metrics.countError(mapped.code);
    if (status === 401) void reply.header('WWW-Authenticate', 'Bearer');
    if (mapped.code === 'ANALYSIS_BUSY') void reply.header('Retry-After', '1');
    void reply.status(status).send(toErrorBody(mapped));
  });
}

/** A refusal that carries the recorded decision beside the error (POLICY_DENIED, SQL_TOO_COMPLEX, NOT_SQL). */
function sendRefusal(reply: FastifyReply, code: RefusalCode, message: string, id: string, decision: unknown) {
  return reply.status(httpStatusFor(code)).send({ ...toErrorBody(new AirlockError(code, message, { details: { id } })), id, decision });
}

/** The agent's routes: submit, read, page, cancel, evaluate. */
function registerQueryRoutes(app: FastifyInstance, ctx: RouteContext, queries: QueryService): void {
  const { authenticate, requester, metrics, deps } = ctx;
  app.post('/v1/queries', { preHandler: authenticate }, async (request, reply: FastifyReply) => {
    const parsed = parse(submitBody, request.body, 'body');
    const idempotencyKey = idempotencyKeyOf(parsed.idempotencyKey, request.headers[IDEMPOTENCY_HEADER]);
    const body = { ...parsed, ...(idempotencyKey !== undefined ? { idempotencyKey } : {}) };
    try {
      const view = await queries.submit(requester(request), body, {
        address: request.ip,
        ...(typeof request.headers['user-agent'] === 'string' ? { userAgent: request.headers['user-agent'] } : {}),
      });
      metrics.countQuery(view.status);
      if (view.status === 'denied') {
        // An idempotent replay of a denied request is denied again, the same way.
        return sendRefusal(reply, refusalCode(view.decision), view.decision.reasons.map((r) => r.message).join(' '), view.id, view.decision);
      }
      // 200 once the query has an outcome; 202 while it is still on its way.
      return reply.status(TERMINAL_STATUSES.has(view.status) ? 200 : 202).send(view);
    } catch (err) {
      if (err instanceof AirlockError && (err.code === 'POLICY_DENIED' || err.code === 'SQL_TOO_COMPLEX' || err.code === 'NOT_SQL')) {
        metrics.countQuery('denied');
        const { decision, id } = err.details as { decision: unknown; id: string };
        return sendRefusal(reply, err.code, err.message, id, decision);
      }
      throw err;
    }
  });
  app.get('/v1/queries/:id', { preHandler: authenticate }, async (request) => {
    const { id } = parse(idParams, request.params, 'params');
    const { waitMs } = parse(queryWaitQuery, request.query, 'query');
    return queries.get(requester(request), id, waitMs);
  });
  app.get('/v1/queries/:id/results', { preHandler: authenticate }, async (request) => {
    const { id } = parse(idParams, request.params, 'params');
    const { cursor, limit } = parse(resultsQuery, request.query, 'query');
    return queries.results(requester(request), id, cursor, limit);
  });
  app.post('/v1/queries/:id/cancel', { preHandler: authenticate }, async (request) => {
    const { id } = parse(idParams, request.params, 'params');
    return queries.cancel(requester(request), id);
  });
  app.post('/v1/policy/evaluate', { preHandler: authenticate }, async (request) => {
    const { sql } = parse(evaluateBody, request.body, 'body');
    checkSqlText(sql, deps.maxSqlBytes);
    return deps.evaluate(sql, requester(request));
  });
}

/** Session search and replay (reviewers see every session, agents their own). */
function registerSessionRoutes(app: FastifyInstance, ctx: RouteContext, sessions: SessionAccess): void {
  const { authenticate, requester } = ctx;
  app.get('/v1/sessions', { preHandler: authenticate }, async (request) => {
    const query = parse(sessionsQuery, request.query, 'query');
    return sessions.find(requester(request), query);
  });
  app.get('/v1/sessions/:id', { preHandler: authenticate }, async (request) => {
    const { id } = parse(sessionIdParams, request.params, 'params');
    return sessions.transcript(requester(request), id);
  });
}

/** Health, readiness, metrics and the OpenAPI document. */
function registerOperationRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { checks, problems } = await ctx.deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks, ...(problems ? { problems } : {}) });
  });
  app.get('/metrics', async (_request, reply) => {
    const info = (await ctx.deps.info?.()) ?? [];
    return reply.type('text/plain; version=0.0.4').send(ctx.metrics.render() + info.map((line) => `${line}\n`).join(''));
  });
  app.get('/openapi.json', async () => buildOpenApi());
}
