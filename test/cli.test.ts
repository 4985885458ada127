/**
 * The CLI as scripts call it: `npm run --silent airlock -- ARGS`.
 * stdout carries only machine-readable output; errors exit non-zero.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startDevIssuer } from '../src/identity/dev-issuer.ts';

const run = promisify(execFile);

async function airlock(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run('npm', ['run', '--silent', 'airlock', '--', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('airlock config check', () => {
  it('says OK on a valid environment for the roles it can run', async () => {
    const r = await airlock(['config', 'check', '--roles', 'api']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('configuration OK\n');
    expect(r.stderr).toMatch(/api: warning: OIDC_ISSUER is unset/);
  });

  it('prints every problem with its variable and exits 1', async () => {
    const r = await airlock(['config', 'check'], { AIRLOCK_PORT: 'x', AIRLOCK_TYPO: '1', OIDC_ISSUER: 'http://127.0.0.1:1/' });
    expect(r.code).toBe(1);
    const vars = r.stdout.trim().split('\n').map((l) => l.split(':')[0]).sort();
    expect(vars).toEqual(['AIRLOCK_PORT', 'AIRLOCK_TYPO']);
  });
});

describe('airlock token', () => {
  let stateDir: string;
  let close: () => Promise<void>;
  let issuer: string;
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'airlock-cli-'));
    const dev = await startDevIssuer({ audience: 'https://airlock.local/api', stateDir, port: 0 });
    issuer = dev.issuer;
    close = dev.close;
  });
  afterAll(async () => {
    await close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('prints only a JWT for the agent from the running dev issuer', async () => {
    const r = await airlock(['token', '--agent', 'ci-bot', '--owner', 'ana@example.com', '--groups', 'etl,analysts', '--state-dir', stateDir]);
    expect(r.code).toBe(0);
    const jwt = r.stdout.trim();
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    const claims = decodeJwt(jwt);
    expect(claims.sub).toBe('ci-bot');
    expect(claims.owner).toBe('ana@example.com');
    expect(claims.groups).toEqual(['etl', 'analysts']);
    expect(claims.iss).toBe(issuer);
  });

  it('fails with a clear sentence when no dev issuer state exists', async () => {
    const r = await airlock(['token', '--state-dir', join(stateDir, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/airlock: [A-Z_]+: /);
  });
});

describe('usage errors', () => {
  it('rejects an unknown command with exit 2', async () => {
    const r = await airlock(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('rejects an unknown role', async () => {
    const r = await airlock(['serve', '--roles', 'api,nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unknown role\(s\): nope/);
  });
});
