/**
 * Translate jose verification failures into Airlock's AUTH_* codes.
 *
 * Adapters convert foreign errors at the edge (DESIGN §2); this is that edge for
 * jose. Messages are fixed sentences: jose's own messages and the token's
 * contents never reach the caller (they stay in `cause` for logs).
 */
import { errors } from 'jose';
import { AirlockError } from '../errors.ts';

/** What the verifier expected, for `details` (public configuration, never token content). */
export interface Expectations {
  issuer: string;
  audience: string;
  algorithms: readonly string[];
}

/** Map anything jwtVerify threw to an AirlockError with a distinct code. */
export function mapJoseError(err: unknown, expected: Expectations): AirlockError {
  if (err instanceof AirlockError) return err;
  if (err instanceof errors.JWTExpired) {
    return new AirlockError('AUTH_EXPIRED', 'The access token has expired; request a new one.', { cause: err });
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') {
      return new AirlockError('AUTH_INVALID', `The access token lacks the required "${err.claim}" claim.`, {
        cause: err,
        details: { claim: err.claim },
      });
    }
    switch (err.claim) {
      case 'nbf':
        return new AirlockError('AUTH_NOT_YET_VALID', 'The access token is not valid yet (nbf is in the future); check the clocks.', {
          cause: err,
        });
      case 'aud':
        return new AirlockError('AUTH_BAD_AUDIENCE', 'The access token was issued for another audience, not for Airlock.', {
          cause: err,
          details: { expectedAudience: expected.audience },
        });
      case 'iss':
        return new AirlockError('AUTH_BAD_ISSUER', 'The access token comes from an issuer Airlock does not trust.', {
          cause: err,
          details: { expectedIssuer: expected.issuer },
        });
      case 'exp':
        return new AirlockError('AUTH_EXPIRED', 'The access token has expired; request a new one.', { cause: err });
      default:
        return new AirlockError('AUTH_INVALID', `The access token's "${err.claim}" claim is invalid.`, {
          cause: err,
          details: { claim: err.claim },
        });
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new AirlockError('AUTH_BAD_SIGNATURE', "The access token's signature does not verify.", { cause: err });
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new AirlockError('AUTH_BAD_SIGNATURE', "The access token is signed with a key the issuer does not publish.", {
      cause: err,
    });
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new AirlockError('AUTH_ALG_NOT_ALLOWED', 'The access token uses a signing algorithm Airlock does not accept.', {
      cause: err,
      details: { allowed: [...expected.algorithms] },
    });
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return new AirlockError('AUTH_MALFORMED', 'The access token is not a well-formed signed JWT.', { cause: err });
  }
  return new AirlockError('AUTH_INVALID', 'The access token could not be verified.', { cause: err });
}
