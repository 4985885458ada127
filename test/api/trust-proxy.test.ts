/**
 * Which client address the API believes (AIRLOCK_TRUST_PROXY): it is recorded
 * in the session log, so a forged X-Forwarded-For must not pass by default.
 * Runs the real fastify app through inject; a route mounted for the test echoes request.ip.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.ts';
import { bareApi } from '../support/bare-api.ts';

async function ipSeen(trustProxy: boolean | string | undefined, remoteAddress: string, forwardedFor?: string): Promise<string> {
  const app = bareApi({
    ...(trustProxy !== undefined ? { trustProxy } : {}),
    mounts: [
      (server) => {
        server.get('/test-ip', async (request) => ({ ip: request.ip }));
      },
    ],
  });
  try {
    const res = await app.inject({ method: 'GET', url: '/test-ip', remoteAddress, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} });
    return (res.json() as { ip: string }).ip;
  } finally {
    await app.close();
  }
}

describe('AIRLOCK_TRUST_PROXY', () => {
  it('by default the socket peer is the client; a forged X-Forwarded-For is ignored', async () => {
    const config = loadConfig({});
    expect(config.AIRLOCK_TRUST_PROXY).toBe(false);
    expect(await ipSeen(config.AIRLOCK_TRUST_PROXY, '198.51.100.7', '203.0.113.9')).toBe('198.51.100.7');
  });

  it('names the proxies to believe: their X-Forwarded-For counts, anyone else\'s does not', async () => {
    const trusted = loadConfig({ AIRLOCK_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).AIRLOCK_TRUST_PROXY;
    expect(await ipSeen(trusted, '10.1.2.3', '203.0.113.9')).toBe('203.0.113.9');
    expect(await ipSeen(trusted, '198.51.100.7', '203.0.113.9')).toBe('198.51.100.7');
    expect(await ipSeen(loadConfig({ AIRLOCK_TRUST_PROXY: 'true' }).AIRLOCK_TRUST_PROXY, '198.51.100.7', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('refuses a value that is not a boolean or addresses, naming the variable', () => {
    expect(() => loadConfig({ AIRLOCK_TRUST_PROXY: 'yes please' })).toThrow(/AIRLOCK_TRUST_PROXY/);
  });
});
