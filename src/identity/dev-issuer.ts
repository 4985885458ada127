/**
 * A real local OIDC issuer (oidc-provider) for `airlock dev` and the tests.
 *
 * Every agent is its own OAuth client: client_id = agent name, so the RFC 9068
 * token's `sub` and `client_id` are the agent. All dev clients share one secret
 * (kept in `stateDir/dev-issuer.json`); whoever can read that file can mint
 * tokens for any agent, which is the point of a dev issuer and why it is 0600.
 * Owner, groups and name travel as extra token-request parameters and come back
 * as claims. Never use this in production: there is no user login at all.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { AirlockError, isAirlockError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import { fetchDevToken } from './dev-token.ts';
import { decodeDevTokenParams, DEV_SCOPES, isValidAgentId, type DevTokenRequest } from './dev-token-params.ts';
import {
  DEV_SIGNING_ALG,
  loadOrCreateSigningKeys,
  newClientSecret,
  readDevIssuerState,
  writeDevIssuerState,
} from './dev-state.ts';

/** Options of {@link startDevIssuer}. */
export interface DevIssuerOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** 0 = random. Omitted: the port of the previous run in `stateDir` (so tokens survive restarts), else random. */
  port?: number;
  /** The Airlock audience (OIDC_AUDIENCE) put in `aud`. */
  audience: string;
  /** Persist signing keys and client secret here (e.g. `.airlock/`); omitted = ephemeral. */
  stateDir?: string;
  logger?: Logger;
  /** Claim names to emit (AIRLOCK_OIDC_*_CLAIM); default owner, groups, name. */
  claims?: { owner: string; groups: string; name: string };
}

/** A running dev issuer. */
export interface DevIssuer {
  /** Issuer URL, exactly as tokens carry it in `iss` (no trailing slash). */
  issuer: string;
  audience: string;
  /** Mint a token through the issuer's own token endpoint over HTTP. */
  mintToken(a: DevTokenRequest): Promise<string>;
  close(): Promise<void>;
}

type ProviderModule = typeof import('oidc-provider');

