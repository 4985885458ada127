/**
 * The idempotency key of a submit: the `idempotencyKey` body field or the
 * `Idempotency-Key` header (the name HTTP clients and SDKs already send, per
 * the IETF httpapi draft), with the same semantics. Both may be given only
 * when they agree: two different keys in one request is a client bug, and
 * picking either one silently could run a statement twice.
 */
import { AirlockError } from '../errors.ts';

/** The header's name as Node delivers it (lower case). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Longest key accepted, in characters (the body field's limit too: schemas.ts). */
const MAX_KEY_CHARS = 200;

/** The request's key, from the body or the header; undefined when neither carries one. */
export function idempotencyKeyOf(bodyKey: string | undefined, header: string | string[] | undefined): string | undefined {
  if (header === undefined) return bodyKey;
  // Node joins repeated custom headers with ", "; an array only comes from a hand-built request.
  const headerKey = Array.isArray(header) ? header.join(', ') : header;
  if (headerKey.length < 1 || headerKey.length > MAX_KEY_CHARS) {
    const message = `must be 1-${MAX_KEY_CHARS} characters`;
    throw new AirlockError('VALIDATION_FAILED', `Invalid request: headers.idempotency-key: ${message}.`, {
      details: { problems: [{ path: 'headers.idempotency-key', message }] },
    });
  }
  if (bodyKey !== undefined && bodyKey !== headerKey) {
    throw new AirlockError(
      'IDEMPOTENCY_KEY_MISMATCH',
      'The Idempotency-Key header and the idempotencyKey body field differ; send one key (either place), or the same key in both.',
    );
  }
  return headerKey;
}
