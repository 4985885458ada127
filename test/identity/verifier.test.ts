/**
 * The token verifier against a real oidc-provider dev issuer on a random port:
 * every way a token can be wrong maps to its own AUTH_* code.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64url, type JWK } from 'jose';
import { startDevIssuer, type DevIssuer } from '../../src/identity/dev-issuer.ts';
import type { AirlockErrorCode } from '../../src/errors.ts';
import {
  claimsFor,
  closedPort,
  codeOf,
  errorOf,
  impostorJwk,
  issuerSigningJwk,
  signToken,
  verifierFor,
} from './helpers.ts';

let stateDir: string;
let issuer: DevIssuer;
let other: DevIssuer;
let signingJwk: JWK;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'airlock-identity-'));
  [issuer, other] = await Promise.all([
    startDevIssuer({ audience: 'airlock', port: 0, stateDir }),
    startDevIssuer({ audience: 'airlock', port: 0 }),
  ]);
  signingJwk = await issuerSigningJwk(stateDir);
});

afterAll(async () => {
  await Promise.all([issuer?.close(), other?.close()]);
  await rm(stateDir, { recursive: true, force: true });
});

describe('createTokenVerifier against the dev issuer', () => {
  it('turns a valid token into the agent identity', async () => {
    const token = await issuer.mintToken({
      agent: 'claude-code',
      owner: 'ana@example.com',
      groups: ['data-eng', 'analysts'],
      name: 'Claude Code',
    });
    const identity = await verifierFor(issuer.issuer).verify(`Bearer ${token}`);
    expect(identity).toMatchObject({
      id: 'claude-code',
      name: 'Claude Code',
      owner: 'ana@example.com',
      groups: ['data-eng', 'analysts'],
      scopes: ['airlock:query'],
      issuer: issuer.issuer,
    });
    expect(identity.tokenId).toMatch(/^[\w-]{16,}$/);
    const ttl = identity.expiresAt.getTime() - Date.now();
    expect(ttl).toBeGreaterThan(7.9 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(8 * 3600_000);
  });

  it('defaults the name to the id and accepts a lower-case scheme', async () => {
    const token = await issuer.mintToken({ agent: 'ci-bot', scopes: ['airlock:query', 'airlock:review'] });
    const identity = await verifierFor(issuer.issuer).verify(`bearer ${token}`);
    expect(identity).toMatchObject({ id: 'ci-bot', name: 'ci-bot', groups: [], scopes: ['airlock:query', 'airlock:review'] });
    expect(identity.owner).toBeUndefined();
  });

  it('reads groups given as a space or comma separated string, and honours configured claim names', async () => {
    const token = await signToken(signingJwk, claimsFor(issuer.issuer, { roles: 'a b,c', 'e-mail': 'x@example.com' }));
    const identity = await verifierFor(issuer.issuer, {
      claims: { owner: 'e-mail', groups: 'roles', name: 'name' },
    }).verify(`Bearer ${token}`);
    expect(identity.groups).toEqual(['a', 'b', 'c']);
    expect(identity.owner).toBe('x@example.com');
  });

  it('refuses an expired token, also when its identity is cached', async () => {
    let offsetMs = 0;
    const verifier = verifierFor(issuer.issuer, { now: () => new Date(Date.now() + offsetMs) });
    const token = await issuer.mintToken({ agent: 'short-lived', ttlSeconds: 60 });
    await expect(verifier.verify(`Bearer ${token}`)).resolves.toMatchObject({ id: 'short-lived' });
    offsetMs = 85_000; // past exp, but inside the 30 s skew
    await expect(verifier.verify(`Bearer ${token}`)).resolves.toMatchObject({ id: 'short-lived' });
    offsetMs = 91_000; // past exp + skew
    expect(await codeOf(verifier.verify(`Bearer ${token}`))).toBe('AUTH_EXPIRED');
  });

  it('refuses a token that is not valid yet (nbf), within skew it passes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const verifier = verifierFor(issuer.issuer);
    const future = await signToken(signingJwk, claimsFor(issuer.issuer, { nbf: now + 120 }));
    expect(await codeOf(verifier.verify(`Bearer ${future}`))).toBe('AUTH_NOT_YET_VALID');
    const nearly = await signToken(signingJwk, claimsFor(issuer.issuer, { nbf: now + 10 }));
    await expect(verifier.verify(`Bearer ${nearly}`)).resolves.toMatchObject({ id: 'agent-1' });
  });

  it('refuses a token for another audience', async () => {
    const token = await issuer.mintToken({ agent: 'claude-code' });
    const verifier = verifierFor(issuer.issuer, { audience: 'https://other.example.com' });
    expect(await codeOf(verifier.verify(`Bearer ${token}`))).toBe('AUTH_BAD_AUDIENCE');
  });

  it('refuses a token from another issuer as a bad issuer, not as a bad signature', async () => {
    const token = await other.mintToken({ agent: 'claude-code' });
    expect(await codeOf(verifierFor(issuer.issuer).verify(`Bearer ${token}`))).toBe('AUTH_BAD_ISSUER');
    // The same token is fine for a verifier that trusts the other issuer.
    await expect(verifierFor(other.issuer).verify(`Bearer ${token}`)).resolves.toMatchObject({ id: 'claude-code' });
  });

  it('refuses forged signatures: flipped bytes, edited claims, impostor key with the real kid, unknown kid', async () => {
    const verifier = verifierFor(issuer.issuer);
    const token = await issuer.mintToken({ agent: 'claude-code', owner: 'ana@example.com' });
    const [h, p, s] = token.split('.') as [string, string, string];

    const sig = base64url.decode(s);
    sig[10] = (sig[10] ?? 0) ^ 0xff;
    const flipped = `${h}.${p}.${base64url.encode(sig)}`;

    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as Record<string, unknown>;
    const edited = `${h}.${base64url.encode(JSON.stringify({ ...claims, owner: 'mallory@example.com' }))}.${s}`;

    const sameKid = await signToken(await impostorJwk(), claimsFor(issuer.issuer), { kid: signingJwk.kid });
    const unknownKid = await signToken(await impostorJwk(), claimsFor(issuer.issuer));

    for (const forged of [flipped, edited, sameKid, unknownKid]) {
      expect(await codeOf(verifier.verify(`Bearer ${forged}`))).toBe('AUTH_BAD_SIGNATURE');
    }
  });

  it('refuses alg none, HS256 (keyed with the public key) and algorithms outside the allow-list', async () => {
    const verifier = verifierFor(issuer.issuer, { algorithms: ['RS256'] });
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    const claims = claimsFor(issuer.issuer);
    const none = `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc(claims)}.`;
    const noneUpper = `${enc({ alg: 'NONE', typ: 'at+jwt' })}.${enc(claims)}.`;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = signingJwk;
    const hmacKey = { kty: 'oct', k: base64url.encode(JSON.stringify(publicJwk)), alg: 'HS256', kid: signingJwk.kid } as JWK;
    const hs256 = await signToken(hmacKey, claims, { alg: 'HS256' });
    const es256 = await signToken(await impostorJwk('ES256'), claims, { alg: 'ES256' });
    for (const token of [none, noneUpper, hs256, es256]) {
      expect(await codeOf(verifier.verify(`Bearer ${token}`))).toBe('AUTH_ALG_NOT_ALLOWED');
    }
  });

  it('refuses a missing or empty header', async () => {
    const verifier = verifierFor(issuer.issuer);
    expect(await codeOf(verifier.verify(undefined))).toBe('AUTH_MISSING');
    expect(await codeOf(verifier.verify(''))).toBe('AUTH_MISSING');
    expect(await codeOf(verifier.verify('   '))).toBe('AUTH_MISSING');
  });

  it('refuses malformed headers', async () => {
    const verifier = verifierFor(issuer.issuer);
    const token = await issuer.mintToken({ agent: 'claude-code' });
    const malformed = [
      token,
      `Basic ${token}`,
      'Bearer',
      'Bearer abc',
      'Bearer a.b',
      'Bearer a.b.c.d.e',
      `Bearer ${token} extra`,
      'Bearer !!!.???.***',
      'Bearer bm90LWpzb24.bm90LWpzb24.c2ln', // base64url of "not-json"
      `Bearer ${'a'.repeat(20_000)}.b.c`,
    ];
    for (const header of malformed) {
      expect(await codeOf(verifier.verify(header)), header.slice(0, 40)).toBe('AUTH_MALFORMED');
    }
  });

  it('refuses tokens without exp, or sender-constrained ones, as invalid', async () => {
    const verifier = verifierFor(issuer.issuer);
    const { exp: _exp, ...noExp } = claimsFor(issuer.issuer);
    expect(await codeOf(verifier.verify(`Bearer ${await signToken(signingJwk, noExp)}`))).toBe('AUTH_INVALID');
    const bound = await signToken(signingJwk, claimsFor(issuer.issuer, { cnf: { jkt: 'abc' } }));
    expect(await codeOf(verifier.verify(`Bearer ${bound}`))).toBe('AUTH_INVALID');
    const idToken = await signToken(signingJwk, claimsFor(issuer.issuer), { typ: 'logout+jwt' });
    expect(await codeOf(verifier.verify(`Bearer ${idToken}`))).toBe('AUTH_INVALID');
  });

  it('gives a distinct code per failure and never echoes the token', async () => {
    const verifier = verifierFor(issuer.issuer);
    const good = await issuer.mintToken({ agent: 'claude-code' });
    const [h, p, s] = good.split('.') as [string, string, string];
    const now = Math.floor(Date.now() / 1000);
    const cases: Record<string, string> = {
      expired: await signToken(signingJwk, claimsFor(issuer.issuer, { iat: now - 600, exp: now - 300 })),
      notYet: await signToken(signingJwk, claimsFor(issuer.issuer, { nbf: now + 600 })),
      audience: await signToken(signingJwk, claimsFor(issuer.issuer, { aud: 'someone-else' })),
      issuer: await other.mintToken({ agent: 'claude-code' }),
      signature: `${h}.${p}.${s.slice(0, -4)}AAAA`,
      alg: `${base64url.encode('{"alg":"none"}')}.${p}.`,
      malformed: 'x.y.z',
    };
    const codes = new Map<string, AirlockErrorCode>();
    for (const [name, token] of Object.entries(cases)) {
      const err = await errorOf(verifier.verify(`Bearer ${token}`));
      codes.set(name, err.code);
      expect(err.message).not.toContain(token);
      expect(err.message).not.toContain(p);
      expect(JSON.stringify(err.details)).not.toContain(p);
    }
    expect(Object.fromEntries(codes)).toEqual({
      expired: 'AUTH_EXPIRED',
      notYet: 'AUTH_NOT_YET_VALID',
      audience: 'AUTH_BAD_AUDIENCE',
      issuer: 'AUTH_BAD_ISSUER',
      signature: 'AUTH_BAD_SIGNATURE',
      alg: 'AUTH_ALG_NOT_ALLOWED',
      malformed: 'AUTH_MALFORMED',
    });
    expect(new Set(codes.values()).size).toBe(codes.size);
  });

  it('refuses none/HS algorithms in its own configuration', () => {
    expect(() => verifierFor(issuer.issuer, { algorithms: ['RS256', 'HS256'] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => verifierFor(issuer.issuer, { algorithms: ['none'] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => verifierFor(issuer.issuer, { algorithms: [] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('createTokenVerifier when the IdP is unreachable', () => {
  it('constructs without I/O and answers AUTH_ISSUER_UNAVAILABLE (503) per request', async () => {
    const port = await closedPort();
    const deadIssuer = `http://127.0.0.1:${port}`;
    const verifier = verifierFor(deadIssuer, { discoveryRetryMs: 0 });
    const token = await signToken(await impostorJwk(), claimsFor(deadIssuer));
    const err = await errorOf(verifier.verify(`Bearer ${token}`));
    expect(err.code).toBe('AUTH_ISSUER_UNAVAILABLE');
    expect(err.details).toEqual({ issuer: deadIssuer });
    // Retried on the next call, still failing the same way.
    expect(await codeOf(verifier.verify(`Bearer ${token}`))).toBe('AUTH_ISSUER_UNAVAILABLE');
    // Header problems are still reported precisely without any IdP.
    expect(await codeOf(verifier.verify(undefined))).toBe('AUTH_MISSING');
  });

  it('fails fast within the retry window instead of hammering the IdP', async () => {
    const deadIssuer = `http://127.0.0.1:${await closedPort()}`;
    let calls = 0;
    const verifier = verifierFor(deadIssuer, {
      discoveryRetryMs: 60_000,
      fetch: (input, init) => {
        calls += 1;
        return fetch(input, init);
      },
    });
    const token = await signToken(await impostorJwk(), claimsFor(deadIssuer));
    for (let i = 0; i < 5; i += 1) expect(await codeOf(verifier.verify(`Bearer ${token}`))).toBe('AUTH_ISSUER_UNAVAILABLE');
    expect(calls).toBe(1);
  });

  it('reports a JWKS outage as AUTH_ISSUER_UNAVAILABLE and recovers when the keys are reachable again', async () => {
    let jwksDown = true;
    const verifier = verifierFor(issuer.issuer, {
      fetch: (input, init) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (jwksDown && url.endsWith('/jwks')) return Promise.reject(new TypeError('fetch failed'));
        return fetch(input, init);
      },
    });
    const token = await issuer.mintToken({ agent: 'claude-code' });
    expect(await codeOf(verifier.verify(`Bearer ${token}`))).toBe('AUTH_ISSUER_UNAVAILABLE');
    jwksDown = false;
    await expect(verifier.verify(`Bearer ${token}`)).resolves.toMatchObject({ id: 'claude-code' });
  });

  it('stops waiting when the caller aborts', async () => {
    const verifier = verifierFor(issuer.issuer, {
      fetch: () => new Promise<Response>(() => undefined), // an IdP that never answers
    });
    const token = await issuer.mintToken({ agent: 'claude-code' });
    const started = Date.now();
    expect(await codeOf(verifier.verify(`Bearer ${token}`, { signal: AbortSignal.timeout(50) }))).toBe('AUTH_ISSUER_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('exported key material', () => {
  it('keeps private key parts out of the published JWKS', async () => {
    const response = await fetch(`${issuer.issuer}/jwks`);
    const jwks = (await response.json()) as { keys: JWK[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(signingJwk.kid);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });
});
