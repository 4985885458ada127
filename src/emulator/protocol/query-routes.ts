/**
 * Query routes: submit a statement, fetch its result, monitor it, abort it.
 */
import type { IncomingMessage } from 'node:http';
import type { WireBinding } from '../bindings.ts';
import type { QueryRecord, QueryRequest } from '../query-record.ts';
import type { EmulatorState } from '../state.ts';
import { SnowflakeWireError } from '../wire-error.ts';
import { inProgress, recordReply, resultData, waitFor } from './result-reply.ts';
import { asRecord, failure, ok, optString, readBody, tokenFrom, type Reply } from './wire.ts';

/** `POST /queries/v1/query-request`: submit, then answer with the result or "in progress" (at once for `asyncExec`). */
export async function queryRequest(state: EmulatorState, req: IncomingMessage, url: URL, baseUrl: string): Promise<Reply> {
  const session = state.sessions.authenticate(tokenFrom(req));
  const body = asRecord(await readBody(req));
  const sqlText = optString(body.sqlText);
  if (sqlText === undefined || sqlText.trim() === '') {
    return failure(new SnowflakeWireError('000900', '42000', 'SQL compilation error:\nEmpty SQL statement.'));
  }
  const request: QueryRequest = {
    sqlText,
    bindings: body.bindings ? (asRecord(body.bindings) as Record<string, WireBinding>) : undefined,
    parameters: body.parameters ? asRecord(body.parameters) : undefined,
    describeOnly: body.describeOnly === true,
    requestId: url.searchParams.get('requestId') ?? undefined,
  };
  const record = state.queries.submit(session, request);
  state.log?.debug({ queryId: record.id, sessionId: session.id }, 'emulator query submitted');
  if (body.asyncExec === true) return inProgress(record, true);
  await waitFor(record, state.queryWaitMs);
  return recordReply(record, baseUrl, state.now);
}

/** `GET /queries/{id}/result`: a running query's outcome, or a stored result still within its TTL. */
export async function getResult(state: EmulatorState, req: IncomingMessage, queryId: string, baseUrl: string): Promise<Reply> {
  state.sessions.authenticate(tokenFrom(req));
  const record = state.queries.get(queryId);
  if (record) {
    await waitFor(record, state.queryWaitMs);
    return recordReply(record, baseUrl, state.now);
  }
  const stored = state.results.get(queryId);
  if (stored) return ok(resultData(stored, baseUrl, state.now));
  return failure(SnowflakeWireError.of('STATEMENT_NOT_FOUND', `Statement ${queryId} not found`), queryId);
}

/** `GET /monitoring/queries/{id}`: the query's status, as the driver's `getQueryStatus` reads it. */
export function monitoring(state: EmulatorState, req: IncomingMessage, queryId: string): Reply {
  state.sessions.authenticate(tokenFrom(req));
  const r = state.queries.get(queryId);
  if (!r) return ok({ queries: [] });
  const failed = r.status === 'FAILED_WITH_ERROR' || r.status === 'ABORTED';
  return ok(
    {
      queries: [
        {
          id: r.id,
          status: r.status,
          state: r.status === 'SUCCESS' ? 'SUCCEEDED' : r.status,
          sqlText: r.sqlText,
          startTime: r.startTime,
          endTime: r.endTime ?? 0,
          totalDuration: (r.endTime ?? state.now()) - r.startTime,
          sessionId: r.sessionId,
          errorCode: r.error?.code ?? null,
          errorMessage: r.error?.message ?? null,
        },
      ],
      sqlState: failed ? (r.error?.sqlState ?? null) : null,
    },
    failed ? { code: r.error?.code ?? null } : {},
  );
}

/** `POST /queries/{id}/abort-request`, or `/queries/v1/abort-request` with a `requestId` body: cancel the user's query. */
export async function abort(state: EmulatorState, req: IncomingMessage, queryId: string | undefined): Promise<Reply> {
  const session = state.sessions.authenticate(tokenFrom(req));
  let record: QueryRecord | undefined;
  if (queryId) record = state.queries.get(queryId);
  else {
    const requestId = optString(asRecord(await readBody(req)).requestId);
    record = requestId ? state.queries.getByRequestId(requestId) : undefined;
  }
  if (!record || record.session.user !== session.user || !state.queries.cancel(record)) {
    return failure(SnowflakeWireError.of('NOT_EXECUTING'), queryId);
  }
  state.log?.info({ queryId: record.id }, 'emulator query cancel requested');
  return ok(null);
}
