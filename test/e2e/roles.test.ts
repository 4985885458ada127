/**
 * Roles: a worker-only process still answers the operations routes (so
 * container health checks work) but serves no agent API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type AirlockApp } from '../../src/app/build.ts';
import { loadConfig } from '../../src/config/env.ts';
import { createLogger } from '../../src/log.ts';
import type { Warehouse } from '../../src/warehouse/port.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';

const prefix = uniquePrefix('roles');
let app: AirlockApp;
let api: ApiClient;

// Stand-in warehouse: this test never runs a query, it only checks which routes a role serves.
const idleWarehouse: Warehouse = {
  execute: async () => {
    throw new Error('not used');
  },
  close: async () => undefined,
};

beforeAll(async () => {
  const config = loadConfig({ REDIS_URL, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_PORT: '0' });
  app = await buildApp(config, { roles: ['worker'], logger: createLogger({ level: 'silent' }), warehouse: idleWarehouse });
  api = apiClient((await app.listen())!);
});

afterAll(async () => {
  await app?.close();
  await cleanupPrefix(prefix);
});

describe('worker-only process', () => {
  it('serves /healthz and /readyz (not ready: its stand-in warehouse cannot run a statement)', async () => {
    expect((await api('/healthz')).status).toBe(200);
    const ready = await api('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'not_ready', checks: { redis: true, warehouse: false } });
    expect(ready.json.problems.warehouse).toMatch(/cannot run statements on Snowflake/);
  });

  it('does not serve the agent API', async () => {
    const res = await api('/v1/queries', { raw: '{"sql":"select 1"}' });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('NOT_FOUND');
  });
});
