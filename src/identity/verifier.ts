/**
 * Verify an agent's OIDC bearer token and derive its identity.
 *
 * Discovery (openid-client) runs lazily on the first verify and is retried after
 * a failure, so an IdP outage never stops Airlock from starting; requests get
 * `AUTH_ISSUER_UNAVAILABLE` (503) meanwhile. Keys come from the discovered
 * `jwks_uri` through jose's remote JWKS (cached, refetched on an unknown `kid`).
 */
import { jwtVerify, type JWTPayload } from 'jose';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { extractBearerToken } from './bearer.ts';
import { IdentityCache } from './identity-cache.ts';
import { identityFromClaims, type AgentIdentity, type ClaimNames } from './identity-from-claims.ts';
import { issuerKeysLoader, withSignal } from './issuer-keys.ts';
import { mapJoseError, type Expectations } from './jose-errors.ts';
import { isForbiddenAlg, precheck } from './token-precheck.ts';

export type { AgentIdentity, ClaimNames } from './identity-from-claims.ts';

/** Verifies `Authorization` header values; one instance per process, shared by all requests. */
export interface TokenVerifier {
  /** Resolve the caller's identity or throw an AirlockError with an AUTH_* code. */
  verify(authorization: string | undefined, opts?: { signal?: AbortSignal }): Promise<AgentIdentity>;
}

/** Options of {@link createTokenVerifier}; mirrors OIDC_* and AIRLOCK_OIDC_* config. */
export interface TokenVerifierOptions {
  /** OIDC_ISSUER; discovery reads `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** OIDC_AUDIENCE; the token's `aud` must contain it. */
  audience: string;
  /** Asymmetric JWS algorithms accepted (AIRLOCK_OIDC_ALGORITHMS); `none` and HS* are refused. */
  algorithms: string[];
  /** Leeway for `exp`/`nbf` (AIRLOCK_OIDC_CLOCK_SKEW_SECONDS). */
  clockSkewSeconds: number;
  /** Claim names for owner, groups and name (AIRLOCK_OIDC_*_CLAIM). */
  claims: ClaimNames;
  /** Allow an `http:` issuer and `jwks_uri` (dev issuer, tests). */
  allowInsecureHttp?: boolean;
  /** fetch used for discovery and JWKS. */
  fetch?: typeof fetch;
  /** Clock for `exp`/`nbf` and the identity cache. */
  now?: () => Date;
  /** Discovery failures and recoveries are logged here. */
  logger?: Logger;
  /** How long a verified token's identity is reused (never past `exp`); 0 disables. Default 30. */
  cacheTtlSeconds?: number;
  /** Identity cache bound. Default 10,000 tokens. */
  cacheMaxEntries?: number;
  /** After a failed discovery, fail fast for this long before trying again. Default 500 ms. */
  discoveryRetryMs?: number;
}

/** Build a verifier. Does no I/O: discovery happens on the first {@link TokenVerifier.verify}. */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const algorithms = opts.algorithms.map((a) => a.trim()).filter(Boolean);
  if (algorithms.length === 0 || algorithms.some(isForbiddenAlg)) {
    throw new AirlockError('CONFIG_INVALID', 'OIDC algorithms must be a non-empty list of asymmetric algorithms (none and HS* are refused).');
  }
  if (URL.parse(opts.issuer) === null) {
    throw new AirlockError('CONFIG_INVALID', 'OIDC_ISSUER must be an absolute URL.');
  }
  const now = opts.now ?? (() => new Date());
  const skew = opts.clockSkewSeconds;
  const expected: Expectations = { issuer: opts.issuer, audience: opts.audience, algorithms };
  const cache = new IdentityCache(opts.cacheTtlSeconds ?? 30, opts.cacheMaxEntries ?? 10_000, skew);
  const issuerKeys = issuerKeysLoader({
    issuer: opts.issuer,
    allowInsecureHttp: opts.allowInsecureHttp,
    fetch: opts.fetch ?? globalThis.fetch,
    logger: opts.logger,
    retryMs: opts.discoveryRetryMs ?? 500,
  });

  return {
    async verify(authorization, verifyOpts = {}) {
      const token = extractBearerToken(authorization);
      const nowDate = now();
      const nowSeconds = Math.floor(nowDate.getTime() / 1000);
      const hit = cache.get(token, nowSeconds);
      if (hit) return hit;

      precheck(token, { issuer: opts.issuer, algorithms });
      const { issuer, getKey } = await withSignal(issuerKeys(), verifyOpts.signal, opts.issuer);
      let payload: JWTPayload;
      try {
        ({ payload } = await withSignal(
          jwtVerify(token, getKey, {
            issuer,
            audience: opts.audience,
            algorithms,
            clockTolerance: skew,
            currentDate: nowDate,
            requiredClaims: ['exp'],
          }),
          verifyOpts.signal,
          opts.issuer,
        ));
      } catch (err) {
        throw mapJoseError(err, expected);
      }
      if (payload.cnf !== undefined) {
        // A DPoP- or mTLS-bound token used as a plain bearer token would defeat its binding.
        throw new AirlockError('AUTH_INVALID', 'Sender-constrained (DPoP or mTLS bound) access tokens are not supported.');
      }
      const identity = identityFromClaims(payload, opts.claims);
      cache.remember(token, payload, identity, nowSeconds);
      return identity;
    },
  };
}
