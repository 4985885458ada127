/**
 * The emulator as a back end of the Snowflake wire protocol
 * (`src/snowflake-wire/`): sessions on DuckDB connections, statements through
 * the emulator's query service, results and chunks from its result store.
 */
import { timingSafeEqual } from 'node:crypto';
import { CHUNK_KEY_HEADER } from '../../snowflake-wire/envelope.ts';
import { SnowflakeWireError } from '../../snowflake-wire/errors.ts';
import type { LoginGrant, LoginRequest, QueryMonitor, StatementState, WireBackend, WireResult } from '../../snowflake-wire/port.ts';
import type { QueryRecord } from '../query-record.ts';
import type { StoredResult } from '../result-store.ts';
import { normalizeParam } from '../session-params.ts';
import type { ParamValue } from '../../snowflake-wire/parameters.ts';
import { closeSession, type EmulatorState } from '../state.ts';

const CHUNK_PREFIX = '/emulator/chunks';

/** The emulator's answers to the driver. */
export function emulatorBackend(state: EmulatorState): WireBackend {
  const { sessions, queries, results } = state;
  return {
    chunkPrefix: CHUNK_PREFIX,
    login: (request) => login(state, request),
    async renew(masterToken, oldSessionToken) {
      const session = sessions.renew(masterToken, oldSessionToken);
      return { ...sessions.tokens(session), sessionId: session.id };
    },
    async heartbeat(token) {
      sessions.authenticate(token);
    },
    async logout(token) {
      const session = sessions.authenticate(token);
      await closeSession(state, session);
      state.log?.info({ sessionId: session.id }, 'emulator session closed');
    },
    async submit(token, request, baseUrl) {
      const session = sessions.authenticate(token);
      const record = queries.submit(session, {
        sqlText: request.sqlText,
        bindings: request.bindings,
        parameters: request.parameters,
        describeOnly: request.describeOnly,
        requestId: request.requestId,
      });
      state.log?.debug({ queryId: record.id, sessionId: session.id }, 'emulator query submitted');
      if (request.asyncExec) return { kind: 'running', queryId: record.id };
      await waitFor(record, state.queryWaitMs);
      return recordState(record, baseUrl);
    },
    async result(token, queryId, baseUrl) {
      sessions.authenticate(token);
      const record = queries.get(queryId);
      if (record) {
        await waitFor(record, state.queryWaitMs);
        return recordState(record, baseUrl);
      }
      const stored = results.get(queryId);
      if (stored) return { kind: 'done', result: wireResult(stored, baseUrl) };
      return { kind: 'failed', queryId, error: SnowflakeWireError.of('STATEMENT_NOT_FOUND', `Statement ${queryId} not found`) };
    },
    async monitor(token, queryId) {
      sessions.authenticate(token);
      const r = queries.get(queryId);
      return r ? monitorOf(r) : undefined;
    },
    async abort(token, target) {
      const session = sessions.authenticate(token);
      const record = 'queryId' in target ? queries.get(target.queryId) : queries.getByRequestId(target.requestId);
      if (!record || record.session.user !== session.user || !queries.cancel(record)) return false;
      state.log?.info({ queryId: record.id }, 'emulator query cancel requested');
      return true;
    },
    async chunk(segments, key) {
      const [queryId, index] = segments;
      const result = queryId && segments.length === 2 ? results.get(queryId) : undefined;
      const part = result?.chunks[Number(index)];
      if (!result || !part) return 'missing';
      const given = Buffer.from(key);
      const expected = Buffer.from(result.chunkKey);
      return given.length === expected.length && timingSafeEqual(given, expected) ? part.body : 'forbidden';
    },
  };
}

/** Check the credentials, open a session on its own DuckDB connection. */
async function login(state: EmulatorState, request: LoginRequest): Promise<LoginGrant> {
  try {
    state.auth.check({
      accountName: request.accountName,
      loginName: request.loginName,
      authenticator: request.authenticator,
      password: request.password,
      token: request.token,
    });
  } catch (err) {
    state.log?.info({ user: request.loginName, authenticator: request.authenticator, code: (err as SnowflakeWireError).code }, 'emulator login refused');
    throw err;
  }
  const params: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(request.sessionParameters)) {
    const [key, value] = normalizeParam(k, v);
    params[key] = value;
  }
  const context = { ...state.defaults, ...request.context };
  const conn = await state.engine.connect();
  if (context.database) {
    try {
      await conn.run(`USE "${context.database.replace(/"/g, '""')}"."${context.schema.replace(/"/g, '""')}"`);
    } catch {
      // Like Snowflake, a login naming a missing database still succeeds, without a current database.
    }
  }
  const session = state.sessions.create({ user: state.user.toUpperCase(), context, params, conn });
  state.log?.info({ sessionId: session.id, authenticator: request.authenticator }, 'emulator session opened');
  return {
    ...state.sessions.tokens(session),
    sessionId: session.id,
    displayUserName: session.user,
    serverVersion: 'airlock-emulator',
    parameters: session.params,
    context,
  };
}

/** A stored result as the protocol renders it; chunk URLs use the request's host. */
function wireResult(result: StoredResult, baseUrl: string): WireResult {
  return {
    queryId: result.queryId,
    rowtype: result.rowtype,
    rowset: result.firstRows,
    total: result.total,
    chunks: result.chunks.map((c, i) => ({
      url: `${baseUrl}${CHUNK_PREFIX}/${result.queryId}/${i}`,
      rowCount: c.rowCount,
      uncompressedSize: c.uncompressedSize,
      compressedSize: c.body.length,
    })),
    chunkHeaders: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', [CHUNK_KEY_HEADER]: result.chunkKey },
    statementTypeId: result.statementTypeId,
    parameters: result.parameters,
    context: result.context,
    numberOfBinds: result.numberOfBinds,
  };
}

function recordState(record: QueryRecord, baseUrl: string): StatementState {
  if (record.error) return { kind: 'failed', queryId: record.id, error: record.error };
  if (record.result) return { kind: 'done', result: wireResult(record.result, baseUrl) };
  return { kind: 'running', queryId: record.id };
}

function monitorOf(r: QueryRecord): QueryMonitor {
  return {
    id: r.id,
    status: r.status,
    sqlText: r.sqlText,
    startTime: r.startTime,
    ...(r.endTime !== undefined ? { endTime: r.endTime } : {}),
    sessionId: r.sessionId,
    ...(r.error ? { error: r.error } : {}),
  };
}

/** Wait until the record is done, or at most `waitMs`. */
async function waitFor(record: QueryRecord, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([record.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}
