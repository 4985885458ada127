/**
 * The verified-token cache on its own: a hit never outlives `exp` (with the
 * skew), `nbf`, or the TTL, and the bound holds (oldest entry out first).
 */
import { describe, expect, it } from 'vitest';
import { IdentityCache } from '../../src/identity/identity-cache.ts';
import type { AgentIdentity } from '../../src/identity/identity-from-claims.ts';

const identity = (id: string): AgentIdentity => ({ id, name: id, groups: [], scopes: [], issuer: 'https://idp.example.com', expiresAt: new Date(0) });
const T0 = 1_800_000_000;

describe('IdentityCache', () => {
  it('serves a hit for the TTL, never past exp + skew, never before nbf - skew', () => {
    const cache = new IdentityCache(30, 10, 5);
    cache.remember('a', { exp: T0 + 100 }, identity('a'), T0);
    expect(cache.get('a', T0 + 29)?.id).toBe('a');
    expect(cache.get('a', T0 + 30)).toBeUndefined(); // the TTL is over: verify again
    cache.remember('b', { exp: T0 + 10 }, identity('b'), T0);
    expect(cache.get('b', T0 + 14)?.id).toBe('b'); // exp passed, inside the skew
    expect(cache.get('b', T0 + 15)).toBeUndefined();
    expect(cache.get('b', T0 + 1)).toBeUndefined(); // a refused hit is dropped, not kept for later
    cache.remember('c', { exp: T0 + 100, nbf: T0 + 20 }, identity('c'), T0);
    expect(cache.get('c', T0 + 14)).toBeUndefined();
  });

  it('keeps nothing without exp, or when the TTL is 0', () => {
    const cache = new IdentityCache(30, 10, 0);
    cache.remember('a', {}, identity('a'), T0);
    expect(cache.get('a', T0)).toBeUndefined();
    const off = new IdentityCache(0, 10, 0);
    off.remember('a', { exp: T0 + 100 }, identity('a'), T0);
    expect(off.get('a', T0)).toBeUndefined();
  });

  it('holds at most maxEntries tokens, the oldest going first', () => {
    const cache = new IdentityCache(30, 3, 0);
    for (const t of ['a', 'b', 'c', 'd']) cache.remember(t, { exp: T0 + 100 }, identity(t), T0);
    expect(cache.get('a', T0)).toBeUndefined();
    expect(['b', 'c', 'd'].map((t) => cache.get(t, T0)?.id)).toEqual(['b', 'c', 'd']);
  });
});
