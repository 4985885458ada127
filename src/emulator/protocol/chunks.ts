import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { ResultStore } from '../result-store.ts';
import { CHUNK_KEY_HEADER, send } from './wire.ts';

/**
 * `GET /emulator/chunks/{id}/{n}`: one gzipped result chunk, for the key the
 * result handed out in `chunkHeaders` (403 with a bad key, 404 when gone).
 */
export function chunk(results: ResultStore, req: IncomingMessage, res: ServerResponse, queryId: string, index: number): void {
  const result = results.get(queryId);
  const part = result?.chunks[index];
  const given = Buffer.from(String(req.headers[CHUNK_KEY_HEADER] ?? ''));
  const expected = Buffer.from(result?.chunkKey ?? '');
  if (!result || !part || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    send(res, { status: result && part ? 403 : 404, body: { success: false, code: 'CHUNK_NOT_AVAILABLE', message: 'Result chunk not found or key missing.' } });
    return;
  }
  // Not application/json: the driver would try to JSON.parse the bracket-less rows.
  res.writeHead(200, { 'Content-Type': 'binary/octet-stream', 'Content-Encoding': 'gzip', 'Content-Length': part.body.length });
  res.end(part.body);
}
