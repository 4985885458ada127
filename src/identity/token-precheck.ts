/**
 * Cheap checks on a token that need no keys: algorithm, type, issuer. They
 * give the precise code without IdP traffic.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { AirlockError } from '../errors.ts';

/** Media types an access token may declare; RFC 9068 says `at+jwt`, many IdPs still say `JWT`. */
const ACCESS_TOKEN_TYPES = new Set(['jwt', 'at+jwt', 'application/jwt', 'application/at+jwt']);

/** `none` and the HS* (shared-secret) algorithms are never accepted. */
export function isForbiddenAlg(alg: string): boolean {
  return alg.toLowerCase() === 'none' || alg.toUpperCase().startsWith('HS');
}

function sameUrl(a: string, b: string): boolean {
  const left = URL.parse(a);
  const right = URL.parse(b);
  return left !== null && right !== null && left.href === right.href;
}

/** Refuse a token that is malformed, signed with an algorithm not in `algorithms`, not an access token, or from another issuer. */
export function precheck(token: string, expected: { issuer: string; algorithms: string[] }): void {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch (err) {
    throw new AirlockError('AUTH_MALFORMED', 'The access token is not a well-formed signed JWT.', { cause: err });
  }
  if (typeof header.alg !== 'string' || isForbiddenAlg(header.alg) || !expected.algorithms.includes(header.alg)) {
    throw new AirlockError('AUTH_ALG_NOT_ALLOWED', 'The access token uses a signing algorithm Airlock does not accept.', {
      details: { allowed: expected.algorithms },
    });
  }
  if (header.typ !== undefined && !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase())) {
    throw new AirlockError('AUTH_INVALID', 'The token is not an access token (unexpected typ header).');
  }
  // Checked before the signature on purpose: a token from another IdP would
  // otherwise surface as a bad signature, which hides the real mistake.
  if (typeof payload.iss !== 'string' || !sameUrl(payload.iss, expected.issuer)) {
    throw new AirlockError('AUTH_BAD_ISSUER', 'The access token comes from an issuer Airlock does not trust.', {
      details: { expectedIssuer: expected.issuer },
    });
  }
}
