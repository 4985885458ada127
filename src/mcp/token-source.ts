/**
 * Where `airlock mcp` gets the agent's bearer token: a fixed AIRLOCK_TOKEN, or
 * OAuth client credentials (AIRLOCK_CLIENT_ID / AIRLOCK_CLIENT_SECRET) against
 * the issuer the Airlock names in its protected resource metadata (RFC 9728),
 * refreshed before it expires.
 */
import * as oauth from 'openid-client';
import { AirlockError } from '../errors.ts';
import { PROTECTED_RESOURCE_PATH } from './metadata.ts';

/** Gives a bearer token for each call. */
export interface TokenSource {
  token(): Promise<string>;
  /** A new token now (after the server said 401); absent for a fixed token. */
  refresh?(): Promise<string>;
}

/** A token given once (AIRLOCK_TOKEN); when it expires, the agent's owner gives a new one. */
export function staticToken(token: string): TokenSource {
  return { token: async () => token };
}

/** Options of {@link clientCredentialsTokens}. */
export interface ClientCredentialsOptions {
  /** The Airlock's base URL; its protected resource metadata names the issuer. */
  airlockUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch (tests pass a clock). */
  now?: () => number;
}

/** http:// is only for a server on this machine (the dev issuer, a local Airlock); anything remote must be https. */
export function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** The first authorization server the Airlock publishes for /mcp (RFC 9728). */
async function issuerOf(airlockUrl: string, fetchImpl: typeof fetch): Promise<URL> {
  const url = `${airlockUrl.replace(/\/+$/, '')}${PROTECTED_RESOURCE_PATH}/mcp`;
  let metadata: { authorization_servers?: unknown };
  try {
    const response = await fetchImpl(url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    metadata = (await response.json()) as typeof metadata;
  } catch (err) {
    throw new AirlockError('AUTH_ISSUER_UNAVAILABLE', `Could not read Airlock's protected resource metadata at ${url}; check --url.`, { cause: err });
  }
  const first = Array.isArray(metadata.authorization_servers) ? metadata.authorization_servers[0] : undefined;
  const issuer = typeof first === 'string' ? URL.parse(first) : null;
  if (!issuer) throw new AirlockError('AUTH_ISSUER_UNAVAILABLE', `Airlock at ${airlockUrl} names no authorization server; ask its operator for a token (AIRLOCK_TOKEN).`);
  return issuer;
}

/**
 * Tokens from the client credentials grant, cached and renewed once less than
 * a minute (or half their lifetime, if shorter) is left, so a long agent
 * session never presents an expired token. Concurrent callers share one request.
 */
export function clientCredentialsTokens(options: ClientCredentialsOptions): TokenSource {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  let config: Promise<oauth.Configuration> | undefined;
  let current: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  const configure = async (): Promise<oauth.Configuration> => {
    const issuer = await issuerOf(options.airlockUrl, fetchImpl);
    if (issuer.protocol !== 'https:' && !isLoopback(issuer)) {
      throw new AirlockError('AUTH_INVALID', `The issuer ${issuer.href} is not https; client credentials are only sent over TLS.`);
    }
    try {
      return await oauth.discovery(issuer, options.clientId, undefined, oauth.ClientSecretBasic(options.clientSecret), {
        [oauth.customFetch]: (url, init) => fetchImpl(url, init as RequestInit),
        timeout: 10,
        ...(issuer.protocol === 'http:' ? { execute: [oauth.allowInsecureRequests] } : {}),
      });
    } catch (err) {
      throw new AirlockError('AUTH_ISSUER_UNAVAILABLE', `The issuer ${issuer.href} did not answer OpenID discovery.`, { cause: err });
    }
  };

  const fetchToken = async (): Promise<string> => {
    config ??= configure().catch((err: unknown) => {
      config = undefined; // try discovery again on the next call
      throw err;
    });
    const started = now();
    try {
      const response = await oauth.clientCredentialsGrant(await config, {});
      const lifetimeMs = (response.expires_in ?? 300) * 1000;
      current = { token: response.access_token, renewAt: started + lifetimeMs - Math.min(60_000, lifetimeMs / 2) };
      return response.access_token;
    } catch (err) {
      if (err instanceof AirlockError) throw err;
      const refused = (err instanceof oauth.ResponseBodyError && err.error === 'invalid_client') || (err instanceof oauth.WWWAuthenticateChallengeError && err.status === 401);
      if (refused) throw new AirlockError('AUTH_INVALID', 'The issuer refused AIRLOCK_CLIENT_ID / AIRLOCK_CLIENT_SECRET.', { cause: err });
      if (err instanceof oauth.ResponseBodyError) throw new AirlockError('AUTH_INVALID', `The issuer refused the token request: ${err.error_description ?? err.error}.`, { cause: err });
      throw new AirlockError('AUTH_ISSUER_UNAVAILABLE', 'The issuer did not answer the token request.', { cause: err });
    }
  };

  const renew = (): Promise<string> => {
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  return {
    async token() {
      if (current && now() < current.renewAt) return current.token;
      return renew();
    },
    refresh: renew,
  };
}
