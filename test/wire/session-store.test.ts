/**
 * Wire sessions on real Redis with a test clock: expiry codes the driver acts
 * on (390112 renew, 390114 log in again), renewal, the OIDC token's expiry as
 * the cap, and what is stored (hashes, never tokens).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireKeys } from '../../src/snowflake-wire/gateway/keys.ts';
import { WireSessionStore } from '../../src/snowflake-wire/gateway/sessions.ts';
import { cleanupPrefix, dumpPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';

const prefix = uniquePrefix('wire-store');
let redis: Redis;
let now = Date.parse('2026-12-06T10:00:00Z');
const requester = { id: 'agent-a', name: 'Agent A', groups: ['analysts'] };
const context = { database: '', schema: '', warehouse: '', role: '' };

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  await redis.ping();
});
afterAll(async () => {
  await cleanupPrefix(prefix);
  redis?.disconnect();
});

function store(): WireSessionStore {
  return new WireSessionStore(redis, wireKeys(prefix), () => now, { sessionSeconds: 60, masterSeconds: 600 });
}

describe('wire sessions', () => {
  it('expires the session token (390112), renews it with the master token, then the master expires (390114)', async () => {
    const sessions = store();
    const t = await sessions.create({ requester, context, parameters: {}, notAfterMs: now + 3_600_000 });
    expect({ st: t.sessionValiditySeconds, mt: t.masterValiditySeconds }).toEqual({ st: 60, mt: 600 });
    expect((await sessions.authenticate(t.sessionToken)).requester).toEqual(requester);
    now += 61_000;
    await expect(sessions.authenticate(t.sessionToken)).rejects.toMatchObject({ code: '390112' });
    const renewed = await sessions.renew(t.masterToken, t.sessionToken);
    expect((await sessions.authenticate(renewed.sessionToken)).id).toBe(t.sessionId);
    await expect(sessions.authenticate(t.sessionToken)).rejects.toMatchObject({ code: '390104' });
    // Renewing with a stale old token is refused: it no longer belongs to the master token.
    await expect(sessions.renew(t.masterToken, t.sessionToken)).rejects.toMatchObject({ code: '390104' });
    now += 600_000;
    await expect(sessions.renew(t.masterToken, renewed.sessionToken)).rejects.toMatchObject({ code: '390114' });
    expect(await sessions.byId(t.sessionId)).toBeUndefined();
  });

  it('never outlives the OIDC token it was opened with', async () => {
    const t = await store().create({ requester, context, parameters: {}, notAfterMs: now + 30_000 });
    expect({ st: t.sessionValiditySeconds, mt: t.masterValiditySeconds }).toEqual({ st: 30, mt: 30 });
    expect(await redis.pttl(wireKeys(prefix).session(t.sessionId))).toBeLessThanOrEqual(30_000);
  });

  it('stores hashes of the tokens, never the tokens; a token of another kind or session is refused', async () => {
    const sessions = store();
    const t = await sessions.create({ requester, context, parameters: {}, notAfterMs: now + 3_600_000 });
    const dump = await dumpPrefix(prefix);
    expect(dump).not.toContain(t.sessionToken.split('.')[2]);
    expect(dump).not.toContain(t.masterToken.split('.')[2]);
    await expect(sessions.authenticate(t.masterToken)).rejects.toMatchObject({ code: '390104' });
    await expect(sessions.authenticate(`ST.${t.sessionId}.${'x'.repeat(43)}`)).rejects.toMatchObject({ code: '390104' });
    await expect(sessions.authenticate(undefined)).rejects.toMatchObject({ code: '390104' });
    await sessions.remove(await sessions.authenticate(t.sessionToken));
    await expect(sessions.authenticate(t.sessionToken)).rejects.toMatchObject({ code: '390104' });
  });
});