const ANSI = /\x1b\[[0-9;]*m/g;
let quietDepth = 0;
let savedConsole: { warn: typeof console.warn; info: typeof console.info } | undefined;
const quietLoggers: Logger[] = [];

/**
 * Run `fn` while oidc-provider's console notices (dev-key and runtime warnings,
 * printed with console.warn/info) go to the logger at debug level instead.
 * Other console output passes through untouched.
 */
async function quietly<T>(logger: Logger, fn: () => Promise<T>): Promise<T> {
  if (quietDepth++ === 0) {
    const original = { warn: console.warn, info: console.info };
    savedConsole = original;
    const route =
      (passThrough: (...args: unknown[]) => void) =>
      (...args: unknown[]): void => {
        const first = args[0];
        const target = quietLoggers[quietLoggers.length - 1];
        if (typeof first === 'string' && first.includes('oidc-provider ') && target) {
          target.debug({ source: 'oidc-provider' }, first.replace(ANSI, ''));
          return;
        }
        passThrough.apply(console, args);
      };
    console.warn = route(original.warn);
    console.info = route(original.info);
  }
  quietLoggers.push(logger);
  try {
    return await fn();
  } finally {
    quietLoggers.splice(quietLoggers.lastIndexOf(logger), 1);
    if (--quietDepth === 0 && savedConsole) {
      console.warn = savedConsole.warn;
      console.info = savedConsole.info;
      savedConsole = undefined;
    }
  }
}

let providerModule: Promise<ProviderModule> | undefined;
function loadProvider(): Promise<ProviderModule> {
  // Imported lazily: production processes that never run a dev issuer never load it.
  providerModule ??= import('oidc-provider');
  return providerModule;
}

/** The RFC 8707 resource indicator for an audience: itself when it is a URI, else a urn. */
export function resourceIndicatorFor(audience: string): string {
  const url = URL.parse(audience);
  return url !== null && !audience.includes('#') ? audience : `urn:airlock:audience:${encodeURIComponent(audience)}`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

interface StoredEntry {
  payload: Record<string, unknown>;
  expiresAt: number;
}

/**
 * oidc-provider storage adapter. Clients are synthesized per agent id (that is
 * what makes "one client per agent" need no registration); everything else is
 * kept in memory, which is enough since JWT access tokens are not stored.
 */
function devAdapter(clientSecret: string) {
  const store = new Map<string, StoredEntry>();
  const get = (key: string) => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry?.payload;
  };
  return (model: string) => ({
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      if (store.size > 10_000) store.delete(store.keys().next().value as string);
      store.set(`${model}:${id}`, {
        payload,
        expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY,
      });
    },
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      if (model === 'Client') {
        if (!isValidAgentId(id)) return undefined;
        return {
          client_id: id,
          client_secret: clientSecret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          scope: DEV_SCOPES.join(' '),
        };
      }
      return get(`${model}:${id}`);
    },
    async findByUid(): Promise<undefined> {
      return undefined;
    },
    async findByUserCode(): Promise<undefined> {
      return undefined;
    },
    async consume(id: string): Promise<void> {
      const payload = get(`${model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id: string): Promise<void> {
      store.delete(`${model}:${id}`);
    },
    async revokeByGrantId(): Promise<void> {},
  });
}

/** Start the dev issuer; resolves once it accepts token requests. */
export async function startDevIssuer(opts: DevIssuerOptions): Promise<DevIssuer> {
  const logger = opts.logger ?? createLogger({ level: 'silent' });
  const host = opts.host ?? '127.0.0.1';
  const claimNames = opts.claims ?? { owner: 'owner', groups: 'groups', name: 'name' };
  const previous = opts.stateDir === undefined ? undefined : await readDevIssuerState(opts.stateDir);
  const clientSecret = previous?.clientSecret ?? newClientSecret();
  const jwks = await loadOrCreateSigningKeys(opts.stateDir);
  const resource = resourceIndicatorFor(opts.audience);
  const { audience } = opts;
  const oidc = await quietly(logger, loadProvider);

  let handler = (_req: IncomingMessage, res: ServerResponse): void => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  const previousPort = previous ? Number(URL.parse(previous.issuer)?.port || 0) : 0;
  if (opts.port === undefined && previousPort > 0) {
    try {
      await listen(server, previousPort, host);
    } catch {
      await listen(server, 0, host);
    }
  } else {
    await listen(server, opts.port ?? 0, host);
  }
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${urlHost(host)}:${port}`;

  const claimsFor = (ctx: KoaContextWithOIDC) => {
    try {
      return decodeDevTokenParams(ctx.oidc.body);
    } catch (err) {
      throw new oidc.errors.InvalidRequest(isAirlockError(err) ? err.message : 'invalid dev token parameters');
    }
  };

  try {
    const provider = await quietly(logger, async () => {
      return new oidc.Provider(issuer, {
        adapter: devAdapter(clientSecret),
        clients: [],
        jwks,
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
    provider.on('server_error', (_ctx: unknown, err: unknown) => logger.error({ err }, 'dev issuer internal error'));
    provider.on('grant.error', (_ctx: unknown, err: { message?: string; error_description?: string }) =>
      logger.info({ reason: err.error_description ?? err.message }, 'dev issuer refused a token request'),
    );
    // A listener on 'error' also stops Koa from printing errors to stderr.
    provider.on('error', (err: unknown) => logger.debug({ err }, 'dev issuer request error'));
    handler = provider.callback();
  } catch (err) {
    server.close();
    throw new AirlockError('INTERNAL', 'The dev OIDC issuer failed to start.', { cause: err });
  }

  if (opts.stateDir !== undefined) {
    await writeDevIssuerState(opts.stateDir, {
      issuer,
      audience,
      resource,
      clientSecret,
      pid: process.pid,
      startedAt: new Date().toISOString(),
    });
  }
  logger.info({ issuer, audience }, 'dev OIDC issuer listening');

  let closing: Promise<void> | undefined;
  return {
    issuer,
    audience,
    mintToken: (a) => fetchDevToken({ issuer, resource, clientSecret }, a),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
