/**
 * Reaching the identity provider: OIDC discovery (lazy, retried after a
 * failure with a short fail-fast window) and the signing keys from the
 * discovered `jwks_uri` through jose's remote JWKS. Every failure to reach
 * the IdP is `AUTH_ISSUER_UNAVAILABLE` (503), never a token error.
 */
import { createRemoteJWKSet, customFetch as joseCustomFetch, errors, type JWTVerifyGetKey } from 'jose';
import { allowInsecureRequests, customFetch as oidcCustomFetch, discovery, type CustomFetch } from 'openid-client';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** The discovered issuer and its key lookup. */
export interface IssuerKeys {
  /** `issuer` exactly as the discovery document (and so every token) spells it. */
  issuer: string;
  getKey: JWTVerifyGetKey;
}

/** What discovery needs; a slice of the verifier's options. */
export interface IssuerKeysOptions {
  issuer: string;
  allowInsecureHttp?: boolean;
  fetch: typeof fetch;
  logger?: Logger;
  /** After a failed discovery, fail fast for this long before trying again. */
  retryMs: number;
}

const DISCOVERY_TIMEOUT_SECONDS = 5;
const JWKS_TIMEOUT_MS = 5_000;

/** The identity provider cannot be reached (or gave nothing usable). */
export function unavailable(issuer: string, message: string, cause?: unknown): AirlockError {
  return new AirlockError('AUTH_ISSUER_UNAVAILABLE', message, { cause, details: { issuer } });
}

/** Settle with `promise`, or reject as soon as `signal` aborts (the shared work keeps going). */
export function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, issuer: string): Promise<T> {
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

/**
 * The issuer's keys, discovered on first use and shared; after a failure the
 * same error is returned for `retryMs`, then discovery is tried again.
 */
export function issuerKeysLoader(opts: IssuerKeysOptions): () => Promise<IssuerKeys> {
  let keys: Promise<IssuerKeys> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;
  let lastFailure: AirlockError | undefined;
  return () => {
    if (keys) return keys;
    if (lastFailure && performance.now() - failedAt < opts.retryMs) {
      return Promise.reject(
        new AirlockError(lastFailure.code, lastFailure.message, { details: lastFailure.details, cause: lastFailure.cause }),
      );
    }
    const attempt = discover(opts).catch((err: unknown) => {
      keys = undefined;
      failedAt = performance.now();
      lastFailure = err instanceof AirlockError ? err : unavailable(opts.issuer, 'OIDC discovery failed.', err);
      opts.logger?.warn({ issuer: opts.issuer, err: lastFailure.cause ?? lastFailure }, lastFailure.message);
      throw lastFailure;
    });
    keys = attempt;
    return attempt;
  };
}

/** Discovery, then a remote JWKS on the discovered `jwks_uri` (https unless allowed otherwise). */
async function discover(opts: IssuerKeysOptions): Promise<IssuerKeys> {
  const fetchImpl = opts.fetch;
  let config: Awaited<ReturnType<typeof discovery>>;
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
