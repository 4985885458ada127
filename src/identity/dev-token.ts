/**
 * Get a dev access token from a running dev issuer, through its real token
 * endpoint (client credentials grant, RFC 8707 resource, RFC 9068 JWT).
 *
 * `airlock token` uses {@link requestDevToken} from another process than
 * `airlock dev`: it reads the issuer URL and dev client secret from the state dir.
 */
import {
  allowInsecureRequests,
  clientCredentialsGrant,
  ClientSecretBasic,
  customFetch,
  discovery,
  ResponseBodyError,
  WWWAuthenticateChallengeError,
  type CustomFetch,
} from 'openid-client';
import { join } from 'node:path';
import { AirlockError } from '../errors.ts';
import { DEV_ISSUER_STATE_FILE, readDevIssuerState } from './dev-state.ts';
import { encodeDevTokenParams, type DevTokenRequest } from './dev-token-params.ts';

export type { DevTokenRequest } from './dev-token-params.ts';

/** Where to ask and with which secret; what `dev-issuer.json` holds. */
export interface DevIssuerTarget {
  issuer: string;
  resource: string;
  clientSecret: string;
}

/** Transport options. */
export interface DevTokenTransport {
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** Request a token for one agent from the dev issuer at `target`. Used by `mintToken` too. */
export async function fetchDevToken(target: DevIssuerTarget, req: DevTokenRequest, transport: DevTokenTransport = {}): Promise<string> {
  const params = encodeDevTokenParams(req);
  const fetchImpl = transport.fetch ?? globalThis.fetch;
  const { signal } = transport;
  const fetchWithSignal: CustomFetch = (url, init) =>
    fetchImpl(url, {
      ...(init as RequestInit),
      signal: signal && init.signal ? AbortSignal.any([init.signal, signal]) : (signal ?? init.signal),
    });
  const insecure = new URL(target.issuer).protocol === 'http:';
  try {
    const config = await discovery(new URL(target.issuer), req.agent, undefined, ClientSecretBasic(target.clientSecret), {
      [customFetch]: fetchWithSignal,
      timeout: 10,
      ...(insecure ? { execute: [allowInsecureRequests] } : {}),
    });
    const response = await clientCredentialsGrant(config, { ...params, resource: target.resource });
    return response.access_token;
  } catch (err) {
    // A refused client secret comes back as 401 with a WWW-Authenticate challenge.
    const refusedClient =
      (err instanceof ResponseBodyError && err.error === 'invalid_client') ||
      (err instanceof WWWAuthenticateChallengeError && err.status === 401);
    if (refusedClient) {
      throw new AirlockError(
        'AUTH_INVALID',
        'The dev issuer refused the dev client secret; it belongs to another run. Restart `airlock dev` or use its state directory.',
        { cause: err },
      );
    }
    if (err instanceof ResponseBodyError) {
      throw new AirlockError('BAD_REQUEST', `The dev issuer refused the token request: ${err.error_description ?? err.error}.`, {
        cause: err,
      });
    }
    throw new AirlockError('AUTH_ISSUER_UNAVAILABLE', `No dev issuer answers at ${target.issuer}; is \`airlock dev\` running?`, {
      cause: err,
      details: { issuer: target.issuer },
    });
  }
}

/**
 * Mint a dev token against an already running dev issuer (another process),
 * using `stateDir/dev-issuer.json`. `issuer` overrides the URL found there.
 */
export async function requestDevToken(
  opts: DevTokenRequest & { stateDir: string; issuer?: string } & DevTokenTransport,
): Promise<string> {
  const state = await readDevIssuerState(opts.stateDir);
  if (!state) {
    throw new AirlockError(
      'AUTH_ISSUER_UNAVAILABLE',
      `No dev issuer state at ${join(opts.stateDir, DEV_ISSUER_STATE_FILE)}; start \`airlock dev\` first.`,
    );
  }
  const { stateDir: _stateDir, issuer, fetch: fetchImpl, signal, ...req } = opts;
  return fetchDevToken(
    { issuer: issuer ?? state.issuer, resource: state.resource, clientSecret: state.clientSecret },
    req,
    { ...(fetchImpl ? { fetch: fetchImpl } : {}), ...(signal ? { signal } : {}) },
  );
}
