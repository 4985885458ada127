/**
 * Snowflake's reply envelope, `{success, code, message, data}`, as every back
 * end answers the driver. Refusals are HTTP 200 with `success:false`: a 5xx
 * sends the driver into minutes of retries.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { SnowflakeWireError } from './errors.ts';

/** Header the driver echoes from `chunkHeaders` when downloading chunks (S3's SSE-C key header). */
export const CHUNK_KEY_HEADER = 'x-amz-server-side-encryption-customer-key';

/** An HTTP answer before serialisation: JSON, or a gzip chunk body. */
export type Reply = { status: number; body: unknown } | { status: 200; chunk: Buffer };

/** A `success: true` envelope; `extra` overrides the top-level fields (e.g. "in progress" codes). */
export function ok(data: unknown, extra: Record<string, unknown> = {}): Reply {
  return { status: 200, body: { success: true, code: null, message: null, data, ...extra } };
}

/** A `success: false` envelope, still HTTP 200. */
export function failure(err: SnowflakeWireError, queryId?: string): Reply {
  return {
    status: 200,
    body: {
      success: false,
      code: err.code,
      message: err.message,
      data: { errorCode: err.code, sqlState: err.sqlState, queryId: queryId ?? null, internalError: err.code === '000603', age: 0 },
      headers: null,
    },
  };
}

/** Any thrown thing as a wire error: wire errors as they are, anything else `000603` (never a stack trace). */
export function asWireError(err: unknown): SnowflakeWireError {
  return err instanceof SnowflakeWireError ? err : SnowflakeWireError.of('INTERNAL');
}

/** Status, headers and bytes of a reply, for whichever HTTP server writes it. */
export function serialise(reply: Reply): { status: number; headers: Record<string, string | number>; payload: Buffer } {
  if ('chunk' in reply) {
    // Not application/json: the driver would try to JSON.parse the bracket-less rows.
    return {
      status: 200,
      headers: { 'Content-Type': 'binary/octet-stream', 'Content-Encoding': 'gzip', 'Content-Length': reply.chunk.length },
      payload: reply.chunk,
    };
  }
  const payload = Buffer.from(JSON.stringify(reply.body));
  return { status: reply.status, headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length }, payload };
}

/** The session token of `Authorization: Snowflake Token="…"`. */
export function tokenFrom(headers: IncomingHttpHeaders): string | undefined {
  const m = /Snowflake Token="([^"]*)"/.exec(headers.authorization ?? '');
  return m?.[1];
}
