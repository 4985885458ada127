/**
 * The driver's endpoints, for any back end: which handler answers which
 * method and path, how bodies and tokens are read, and how a back end's answer
 * becomes Snowflake's envelope. Transport-neutral: the emulator's node server
 * and the API's fastify mount both hand over a {@link WireRequest}.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { asRecord, decodeBody, optString, snowflakeName } from './body.ts';
import { SnowflakeWireError } from './errors.ts';
import { asWireError, CHUNK_KEY_HEADER, failure, ok, tokenFrom, type Reply } from './envelope.ts';
import { parametersArray } from './parameters.ts';
import type { StatementState, WireBackend, WireBinding, WireClient } from './port.ts';
import { monitorData, resultData } from './result-data.ts';

/** One HTTP request, as any server hands it over. */
export interface WireRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  headers: IncomingHttpHeaders;
  /** Raw body bytes (maybe gzipped). */
  body: Buffer;
  /** Scheme, host and port the client reached (chunk URLs are absolute). */
  baseUrl: string;
  client: WireClient;
}

/** The driver's paths the protocol answers: `POST` on the first list, `GET` on the second (`:id` a query id); chunk paths are the back end's. */
export const WIRE_ROUTES = {
  post: [
    '/session/v1/login-request',
    '/session/token-request',
    '/session/heartbeat',
    '/session',
    '/telemetry/send',
    '/queries/v1/query-request',
    '/queries/v1/abort-request',
    '/queries/:id/abort-request',
  ],
  get: ['/queries/:id/result', '/monitoring/queries/:id'],
} as const;

const UUID = '([0-9a-f-]{36})';
const ABORT_ONE = new RegExp(`^/queries/${UUID}/abort-request$`, 'i');
const RESULT = new RegExp(`^/queries/${UUID}/result$`, 'i');
const MONITOR = new RegExp(`^/monitoring/queries/${UUID}$`, 'i');

/** Answer one request; never throws, never a 5xx. */
export async function answerWire(backend: WireBackend, request: WireRequest, log?: Logger): Promise<Reply> {
  try {
    return (await route(backend, request)) ?? notFound(request);
  } catch (err) {
    if (!(err instanceof SnowflakeWireError)) log?.error({ err, path: request.url.split('?')[0] }, 'snowflake wire request failed');
    return failure(asWireError(err));
  }
}

function notFound(request: WireRequest): Reply {
  return { status: 404, body: { success: false, code: 'NOT_FOUND', message: `No route for ${request.method} ${request.url.split('?')[0]}`, data: null } };
}

/** The reply for a request, or undefined for no route. */
async function route(backend: WireBackend, request: WireRequest): Promise<Reply | undefined> {
  const url = new URL(request.url, 'http://wire');
  const path = url.pathname;
  const token = tokenFrom(request.headers);
  let m: RegExpExecArray | null;
  if (request.method === 'GET') {
    if ((m = RESULT.exec(path))) return stateReply(await backend.result(token, m[1]!, request.baseUrl), false);
    if ((m = MONITOR.exec(path))) return monitorData(await backend.monitor(token, m[1]!), Date.now());
    if (path.startsWith(`${backend.chunkPrefix}/`)) return chunk(backend, request, path);
    return undefined;
  }
  if (request.method !== 'POST') return undefined;
  switch (path) {
    case '/session/v1/login-request':
      return login(backend, request, url);
    case '/session/token-request': {
      const body = asRecord(await decodeBody(request.body));
      const t = await backend.renew(token, optString(body.oldSessionToken));
      return ok({ sessionToken: t.sessionToken, validityInSecondsST: t.sessionValiditySeconds, masterToken: t.masterToken, validityInSecondsMT: t.masterValiditySeconds, sessionId: t.sessionId });
    }
    case '/session/heartbeat':
      await backend.heartbeat(token);
      return ok({});
    case '/session':
      if (url.searchParams.get('delete') !== 'true') return undefined;
      await backend.logout(token);
      return ok(null);
    case '/telemetry/send':
      return ok('Log Received');
    case '/queries/v1/query-request':
      return queryRequest(backend, request, url, token);
    case '/queries/v1/abort-request': {
      const requestId = optString(asRecord(await decodeBody(request.body)).requestId);
      return abortReply(requestId ? await backend.abort(token, { requestId }) : false);
    }
  }
  if ((m = ABORT_ONE.exec(path))) return abortReply(await backend.abort(token, { queryId: m[1]! }), m[1]);
  return undefined;
}

