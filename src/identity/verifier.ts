/**
 * Verify an agent's OIDC bearer token and derive its identity.
 *
 * Discovery (openid-client) runs lazily on the first verify and is retried after
 * a failure, so an IdP outage never stops Airlock from starting; requests get
 * `AUTH_ISSUER_UNAVAILABLE` (503) meanwhile. Keys come from the discovered
 * `jwks_uri` through jose's remote JWKS (cached, refetched on an unknown `kid`).
 */
import {
  createRemoteJWKSet,
  customFetch as joseCustomFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { allowInsecureRequests, customFetch as oidcCustomFetch, discovery, type CustomFetch } from 'openid-client';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { extractBearerToken } from './bearer.ts';
import { identityFromClaims, type AgentIdentity, type ClaimNames } from './identity-from-claims.ts';
import { mapJoseError, type Expectations } from './jose-errors.ts';

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

interface IssuerKeys {
  /** `issuer` exactly as the discovery document (and so every token) spells it. */
  issuer: string;
  getKey: JWTVerifyGetKey;
}

interface CacheEntry {
  identity: AgentIdentity;
  exp: number;
  nbf: number | undefined;
  cachedUntil: number;
}

/** Media types an access token may declare; RFC 9068 says `at+jwt`, many IdPs still say `JWT`. */
const ACCESS_TOKEN_TYPES = new Set(['jwt', 'at+jwt', 'application/jwt', 'application/at+jwt']);
const DISCOVERY_TIMEOUT_SECONDS = 5;
const JWKS_TIMEOUT_MS = 5_000;

function isForbiddenAlg(alg: string): boolean {
  return alg.toLowerCase() === 'none' || alg.toUpperCase().startsWith('HS');
}

function sameUrl(a: string, b: string): boolean {
  const left = URL.parse(a);
  const right = URL.parse(b);
  return left !== null && right !== null && left.href === right.href;
}

function unavailable(issuer: string, message: string, cause?: unknown): AirlockError {
  return new AirlockError('AUTH_ISSUER_UNAVAILABLE', message, { cause, details: { issuer } });
}

/** Settle with `promise`, or reject as soon as `signal` aborts (the shared work keeps going). */
function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, issuer: string): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(unavailable(issuer, 'Token verification was cancelled before the identity provider answered.', signal.reason));
    if (signal.aborted) {
      onAbort();
      promise.catch(() => undefined);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Build a verifier. Does no I/O: discovery happens on the first {@link TokenVerifier.verify}. */
export function createTokenVerifier(opts: TokenVerifierOptions): TokenVerifier {
  const algorithms = opts.algorithms.map((a) => a.trim()).filter(Boolean);
  if (algorithms.length === 0 || algorithms.some(isForbiddenAlg)) {
    throw new AirlockError('CONFIG_INVALID', 'OIDC algorithms must be a non-empty list of asymmetric algorithms (none and HS* are refused).');
  }
  const allowed = new Set(algorithms);
  if (URL.parse(opts.issuer) === null) {
    throw new AirlockError('CONFIG_INVALID', 'OIDC_ISSUER must be an absolute URL.');
  }
  const fetchImpl = opts.fetch ?? globalThis.fetch;
  const now = opts.now ?? (() => new Date());
  const skew = opts.clockSkewSeconds;
  const cacheTtl = opts.cacheTtlSeconds ?? 30;
  const cacheMax = opts.cacheMaxEntries ?? 10_000;
  const retryMs = opts.discoveryRetryMs ?? 500;
  const expected: Expectations = { issuer: opts.issuer, audience: opts.audience, algorithms };
  const cache = new Map<string, CacheEntry>();

  let keys: Promise<IssuerKeys> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  let lastFailure: AirlockError | undefined;

  async function discover(): Promise<IssuerKeys> {
    let config;
    try {
      config = await discovery(new URL(opts.issuer), 'airlock', undefined, undefined, {
        // openid-client's fetch signature is a subset of fetch's.
        [oidcCustomFetch]: ((url, init) => fetchImpl(url, init as RequestInit)) satisfies CustomFetch,
        timeout: DISCOVERY_TIMEOUT_SECONDS,
        ...(opts.allowInsecureHttp ? { execute: [allowInsecureRequests] } : {}),
      });
    } catch (err) {
      throw unavailable(opts.issuer, `OIDC discovery at ${opts.issuer} failed; Airlock cannot verify tokens until the identity provider answers.`, err);
    }
    const metadata = config.serverMetadata();
    const jwksUri = metadata.jwks_uri === undefined ? null : URL.parse(metadata.jwks_uri);
    if (jwksUri === null) {
      throw unavailable(opts.issuer, `The identity provider at ${opts.issuer} publishes no usable jwks_uri.`);
    }
    if (jwksUri.protocol !== 'https:' && !opts.allowInsecureHttp) {
      throw unavailable(opts.issuer, `The identity provider's jwks_uri is not https; refusing to fetch signing keys over plain HTTP.`);
    }
    const remote = createRemoteJWKSet(jwksUri, {
      timeoutDuration: JWKS_TIMEOUT_MS,
      [joseCustomFetch]: fetchImpl,
    });
    const getKey: JWTVerifyGetKey = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (err) {
        const fetchProblem =
          !(err instanceof errors.JOSEError) ||
          err instanceof errors.JWKSTimeout ||
          err instanceof errors.JWKSInvalid ||
          err.code === 'ERR_JOSE_GENERIC';
        if (fetchProblem) {
          throw unavailable(opts.issuer, `Airlock cannot fetch the identity provider's signing keys from ${jwksUri.href}.`, err);
        }
        throw err;
      }
    };
    opts.logger?.info({ issuer: metadata.issuer, jwksUri: jwksUri.href }, 'OIDC issuer discovered');
    return { issuer: metadata.issuer, getKey };
  }

  function issuerKeys(): Promise<IssuerKeys> {
    if (keys) return keys;
    if (lastFailure && performance.now() - failedAt < retryMs) {
      return Promise.reject(
        new AirlockError(lastFailure.code, lastFailure.message, { details: lastFailure.details, cause: lastFailure.cause }),
      );
    }
    const attempt = discover().catch((err: unknown) => {
      keys = undefined;
      failedAt = performance.now();
      lastFailure = err instanceof AirlockError ? err : unavailable(opts.issuer, 'OIDC discovery failed.', err);
      opts.logger?.warn({ issuer: opts.issuer, err: lastFailure.cause ?? lastFailure }, lastFailure.message);
      throw lastFailure;
    });
    keys = attempt;
    return attempt;
  }

  function cached(token: string, nowSeconds: number): AgentIdentity | undefined {
    const entry = cache.get(token);
    if (!entry) return undefined;
    const valid =
      nowSeconds < entry.cachedUntil && entry.exp > nowSeconds - skew && (entry.nbf === undefined || entry.nbf <= nowSeconds + skew);
    if (valid) return entry.identity;
    cache.delete(token);
    return undefined;
  }

  function remember(token: string, payload: JWTPayload, identity: AgentIdentity, nowSeconds: number): void {
    if (cacheTtl <= 0 || payload.exp === undefined) return;
    if (cache.size >= cacheMax) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(token, { identity, exp: payload.exp, nbf: payload.nbf, cachedUntil: nowSeconds + cacheTtl });
  }

  /** Cheap checks that need no keys: algorithm, type, issuer. They give the precise code without IdP traffic. */
  function precheck(token: string): void {
    let header;
    let payload;
    try {
      header = decodeProtectedHeader(token);
      payload = decodeJwt(token);
    } catch (err) {
      throw new AirlockError('AUTH_MALFORMED', 'The access token is not a well-formed signed JWT.', { cause: err });
    }
    if (typeof header.alg !== 'string' || isForbiddenAlg(header.alg) || !allowed.has(header.alg)) {
      throw new AirlockError('AUTH_ALG_NOT_ALLOWED', 'The access token uses a signing algorithm Airlock does not accept.', {
        details: { allowed: algorithms },
      });
    }
    if (header.typ !== undefined && !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase())) {
      throw new AirlockError('AUTH_INVALID', 'The token is not an access token (unexpected typ header).');
    }
    // Checked before the signature on purpose: a token from another IdP would
    // otherwise surface as a bad signature, which hides the real mistake.
    if (typeof payload.iss !== 'string' || !sameUrl(payload.iss, opts.issuer)) {
      throw new AirlockError('AUTH_BAD_ISSUER', 'The access token comes from an issuer Airlock does not trust.', {
        details: { expectedIssuer: opts.issuer },
      });
    }
  }

  return {
    async verify(authorization, verifyOpts = {}) {
      const token = extractBearerToken(authorization);
      const nowDate = now();
      const nowSeconds = Math.floor(nowDate.getTime() / 1000);
      const hit = cached(token, nowSeconds);
      if (hit) return hit;

      precheck(token);
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
      remember(token, payload, identity, nowSeconds);
      return identity;
    },
  };
}
