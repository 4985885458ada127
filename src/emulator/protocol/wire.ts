/**
 * The emulator's HTTP plumbing in Snowflake's dialect: reading the driver's
 * (often gzipped) bodies, its session token header, and writing the
 * `{success, code, message, data}` envelope the driver expects.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { SnowflakeWireError } from '../wire-error.ts';

const gunzipAsync = promisify(gunzip);

/** Header the driver echoes from `chunkHeaders` when downloading chunks (S3's SSE-C key header). */
export const CHUNK_KEY_HEADER = 'x-amz-server-side-encryption-customer-key';
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** An HTTP answer before serialisation. */
export interface Reply {
  status: number;
  body: unknown;
}

/** A `success: true` envelope; `extra` overrides the top-level fields (e.g. "in progress" codes). */
export function ok(data: unknown, extra: Record<string, unknown> = {}): Reply {
  return { status: 200, body: { success: true, code: null, message: null, data, ...extra } };
}

/** A `success: false` envelope, still HTTP 200: a 5xx sends the driver into minutes of retries. */
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

/** Write `reply` as JSON, unless something was already sent. */
export function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Snowflake folds unquoted identifiers to upper case. */
export function snowflakeName(raw: string | null | undefined): string | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  return raw.startsWith('"') && raw.endsWith('"') && raw.length > 1 ? raw.slice(1, -1) : raw.toUpperCase();
}

/** The session token of `Authorization: Snowflake Token="…"`. */
export function tokenFrom(req: IncomingMessage): string | undefined {
  const m = /Snowflake Token="([^"]*)"/.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/** The request's JSON body, gunzipped when needed; `{}` when empty. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size > MAX_BODY_BYTES) throw SnowflakeWireError.of('BAD_REQUEST', 'Request body too large.');
    parts.push(part as Buffer);
  }
  let raw = Buffer.concat(parts);
  // The driver gzips bodies, sometimes without a Content-Encoding header: sniff the magic bytes.
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = await gunzipAsync(raw);
    } catch {
      throw SnowflakeWireError.of('BAD_REQUEST', 'Request body is not valid gzip.');
    }
  }
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw SnowflakeWireError.of('BAD_REQUEST', 'Request body is not valid JSON.');
  }
}

/** `value` when it is a plain object, else `{}`. */
export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** `value` when it is a string. */
export function optString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
