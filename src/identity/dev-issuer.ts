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
import { AirlockError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import { quietly } from './dev-console.ts';
import { createDevProvider, loadProvider } from './dev-provider.ts';
import { fetchDevToken } from './dev-token.ts';
import type { DevTokenRequest } from './dev-token-params.ts';
import { loadOrCreateSigningKeys, newClientSecret, readDevIssuerState, writeDevIssuerState } from './dev-state.ts';

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

/** Listen on the port of the previous run (so its tokens stay valid) when free, else on `port` or a random one. */
async function listenOnStablePort(server: Server, host: string, port: number | undefined, previousIssuer: string | undefined): Promise<void> {
  const previousPort = previousIssuer !== undefined ? Number(URL.parse(previousIssuer)?.port || 0) : 0;
  if (port === undefined && previousPort > 0) {
    try {
      await listen(server, previousPort, host);
    } catch {
      await listen(server, 0, host);
    }
  } else {
    await listen(server, port ?? 0, host);
  }
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
  await listenOnStablePort(server, host, opts.port, previous?.issuer);
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${urlHost(host)}:${port}`;

  try {
    const provider = await createDevProvider(oidc, { issuer, audience, resource, clientSecret, jwks, claimNames, logger });
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
