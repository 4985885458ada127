/**
 * Test helpers for the identity suites: verifier defaults, hand-made tokens
 * (signed with the dev issuer's own persisted key or with impostor keys), and a
 * port that nothing listens on.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { DEV_ISSUER_KEYS_FILE } from '../../src/identity/dev-state.ts';
import { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from '../../src/identity/verifier.ts';
import { isAirlockError, type AirlockErrorCode } from '../../src/errors.ts';

export const CLAIMS = { owner: 'owner', groups: 'groups', name: 'name' };

/** A verifier for `issuer` with the production defaults of AIRLOCK_OIDC_*. */
export function verifierFor(issuer: string, overrides: Partial<TokenVerifierOptions> = {}): TokenVerifier {
  return createTokenVerifier({
    issuer,
    audience: 'airlock',
    algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'],
    clockSkewSeconds: 30,
    claims: CLAIMS,
    allowInsecureHttp: true,
    ...overrides,
  });
}

/** The dev issuer's private signing JWK, as persisted in its state dir. */
export async function issuerSigningJwk(stateDir: string): Promise<JWK> {
  const jwks = JSON.parse(await readFile(join(stateDir, DEV_ISSUER_KEYS_FILE), 'utf8')) as { keys: JWK[] };
  const [key] = jwks.keys;
  if (!key) throw new Error('no key in the dev issuer keys file');
  return key;
}

/** Sign `payload` as an RFC 9068 access token with `jwk` (RS256 unless told). */
export async function signToken(
  jwk: JWK,
  payload: JWTPayload,
  header: { alg?: string; kid?: string; typ?: string } = {},
): Promise<string> {
  const alg = header.alg ?? jwk.alg ?? 'RS256';
  const key = await importJWK(jwk, alg);
  return new SignJWT(payload).setProtectedHeader({ alg, typ: header.typ ?? 'at+jwt', kid: header.kid ?? jwk.kid }).sign(key);
}

/** A fresh private key that the issuer does not publish. */
export async function impostorJwk(alg = 'RS256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), alg, kid: `impostor-${alg}` };
}

/** Standard claims of a valid token from `issuer`, overridable. */
export function claimsFor(issuer: string, extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer, aud: 'airlock', sub: 'agent-1', client_id: 'agent-1', iat: now, exp: now + 600, ...extra };
}

/** The code an async call failed with; fails the test when it did not fail with an AirlockError. */
export async function codeOf(promise: Promise<unknown>): Promise<AirlockErrorCode> {
  try {
    await promise;
  } catch (err) {
    if (isAirlockError(err)) return err.code;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** The error a call failed with (AirlockError only). */
export async function errorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    if (isAirlockError(err)) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** A loopback port that was free a moment ago and has no listener now. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
