/**
 * On-disk state of the dev issuer, shared between `airlock dev` and `airlock token`.
 *
 * Two files under the state directory (e.g. `.airlock/`), both mode 0600:
 * `dev-issuer.json` (where the issuer runs and the dev client secret) and
 * `dev-issuer-keys.json` (the private signing key, so tokens survive restarts).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { AirlockError } from '../errors.ts';

/** File with the running issuer's URL, audience and client secret. */
export const DEV_ISSUER_STATE_FILE = 'dev-issuer.json';
/** File with the issuer's private signing JWKS. */
export const DEV_ISSUER_KEYS_FILE = 'dev-issuer-keys.json';
/** The dev issuer signs with RS256: the fastest of the default algorithms to verify. */
export const DEV_SIGNING_ALG = 'RS256';

/** What `dev-issuer.json` holds. */
export interface DevIssuerState {
  issuer: string;
  audience: string;
  /** RFC 8707 resource indicator the token requests name (the audience, or a urn for non-URI audiences). */
  resource: string;
  /** Shared secret of the per-agent dev clients (client_id = agent name). */
  clientSecret: string;
  pid: number;
  startedAt: string;
}

async function writePrivate(path: string, data: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function isState(value: unknown): value is DevIssuerState {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.issuer === 'string' &&
    typeof v.audience === 'string' &&
    typeof v.resource === 'string' &&
    typeof v.clientSecret === 'string' &&
    v.clientSecret.length >= 32
  );
}

/** Read `dev-issuer.json`; undefined when absent. Throws CONFIG_INVALID when unreadable. */
export async function readDevIssuerState(stateDir: string): Promise<DevIssuerState | undefined> {
  const path = join(stateDir, DEV_ISSUER_STATE_FILE);
  let value: unknown;
  try {
    value = await readJson(path);
  } catch (err) {
    throw new AirlockError('CONFIG_INVALID', `Cannot read ${path}; delete it and restart \`airlock dev\`.`, { cause: err });
  }
  if (value === undefined) return undefined;
  if (!isState(value)) {
    throw new AirlockError('CONFIG_INVALID', `${path} is not a dev issuer state file; delete it and restart \`airlock dev\`.`);
  }
  return value;
}

/** Write `dev-issuer.json` (mode 0600, atomically). */
export async function writeDevIssuerState(stateDir: string, state: DevIssuerState): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writePrivate(join(stateDir, DEV_ISSUER_STATE_FILE), state);
}

/** A fresh dev client secret. */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Generate a private signing JWK with `kid`, `alg` and `use` set. */
export async function generateSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(DEV_SIGNING_ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: DEV_SIGNING_ALG, use: 'sig' };
}

/**
 * The issuer's private signing JWKS: loaded from `dev-issuer-keys.json` when
 * present, else generated (and saved when a state dir is given).
 */
export async function loadOrCreateSigningKeys(stateDir: string | undefined): Promise<{ keys: JWK[] }> {
  if (stateDir === undefined) return { keys: [await generateSigningJwk()] };
  const path = join(stateDir, DEV_ISSUER_KEYS_FILE);
  const existing = await readJson(path).catch((err: unknown) => {
    throw new AirlockError('CONFIG_INVALID', `Cannot read ${path}; delete it to get new dev signing keys.`, { cause: err });
  });
  if (existing !== undefined) {
    const keys = (existing as { keys?: unknown }).keys;
    const valid =
      Array.isArray(keys) &&
      keys.length > 0 &&
      keys.every((k: unknown) => k !== null && typeof k === 'object' && typeof (k as JWK).kid === 'string' && typeof (k as JWK).d === 'string');
    if (!valid) {
      throw new AirlockError('CONFIG_INVALID', `${path} holds no private signing keys; delete it to get new dev signing keys.`);
    }
    return { keys: keys as JWK[] };
  }
  const jwks = { keys: [await generateSigningJwk()] };
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writePrivate(path, jwks);
  return jwks;
}
