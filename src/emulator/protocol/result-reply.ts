/**
 * How a query's state is answered on the wire: a finished result (first rows
 * inline, the rest as chunk URLs), a failure, or "in progress".
 */
import type { QueryRecord } from '../query-record.ts';
import type { StoredResult } from '../result-store.ts';
import { parametersArray } from '../session-params.ts';
import { CHUNK_KEY_HEADER, failure, ok, type Reply } from './wire.ts';

/** The `data` of a successful query response; `sendResultTime` is read from `now` as it is built. */
export function resultData(result: StoredResult, baseUrl: string, now: () => number): Record<string, unknown> {
  const data: Record<string, unknown> = {
    parameters: parametersArray(result.parameters),
    rowtype: result.rowtype,
    rowset: result.firstRows,
    total: result.total,
    returned: result.total,
    queryId: result.queryId,
    databaseProvider: null,
    finalDatabaseName: result.context.database || null,
    finalSchemaName: result.context.schema || null,
    finalWarehouseName: result.context.warehouse,
    finalRoleName: result.context.role,
    numberOfBinds: result.numberOfBinds,
    arrayBindSupported: false,
    statementTypeId: result.statementTypeId,
    version: 1,
    sendResultTime: now(),
    queryResultFormat: 'json',
  };
  if (result.chunks.length > 0) {
    data.chunkHeaders = { 'x-amz-server-side-encryption-customer-algorithm': 'AES256', [CHUNK_KEY_HEADER]: result.chunkKey };
    data.chunks = result.chunks.map((c, i) => ({
      url: `${baseUrl}/emulator/chunks/${result.queryId}/${i}`,
      rowCount: c.rowCount,
      uncompressedSize: c.uncompressedSize,
      compressedSize: c.body.length,
    }));
  }
  return data;
}

/** "Still running": the driver polls `getResultUrl`. */
export function inProgress(record: QueryRecord, async: boolean): Reply {
  return ok(
    { queryId: record.id, getResultUrl: `/queries/${record.id}/result`, queryAbortsAfterSecs: 300, progressDesc: null },
    async
      ? { code: '333334', message: 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.' }
      : { code: '333333', message: 'Query execution in progress. Query will be aborted unless request for result is received within 300 seconds.' },
  );
}

/** The reply for a query record as it stands now. */
export function recordReply(record: QueryRecord, baseUrl: string, now: () => number): Reply {
  if (record.error) return failure(record.error, record.id);
  if (record.result) return ok(resultData(record.result, baseUrl, now));
  return inProgress(record, false);
}

/** Wait until the record is done, or at most `waitMs`. */
export async function waitFor(record: QueryRecord, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([record.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}
