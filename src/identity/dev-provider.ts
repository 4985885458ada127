/**
 * The dev issuer's oidc-provider: client credentials only, RFC 9068 JWT
 * access tokens for one resource (the Airlock audience), with owner, groups
 * and name from the token request as claims.
 */
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { isAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { devAdapter } from './dev-adapter.ts';
import { quietly } from './dev-console.ts';
import { DEV_SIGNING_ALG, type loadOrCreateSigningKeys } from './dev-state.ts';
import { decodeDevTokenParams, DEV_SCOPES } from './dev-token-params.ts';

type ProviderModule = typeof import('oidc-provider');

let providerModule: Promise<ProviderModule> | undefined;
/** oidc-provider, imported lazily: production processes that never run a dev issuer never load it. */
export function loadProvider(): Promise<ProviderModule> {
  providerModule ??= import('oidc-provider');
  return providerModule;
}

/** What the provider is built from. */
export interface DevProviderSettings {
  issuer: string;
  audience: string;
  /** The RFC 8707 resource indicator of `audience`. */
  resource: string;
  clientSecret: string;
  jwks: Awaited<ReturnType<typeof loadOrCreateSigningKeys>>;
  claimNames: { owner: string; groups: string; name: string };
  logger: Logger;
}

/** Build the provider (its console notices go to the logger) and log its events. */
export async function createDevProvider(oidc: ProviderModule, s: DevProviderSettings): Promise<Provider> {
  const { resource, audience, claimNames } = s;
  const claimsFor = (ctx: KoaContextWithOIDC) => {
    try {
      return decodeDevTokenParams(ctx.oidc.body);
    } catch (err) {
      throw new oidc.errors.InvalidRequest(isAirlockError(err) ? err.message : 'invalid dev token parameters');
    }
  };
  const provider = await quietly(s.logger, async () => {
    return new oidc.Provider(s.issuer, {
      adapter: devAdapter(s.clientSecret),
      clients: [],
      jwks: s.jwks,
      scopes: ['openid', ...DEV_SCOPES],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: async () => resource,
          useGrantedResource: async () => true,
          getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
            if (indicator !== resource) throw new oidc.errors.InvalidTarget(`this issuer only serves ${resource}`);
            return {
              audience,
              scope: DEV_SCOPES.join(' '),
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: DEV_SIGNING_ALG } },
            };
          },
        },
      },
      ttl: {
        ClientCredentials: (ctx: KoaContextWithOIDC) => claimsFor(ctx).ttlSeconds,
      },
      extraTokenClaims: async (ctx: KoaContextWithOIDC) => {
        const p = claimsFor(ctx);
        const extra: Record<string, unknown> = {};
        if (p.owner !== undefined) extra[claimNames.owner] = p.owner;
        if (p.groups !== undefined) extra[claimNames.groups] = p.groups;
        if (p.name !== undefined) extra[claimNames.name] = p.name;
        return extra;
      },
      findAccount: async () => undefined,
      clientBasedCORS: () => false,
      renderError: async (ctx: KoaContextWithOIDC, out: Record<string, unknown>) => {
        ctx.type = 'json';
        ctx.body = out;
      },
    });
  });
  const logger = s.logger;
  provider.on('server_error', (_ctx: unknown, err: unknown) => logger.error({ err }, 'dev issuer internal error'));
  provider.on('grant.error', (_ctx: unknown, err: { message?: string; error_description?: string }) =>
    logger.info({ reason: err.error_description ?? err.message }, 'dev issuer refused a token request'),
  );
  // A listener on 'error' also stops Koa from printing errors to stderr.
  provider.on('error', (err: unknown) => logger.debug({ err }, 'dev issuer request error'));
  return provider;
}
