/**
 * Reading the driver's request bodies: JSON, often gzipped, sometimes without
 * a `Content-Encoding` header (so the gzip magic bytes are sniffed), and the
 * small value helpers the handlers share.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { SnowflakeWireError } from './errors.ts';

const gunzipAsync = promisify(gunzip);

/** The largest (decompressed) body any back end reads. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The JSON body, gunzipped when needed; `{}` when empty. */
export async function decodeBody(raw: Buffer): Promise<unknown> {
  let bytes = raw;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(bytes, { maxOutputLength: MAX_BODY_BYTES });
    } catch {
      throw SnowflakeWireError.of('BAD_REQUEST', 'Request body is not valid gzip, or too large.');
    }
  }
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(bytes.toString('utf8'));
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

/** Snowflake folds unquoted identifiers to upper case. */
export function snowflakeName(raw: string | null | undefined): string | undefined {
  if (raw === null || raw === undefined || raw === '') return undefined;
  return raw.startsWith('"') && raw.endsWith('"') && raw.length > 1 ? raw.slice(1, -1) : raw.toUpperCase();
}
