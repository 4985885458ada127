/**
 * Pull the compact JWS out of an `Authorization` header value.
 *
 * Pure and I/O free, so the API edge can reject junk before any IdP traffic.
 */
import { AirlockError } from '../errors.ts';

/** Longest token accepted; real access tokens are 1–4 kB, anything bigger is abuse. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

// Three base64url segments; the signature may be empty so that `alg: none`
// tokens reach the algorithm check and get the more precise code.
const BEARER = /^Bearer[ \t]+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)[ \t]*$/i;

/**
 * Return the token of a `Bearer x.y.z` header, or throw `AUTH_MISSING` (no or
 * empty header) / `AUTH_MALFORMED` (anything else). Messages never echo input.
 */
export function extractBearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw new AirlockError('AUTH_MISSING', 'Send an OIDC access token in the Authorization header as "Bearer <token>".');
  }
  if (authorization.length > MAX_TOKEN_LENGTH + 16) {
    throw new AirlockError('AUTH_MALFORMED', 'The Authorization header is too long to hold an access token.');
  }
  const match = BEARER.exec(authorization);
  if (!match?.[1]) {
    throw new AirlockError(
      'AUTH_MALFORMED',
      'The Authorization header must be "Bearer <JWT>" with a signed three-part JWT (encrypted tokens are not supported).',
    );
  }
  return match[1];
}
