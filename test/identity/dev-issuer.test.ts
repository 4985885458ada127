/**
 * The dev issuer: tokens through the real token endpoint, state shared with
 * another process through the state dir, restarts that keep keys and port,
 * and no console noise from oidc-provider.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { startDevIssuer, type DevIssuer } from '../../src/identity/dev-issuer.ts';
import { DEV_ISSUER_KEYS_FILE, DEV_ISSUER_STATE_FILE, type DevIssuerState } from '../../src/identity/dev-state.ts';
import { requestDevToken } from '../../src/identity/dev-token.ts';
import { closedPort, codeOf, verifierFor } from './helpers.ts';

const run = promisify(execFile);
const consoleSpies: MockInstance[] = [];
const dirs: string[] = [];
const running: DevIssuer[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-dev-issuer-'));
  dirs.push(dir);
  return dir;
}

async function start(opts: Parameters<typeof startDevIssuer>[0]): Promise<DevIssuer> {
  const issuer = await startDevIssuer(opts);
  running.push(issuer);
  return issuer;
}

beforeAll(() => {
  // Installed before the first startDevIssuer, i.e. before oidc-provider is imported.
  for (const method of ['log', 'info', 'warn', 'error'] as const) consoleSpies.push(vi.spyOn(console, method));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.close()));
});

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  for (const spy of consoleSpies) spy.mockRestore();
});

describe('startDevIssuer', () => {
  it('writes its state and keys with mode 0600 and the exact issuer URL', async () => {
    const stateDir = await tempDir();
    const issuer = await start({ audience: 'airlock', port: 0, stateDir });
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const state = JSON.parse(await readFile(join(stateDir, DEV_ISSUER_STATE_FILE), 'utf8')) as DevIssuerState;
    expect(state).toMatchObject({ issuer: issuer.issuer, audience: 'airlock', pid: process.pid });
    expect(state.clientSecret.length).toBeGreaterThanOrEqual(32);
    for (const file of [DEV_ISSUER_STATE_FILE, DEV_ISSUER_KEYS_FILE]) {
      expect((await stat(join(stateDir, file))).mode & 0o777).toBe(0o600);
    }
    const discovery = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.issuer).toBe(issuer.issuer);
    expect(discovery.grant_types_supported).toContain('client_credentials');
  });

  it('issues RFC 9068 JWT access tokens through its token endpoint', async () => {
    const issuer = await start({ audience: 'https://airlock.example.com', port: 0 });
    const token = await issuer.mintToken({ agent: 'claude-code', owner: 'ana@example.com', groups: ['g1'] });
    const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(payload).toMatchObject({
      iss: issuer.issuer,
      aud: 'https://airlock.example.com',
      sub: 'claude-code',
      client_id: 'claude-code',
      owner: 'ana@example.com',
      groups: ['g1'],
      scope: 'airlock:query',
    });
  });

  it('emits the configured claim names', async () => {
    const issuer = await start({ audience: 'airlock', port: 0, claims: { owner: 'email', groups: 'roles', name: 'display_name' } });
    const token = await issuer.mintToken({ agent: 'a1', owner: 'o@example.com', groups: ['r1'], name: 'Agent One' });
    const identity = await verifierFor(issuer.issuer, { claims: { owner: 'email', groups: 'roles', name: 'display_name' } }).verify(
      `Bearer ${token}`,
    );
    expect(identity).toMatchObject({ id: 'a1', owner: 'o@example.com', groups: ['r1'], name: 'Agent One' });
  });

  it('validates token parameters on both sides', async () => {
    const issuer = await start({ audience: 'airlock', port: 0 });
    expect(await codeOf(issuer.mintToken({ agent: 'bad agent' }))).toBe('BAD_REQUEST');
    expect(await codeOf(issuer.mintToken({ agent: 'a', owner: 'not-an-email' }))).toBe('BAD_REQUEST');
    expect(await codeOf(issuer.mintToken({ agent: 'a', ttlSeconds: 0 }))).toBe('BAD_REQUEST');
    // A hand-made request that skips client-side validation is refused by the issuer itself.
    const stateDir = await tempDir();
    const withState = await start({ audience: 'airlock', port: 0, stateDir });
    const { clientSecret } = JSON.parse(await readFile(join(stateDir, DEV_ISSUER_STATE_FILE), 'utf8')) as DevIssuerState;
    const response = await fetch(`${withState.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`a:${clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', owner: 'not-an-email' }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('refuses a wrong client secret', async () => {
    const issuer = await start({ audience: 'airlock', port: 0 });
    const response = await fetch(`${issuer.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('claude-code:wrong-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(response.status).toBe(401);
  });

  it('keeps keys, secret and port across a restart, so earlier tokens stay valid', async () => {
    const stateDir = await tempDir();
    const first = await start({ audience: 'airlock', stateDir });
    const token = await first.mintToken({ agent: 'claude-code' });
    const verifier = verifierFor(first.issuer, { discoveryRetryMs: 0 });
    await expect(verifier.verify(`Bearer ${token}`)).resolves.toMatchObject({ id: 'claude-code' });
    await first.close();

    const freshVerifier = verifierFor(first.issuer, { discoveryRetryMs: 0 });
    expect(await codeOf(freshVerifier.verify(`Bearer ${token}`))).toBe('AUTH_ISSUER_UNAVAILABLE');

    const second = await start({ audience: 'airlock', stateDir });
    expect(second.issuer).toBe(first.issuer);
    await expect(freshVerifier.verify(`Bearer ${token}`)).resolves.toMatchObject({ id: 'claude-code' });
  });

  it('never prints oidc-provider notices to the console', () => {
    for (const spy of consoleSpies) {
      const printed = spy.mock.calls.flat().map(String).join('\n');
      expect(printed).not.toContain('oidc-provider');
    }
  });
});

describe('requestDevToken', () => {
  it('mints a token from the state dir alone', async () => {
    const stateDir = await tempDir();
    const issuer = await start({ audience: 'airlock', port: 0, stateDir });
    const token = await requestDevToken({ stateDir, agent: 'copilot', owner: 'bo@example.com', groups: ['a', 'b'] });
    await expect(verifierFor(issuer.issuer).verify(`Bearer ${token}`)).resolves.toMatchObject({
      id: 'copilot',
      owner: 'bo@example.com',
      groups: ['a', 'b'],
    });
  });

  it('works from another process', async () => {
    const stateDir = await tempDir();
    const issuer = await start({ audience: 'airlock', port: 0, stateDir });
    const script = join(stateDir, 'mint.mts');
    const module = new URL('../../src/identity/dev-token.ts', import.meta.url).href;
    await writeFile(
      script,
      `import { requestDevToken } from ${JSON.stringify(module)};\n` +
        `process.stdout.write(await requestDevToken({ stateDir: ${JSON.stringify(stateDir)}, agent: 'ci-bot', owner: 'ci@example.com', groups: ['ci'] }));\n`,
    );
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const { stdout, stderr } = await run(process.execPath, ['--import', tsx, script], { timeout: 20_000 });
    expect(stderr).toBe('');
    await expect(verifierFor(issuer.issuer).verify(`Bearer ${stdout.trim()}`)).resolves.toMatchObject({
      id: 'ci-bot',
      owner: 'ci@example.com',
      groups: ['ci'],
    });
  });

  it('says AUTH_ISSUER_UNAVAILABLE when there is no state or the issuer is gone', async () => {
    expect(await codeOf(requestDevToken({ stateDir: await tempDir(), agent: 'a' }))).toBe('AUTH_ISSUER_UNAVAILABLE');
    const stateDir = await tempDir();
    const issuer = await start({ audience: 'airlock', port: 0, stateDir });
    await issuer.close();
    expect(await codeOf(requestDevToken({ stateDir, agent: 'a' }))).toBe('AUTH_ISSUER_UNAVAILABLE');
    const elsewhere = `http://127.0.0.1:${await closedPort()}`;
    expect(await codeOf(requestDevToken({ stateDir, agent: 'a', issuer: elsewhere }))).toBe('AUTH_ISSUER_UNAVAILABLE');
  });

  it('says AUTH_INVALID when the secret in the state dir belongs to another issuer', async () => {
    const stateDir = await tempDir();
    await start({ audience: 'airlock', port: 0, stateDir });
    const path = join(stateDir, DEV_ISSUER_STATE_FILE);
    const state = JSON.parse(await readFile(path, 'utf8')) as DevIssuerState;
    await writeFile(path, JSON.stringify({ ...state, clientSecret: 'x'.repeat(43) }), { mode: 0o600 });
    expect(await codeOf(requestDevToken({ stateDir, agent: 'a' }))).toBe('AUTH_INVALID');
  });
});
