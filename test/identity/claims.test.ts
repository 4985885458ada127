/**
 * Pure parts of identity: header parsing, claim mapping, dev token parameters.
 */
import { describe, expect, it } from 'vitest';
import type { JWTPayload } from 'jose';
import { extractBearerToken } from '../../src/identity/bearer.ts';
import { identityFromClaims, listClaim, readClaim } from '../../src/identity/identity-from-claims.ts';
import { decodeDevTokenParams, encodeDevTokenParams, DEFAULT_DEV_TTL_SECONDS } from '../../src/identity/dev-token-params.ts';
import { resourceIndicatorFor } from '../../src/identity/dev-issuer.ts';
import { isAirlockError, type AirlockErrorCode } from '../../src/errors.ts';

function codeOfSync(fn: () => unknown): AirlockErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (isAirlockError(err)) return err.code;
    throw err;
  }
}

const NAMES = { owner: 'owner', groups: 'groups', name: 'name' };

describe('extractBearerToken', () => {
  it.each([
    [undefined, 'AUTH_MISSING'],
    ['', 'AUTH_MISSING'],
    [' \t', 'AUTH_MISSING'],
    ['Bearer', 'AUTH_MALFORMED'],
    ['Bearer ', 'AUTH_MALFORMED'],
    ['Token a.b.c', 'AUTH_MALFORMED'],
    ['Bearer a.b', 'AUTH_MALFORMED'],
    ['Bearer a.b.c.d.e', 'AUTH_MALFORMED'],
    ['Bearer a+b.c.d', 'AUTH_MALFORMED'],
    ['Bearer a.b.c d', 'AUTH_MALFORMED'],
    ['Bearer a.b.c', 'ok'],
    ['bearer   a.b.c  ', 'ok'],
    ['BEARER a.b.', 'ok'],
  ] as const)('%j → %s', (header, code) => {
    expect(codeOfSync(() => extractBearerToken(header))).toBe(code);
  });

  it('returns the token itself', () => {
    expect(extractBearerToken('Bearer  x-1.y_2.z ')).toBe('x-1.y_2.z');
  });
});

describe('listClaim', () => {
  it.each([
    [['a', 'b'], ['a', 'b']],
    ['a b,c', ['a', 'b', 'c']],
    [' a,, b  a ', ['a', 'b']],
    [['a', 1, null, ' b ', ''], ['a', 'b']],
    [undefined, []],
    [42, []],
    [{ a: 1 }, []],
  ])('%j → %j', (value, expected) => {
    expect(listClaim(value)).toEqual(expected);
  });
});

describe('readClaim', () => {
  const payload = { groups: ['top'], 'realm_access.roles': ['literal'], realm_access: { roles: ['nested'] }, a: { b: { c: 'deep' } } };
  it.each([
    ['groups', ['top']],
    ['realm_access.roles', ['literal']],
    ['a.b.c', 'deep'],
    ['a.x.c', undefined],
    ['missing', undefined],
  ])('%s → %j', (name, expected) => {
    expect(readClaim(payload, name)).toEqual(expected);
  });
  it('walks nested objects when no literal key exists', () => {
    expect(readClaim({ realm_access: { roles: ['r'] } }, 'realm_access.roles')).toEqual(['r']);
  });
});

describe('identityFromClaims', () => {
  const base = { iss: 'https://idp.example.com', exp: 2_000_000_000 };

  it('prefers sub, falls back to client_id, and fills defaults', () => {
    expect(identityFromClaims({ ...base, sub: 's', client_id: 'c' }, NAMES).id).toBe('s');
    const identity = identityFromClaims({ ...base, client_id: 'c', scp: ['x', 'y'] }, NAMES);
    expect(identity).toEqual({
      id: 'c',
      name: 'c',
      groups: [],
      scopes: ['x', 'y'],
      issuer: 'https://idp.example.com',
      expiresAt: new Date(2_000_000_000_000),
    });
    expect(Object.isFrozen(identity)).toBe(true);
  });

  it('maps configured claims', () => {
    const identity = identityFromClaims(
      { ...base, sub: 's', jti: 'j', scope: 'a b', mail: 'o@example.com', display: 'Bot', realm_access: { roles: ['r1', 'r2'] } },
      { owner: 'mail', groups: 'realm_access.roles', name: 'display' },
    );
    expect(identity).toMatchObject({ owner: 'o@example.com', name: 'Bot', groups: ['r1', 'r2'], scopes: ['a', 'b'], tokenId: 'j' });
  });

  it.each([{}, { sub: '' }, { sub: 42 }, { sub: 'x'.repeat(300) }])('refuses a token without a usable subject: %j', (claims) => {
    // Cast: the point is a token whose claims do not match JWTPayload's types.
    expect(codeOfSync(() => identityFromClaims({ ...base, ...claims } as JWTPayload, NAMES))).toBe('AUTH_INVALID');
  });

  it('ignores owner and name claims that are not strings', () => {
    const identity = identityFromClaims({ ...base, sub: 's', owner: ['a@example.com'], name: 7 }, NAMES);
    expect(identity.owner).toBeUndefined();
    expect(identity.name).toBe('s');
  });
});

describe('dev token parameters', () => {
  it('round-trips through the form encoding', () => {
    const params = encodeDevTokenParams({ agent: 'a', owner: 'o@example.com', groups: ['g1', 'g2'], name: 'A', ttlSeconds: 60 });
    expect(params).toEqual({ scope: 'airlock:query', owner: 'o@example.com', groups: 'g1,g2', name: 'A', ttl: '60' });
    expect(decodeDevTokenParams(params)).toEqual({ owner: 'o@example.com', groups: ['g1', 'g2'], name: 'A', ttlSeconds: 60 });
    expect(decodeDevTokenParams(undefined)).toEqual({ ttlSeconds: DEFAULT_DEV_TTL_SECONDS });
  });

  it.each([
    [{ owner: 'nope' }],
    [{ owner: ['a@example.com', 'b@example.com'] }],
    [{ groups: 'a b' }],
    [{ ttl: '0' }],
    [{ ttl: '-5' }],
    [{ ttl: '1e3' }],
    [{ ttl: String(60 * 24 * 3600) }],
    [{ name: ' ' }],
  ])('refuses %j', (body) => {
    expect(codeOfSync(() => decodeDevTokenParams(body))).toBe('BAD_REQUEST');
  });

  it.each(['', 'with space', '-leading', 'a/b', 'x'.repeat(129)])('refuses agent id %j', (agent) => {
    expect(codeOfSync(() => encodeDevTokenParams({ agent }))).toBe('BAD_REQUEST');
  });
});

describe('resourceIndicatorFor', () => {
  it.each([
    ['https://airlock.example.com', 'https://airlock.example.com'],
    ['api://airlock', 'api://airlock'],
    ['airlock', 'urn:airlock:audience:airlock'],
    ['my audience', 'urn:airlock:audience:my%20audience'],
  ])('%s → %s', (audience, resource) => {
    expect(resourceIndicatorFor(audience)).toBe(resource);
  });
});
