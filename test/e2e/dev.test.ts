/**
 * `airlock dev` on embedded defaults: with no REDIS_URL it runs a private
 * redis-server child; with none installed it says how to get one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pingRedis, startDev } from '../../src/app/dev.ts';
import { loadConfig } from '../../src/config/env.ts';
import { isAirlockError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { apiClient } from '../support/api-client.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-dev-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('airlock dev', () => {
  it('runs a managed redis-server when REDIS_URL is unset, and stops it on close', async () => {
    const stateDir = await tempDir();
    const env = await startDev({
      config: loadConfig({ AIRLOCK_LOG_LEVEL: 'silent' }),
      logger: createLogger({ level: 'silent' }),
      stateDir,
      port: 0,
    });
    const redisUrl = env.redisUrl;
    try {
      expect(redisUrl).not.toBe('redis://127.0.0.1:6379');
      expect(await pingRedis(redisUrl)).toBe(true);
      const token = await env.mintToken({ agent: 'dev-test' });
      const res = await apiClient(env.apiUrl, token)('/v1/queries', { body: { sql: 'select count(*) as n from orders', waitMs: 10_000 } });
      const body = res.json as { status: string; result: { rows: unknown[][] } };
      expect(body.status).toBe('succeeded');
      expect(Number(body.result.rows[0]![0])).toBeGreaterThan(0);
    } finally {
      await env.close();
    }
    // The child gets SIGTERM; give it a moment to go.
    let alive = true;
    for (let i = 0; i < 40 && alive; i++) {
      alive = await pingRedis(redisUrl);
      if (alive) await new Promise((r) => setTimeout(r, 50));
    }
    expect(alive).toBe(false);
  }, 60_000);

  it('says how to get Redis when none is installed', async () => {
    const stateDir = await tempDir();
    const path = process.env.PATH;
    process.env.PATH = stateDir; // no redis-server here
    try {
      await startDev({ config: loadConfig({ AIRLOCK_LOG_LEVEL: 'silent' }), logger: createLogger({ level: 'silent' }), stateDir, port: 0 });
      expect.unreachable('startDev should have failed');
    } catch (err) {
      expect(isAirlockError(err, 'DEPENDENCY_MISSING')).toBe(true);
      expect((err as Error).message).toMatch(/apt install redis-server/);
    } finally {
      process.env.PATH = path;
    }
  });
});
