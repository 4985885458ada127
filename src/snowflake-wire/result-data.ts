/**
 * How results and query status look on the wire: the `data` of a successful
 * query response (first rows inline, the rest as chunk URLs) and of
 * `GET /monitoring/queries/{id}`.
 */
import { ok, type Reply } from './envelope.ts';
import { parametersArray } from './parameters.ts';
import type { QueryMonitor, WireResult } from './port.ts';

/** The `data` of a successful query response; `sendResultTime` is `now`. */
export function resultData(result: WireResult, now: number): Record<string, unknown> {
  const data: Record<string, unknown> = {
    parameters: parametersArray(result.parameters),
    rowtype: result.rowtype,
    rowset: result.rowset,
    total: result.total,
    returned: result.total,
    queryId: result.queryId,
    databaseProvider: null,
    finalDatabaseName: result.context.database || null,
    finalSchemaName: result.context.schema || null,
    finalWarehouseName: result.context.warehouse || null,
    finalRoleName: result.context.role || null,
    numberOfBinds: result.numberOfBinds,
    arrayBindSupported: false,
    statementTypeId: result.statementTypeId,
    version: 1,
    sendResultTime: now,
    queryResultFormat: 'json',
  };
  if (result.chunks.length > 0) {
    data.chunkHeaders = result.chunkHeaders ?? {};
    data.chunks = result.chunks;
  }
  return data;
}

/** The monitoring reply: one query, or none when the session knows no such id. */
export function monitorData(r: QueryMonitor | undefined, now: number): Reply {
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
          totalDuration: (r.endTime ?? now) - r.startTime,
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