/** `POST /session/v1/login-request`. */
async function login(backend: WireBackend, request: WireRequest, url: URL): Promise<Reply> {
  const data = asRecord(asRecord(await decodeBody(request.body)).data);
  const q = url.searchParams;
  const grant = await backend.login({
    accountName: optString(data.ACCOUNT_NAME) ?? '',
    loginName: optString(data.LOGIN_NAME) ?? '',
    authenticator: (optString(data.AUTHENTICATOR) ?? 'SNOWFLAKE').toUpperCase(),
    ...(optString(data.PASSWORD) !== undefined ? { password: optString(data.PASSWORD) } : {}),
    ...(optString(data.TOKEN) !== undefined ? { token: optString(data.TOKEN) } : {}),
    sessionParameters: asRecord(data.SESSION_PARAMETERS),
    context: {
      ...defined('database', snowflakeName(q.get('databaseName'))),
      ...defined('schema', snowflakeName(q.get('schemaName'))),
      ...defined('warehouse', snowflakeName(q.get('warehouse'))),
      ...defined('role', snowflakeName(q.get('roleName'))),
    },
    client: request.client,
  });
  return ok({
    token: grant.sessionToken,
    validityInSeconds: grant.sessionValiditySeconds,
    masterToken: grant.masterToken,
    masterValidityInSeconds: grant.masterValiditySeconds,
    sessionId: grant.sessionId,
    displayUserName: grant.displayUserName,
    serverVersion: grant.serverVersion,
    firstLogin: false,
    remMeToken: null,
    remMeValidityInSeconds: 0,
    healthCheckInterval: 45,
    newClientForUpgrade: null,
    idToken: null,
    idTokenValidityInSeconds: 0,
    responseData: null,
    mfaToken: null,
    mfaTokenValidityInSeconds: 0,
    parameters: parametersArray(grant.parameters),
    sessionInfo: {
      databaseName: grant.context.database || null,
      schemaName: grant.context.schema || null,
      warehouseName: grant.context.warehouse || null,
      roleName: grant.context.role || null,
    },
  });
}

function defined<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** `POST /queries/v1/query-request`. */
async function queryRequest(backend: WireBackend, request: WireRequest, url: URL, token: string | undefined): Promise<Reply> {
  const body = asRecord(await decodeBody(request.body));
  const sqlText = optString(body.sqlText);
  if (sqlText === undefined || sqlText.trim() === '') {
    return failure(new SnowflakeWireError('000900', '42000', 'SQL compilation error:\nEmpty SQL statement.'));
  }
  const asyncExec = body.asyncExec === true;
  const requestId = url.searchParams.get('requestId') ?? undefined;
  const state = await backend.submit(
    token,
    {
      sqlText,
      ...(body.bindings ? { bindings: asRecord(body.bindings) as Record<string, WireBinding> } : {}),
      ...(body.parameters ? { parameters: asRecord(body.parameters) } : {}),
      describeOnly: body.describeOnly === true,
      asyncExec,
      ...(requestId ? { requestId } : {}),
      client: request.client,
    },
    request.baseUrl,
  );
  return stateReply(state, asyncExec);
}

/** A statement's state on the wire: the result, the error, or "in progress" (333334 for asyncExec). */
function stateReply(state: StatementState, asyncExec: boolean): Reply {
  if (state.kind === 'done') return ok(resultData(state.result, Date.now()));
  if (state.kind === 'failed') return failure(state.error, state.queryId);
  return ok(
    { queryId: state.queryId, getResultUrl: `/queries/${state.queryId}/result`, queryAbortsAfterSecs: 300, progressDesc: null },
    asyncExec
      ? { code: '333334', message: 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.' }
      : { code: '333333', message: 'Query execution in progress. Query will be aborted unless request for result is received within 300 seconds.' },
  );
}

function abortReply(aborted: boolean, queryId?: string): Reply {
  return aborted ? ok(null) : failure(SnowflakeWireError.of('NOT_EXECUTING'), queryId);
}

/** A chunk download: authenticated only by its URL and the `chunkHeaders` key, like S3 with SSE-C. */
async function chunk(backend: WireBackend, request: WireRequest, path: string): Promise<Reply> {
  const segments = path.slice(backend.chunkPrefix.length + 1).split('/');
  const key = request.headers[CHUNK_KEY_HEADER];
  const body = await backend.chunk(segments, typeof key === 'string' ? key : '');
  if (Buffer.isBuffer(body)) return { status: 200, chunk: body };
  return { status: body === 'forbidden' ? 403 : 404, body: { success: false, code: 'CHUNK_NOT_AVAILABLE', message: 'Result chunk not found or key missing.' } };
}
