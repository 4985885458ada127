/**
 * /readyz checks what each role depends on, with real parts: Redis always; a
 * worker its Snowflake login (the real snowflake-sdk against the emulator, one
 * worker with the key the emulator knows and one with a stranger's key); the
 * api role its OIDC issuer (the real dev issuer, and a port nobody listens on).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type AirlockApp } from '../../src/app/build.ts';
import { loadConfig } from '../../src/config/env.ts';
import { startEmulator, type Emulator } from '../../src/emulator/server.ts';
import { startDevIssuer, type DevIssuer } from '../../src/identity/dev-issuer.ts';
import { createLogger } from '../../src/log.ts';
import { apiClient } from '../support/api-client.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';

const prefix = uniquePrefix('readyz');
const ACCOUNT = 'EMU';
const USER = 'AIRLOCK_SVC';
const logger = createLogger({ level: 'silent' });

function keyPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** A loopback port nobody listens on (taken, then released). */
async function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let dir: string;
let emu: Emulator;
let issuer: DevIssuer;
const apps: AirlockApp[] = [];
const known = keyPair();
const stranger = keyPair();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-readyz-'));
  await writeFile(join(dir, 'known.p8'), known.privateKeyPem, { mode: 0o600 });
  await writeFile(join(dir, 'stranger.p8'), stranger.privateKeyPem, { mode: 0o600 });
  emu = await startEmulator({ port: 0, account: ACCOUNT, user: USER, publicKeyPem: known.publicKeyPem, seed: 'none' });
  issuer = await startDevIssuer({ audience: 'https://airlock.test/api', port: 0 });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  await emu?.close();
  await issuer?.close();
  await cleanupPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
});

/** Start a process with `roles` on its own HTTP port; returns a client for it. */
async function serve(roles: Array<'api' | 'worker'>, env: Record<string, string>) {
  const config = loadConfig({ REDIS_URL, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_PORT: '0', AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS: '0', ...env });
  const app = await buildApp(config, { roles, logger, allowInsecureIssuer: true });
  apps.push(app);
  return apiClient((await app.listen())!);
}

const snowflake = (key: string) => ({ SNOWFLAKE_ACCOUNT: ACCOUNT, SNOWFLAKE_USER: USER, SNOWFLAKE_PRIVATE_KEY_PATH: join(dir, key), SNOWFLAKE_ACCESS_URL: emu.url });

describe('/readyz per role', () => {
  it('a worker that logs in to Snowflake is ready, naming each check', async () => {
    const worker = await serve(['worker'], snowflake('known.p8'));
    const res = await worker('/readyz');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ready', checks: { redis: true, warehouse: true } });
  });

  it('a worker whose key Snowflake refuses is not ready, and says why', async () => {
    const worker = await serve(['worker'], snowflake('stranger.p8'));
    const res = await worker('/readyz');
    expect(res.status).toBe(503);
    expect(res.json.status).toBe('not_ready');
    expect(res.json.checks).toEqual({ redis: true, warehouse: false });
    expect(res.json.problems.warehouse).toMatch(/cannot run statements on Snowflake \(WAREHOUSE_AUTH\)/);
  });

  it('the api role checks its OIDC issuer', async () => {
    const good = await serve(['api'], { OIDC_ISSUER: issuer.issuer, OIDC_AUDIENCE: 'https://airlock.test/api' });
    const ok = await good('/readyz');
    expect(ok.status).toBe(200);
    expect(ok.json.checks).toEqual({ redis: true, issuer: true });

    const gone = `http://127.0.0.1:${await deadPort()}`;
    const bad = await serve(['api'], { OIDC_ISSUER: gone, OIDC_AUDIENCE: 'https://airlock.test/api' });
    const res = await bad('/readyz');
    expect(res.status).toBe(503);
    expect(res.json.checks).toEqual({ redis: true, issuer: false });
    expect(res.json.problems.issuer).toContain(`The OIDC issuer does not answer at ${gone}/.well-known/openid-configuration`);
  });
});
