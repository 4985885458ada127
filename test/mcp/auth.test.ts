/**
 * /mcp as an OAuth resource server, and `airlock mcp`'s tokens: the 401
 * challenges with the RFC 9728 metadata URL, the metadata documents, the
 * official clients refused without a valid token, and OAuth client
 * credentials against the real dev issuer (oidc-provider), renewed before
 * expiry. `airlock dev` on real Redis; no mocks.
 */
import { request as httpRequest } from 'node:http';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIssuer, type DevIssuer } from '../../src/identity/dev-issuer.ts';
import { readDevIssuerState } from '../../src/identity/dev-state.ts';
import { clientCredentialsTokens } from '../../src/mcp/token-source.ts';
import { connectMcp, textOf, type Generation } from '../support/mcp-clients.ts';
import { readsAllowedPolicy } from '../support/policies.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { uniquePrefix } from '../support/redis.ts';

let suite: DevSuite;
let stranger: DevIssuer;
let url: string;
let devSecret: string;

beforeAll(async () => {
  suite = await startDevSuite({ prefix: uniquePrefix('mcp-auth'), policy: await readsAllowedPolicy() });
  url = suite.env.apiUrl;
  devSecret = (await readDevIssuerState(suite.stateDir))!.clientSecret;
  // Another issuer with its own keys: its tokens look right but are not Airlock's.
  stranger = await startDevIssuer({ audience: suite.env.audience, port: 0 });
}, 120_000);

afterAll(async () => {
  await stranger?.close();
  await suite?.close();
});

const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const post = (headers: Record<string, string> = {}) =>
  fetch(`${url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: initialize });

describe('/mcp as a protected resource', () => {
  it('answers a missing token with 401 and the metadata URL, without an error code', async () => {
    const res = await post();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${url}/.well-known/oauth-protected-resource/mcp"`);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('AUTH_MISSING');
  });

  it('answers a malformed or foreign token with 401 invalid_token and the metadata URL', async () => {
    for (const token of ['not-a-jwt', await stranger.mintToken({ agent: 'mcp-agent' })]) {
      const res = await post({ authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate')!;
      expect(challenge).toContain(`resource_metadata="${url}/.well-known/oauth-protected-resource/mcp"`);
      expect(challenge).toContain('error="invalid_token"');
      expect(challenge).toMatch(/error_description="[^"]+"/);
    }
  });

  it('publishes RFC 9728 metadata at the root and the path-suffixed form', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(200);
      const metadata = (await res.json()) as Record<string, unknown>;
      expect(metadata).toMatchObject({ resource: `${url}/mcp`, authorization_servers: [suite.env.issuer], bearer_methods_supported: ['header'] });
    }
  });

  it('serves an initialize with a valid token', async () => {
    const res = await post({ authorization: `Bearer ${await suite.env.mintToken({ agent: 'mcp-agent' })}` });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"protocolVersion":"2025-11-25"');
  });

  it('refuses a foreign Host or Origin with 403 before anything else (DNS rebinding), and accepts loopback ones', async () => {
    const token = await suite.env.mintToken({ agent: 'mcp-agent' });
    const foreignOrigin = await post({ authorization: `Bearer ${token}`, origin: 'http://evil.example.com' });
    expect(foreignOrigin.status).toBe(403);
    // fetch will not send a Host of our choosing; node:http will.
    const foreignHost = await new Promise<number>((resolve, reject) => {
      const target = new URL(url);
      const req = httpRequest(
        { host: target.hostname, port: target.port, path: '/mcp', method: 'POST', headers: { host: 'evil.example.com', authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(initialize);
    });
    expect(foreignHost).toBe(403);
    const local = await post({ authorization: `Bearer ${token}`, origin: 'http://localhost:6274' });
    expect(local.status).toBe(200);
  });

  it.each(['v1', 'v2'] as Generation[])('refuses the %s client over HTTP with a bad token', async (generation) => {
    const err = (await connectMcp(generation, 'http', url, 'bad.token.here').catch((e: unknown) => e)) as { code?: unknown; status?: unknown; message: string };
    expect(err).toBeInstanceOf(Error);
    // v1 raises StreamableHTTPError with code 401; v2 an UnauthorizedError or an SdkHttpError naming the status.
    expect(`${String(err.code)} ${String(err.status)} ${err.message}`).toMatch(/401|nauthorized/);
  });

  it.each(['http', 'stdio'] as const)('serves a v2 client left at its default (legacy) negotiation over %s with 2025-11-25', async (transport) => {
    const session = await connectMcp('v2', transport, url, await suite.env.mintToken({ agent: 'mcp-agent' }), {}, 'legacy');
    try {
      expect(session.protocolVersion).toBe('2025-11-25');
      const dry = await session.call('check_policy', { sql: 'select 1' });
      expect(dry.structuredContent).toMatchObject({ action: 'allow' });
    } finally {
      await session.close();
    }
  });

  it('answers a stdio tool call made with a bad AIRLOCK_TOKEN with the remote auth error', async () => {
    const session = await connectMcp('v1', 'stdio', url, 'bad.token.here');
    try {
      const result = await session.call('check_policy', { sql: 'select 1' });
      expect(result.isError).toBe(true);
      expect(result.structuredContent!.error.code).toMatch(/^AUTH_/);
    } finally {
      await session.close();
    }
  });
});

describe('airlock mcp with OAuth client credentials', () => {
  it('gets a token from the issuer named in the metadata and acts as that client', async () => {
    const session = await connectMcp('v2', 'stdio', url, '', { AIRLOCK_CLIENT_ID: 'cc-agent', AIRLOCK_CLIENT_SECRET: devSecret });
    try {
      const ran = await session.call('run_query', { sql: 'select order_id from analytics.public.orders order by order_id limit 2' });
      expect(ran.structuredContent!.status).toBe('succeeded');
      const mine = await session.call('my_queries', {});
      expect(mine.structuredContent!.queries.map((q: { id: string; agent: string }) => [q.id, q.agent])).toContainEqual([ran.structuredContent!.id, 'cc-agent']);
    } finally {
      await session.close();
    }
  });

  it('renews the token before it expires, and caches it until then', async () => {
    let now = Date.now();
    const tokens = clientCredentialsTokens({ airlockUrl: url, clientId: 'cc-agent', clientSecret: devSecret, now: () => now });
    const first = await tokens.token();
    expect(decodeJwt(first).sub).toBe('cc-agent');
    expect(await tokens.token()).toBe(first);
    const lifetime = (decodeJwt(first).exp! - decodeJwt(first).iat!) * 1000;
    now += lifetime - 30_000; // inside the last minute
    const renewed = await tokens.token();
    expect(renewed).not.toBe(first);
    expect(decodeJwt(renewed).sub).toBe('cc-agent');
  });

  it('says so when the issuer refuses the secret', async () => {
    const tokens = clientCredentialsTokens({ airlockUrl: url, clientId: 'cc-agent', clientSecret: 'wrong-secret' });
    await expect(tokens.token()).rejects.toMatchObject({ code: 'AUTH_INVALID' });
    const session = await connectMcp('v1', 'stdio', url, '', { AIRLOCK_CLIENT_ID: 'cc-agent', AIRLOCK_CLIENT_SECRET: 'wrong-secret' });
    try {
      const result = await session.call('check_policy', { sql: 'select 1' });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('AUTH_INVALID');
    } finally {
      await session.close();
    }
  });
});
