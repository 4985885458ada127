/**
 * The query and execution paths write the session log, and fail closed when it
 * is unavailable. Real Redis, BullMQ, the emulator through the real driver and
 * the dev OIDC issuer; the "unavailable" case injects an audit log whose
 * appends fail (a stand-in: a real Redis outage would take the whole API down
 * with it, which is not what this test is about).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/build.ts';
import { startDev, type DevEnvironment } from '../../src/app/dev.ts';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { AuditSearch } from '../../src/audit/search.ts';
import { verifyRedis } from '../../src/audit/verify.ts';
import { loadConfig } from '../../src/config/env.ts';
import { AirlockError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../helpers/redis.ts';

const prefix = uniquePrefix('audit-wiring');
let env: DevEnvironment;
let stateDir: string;
let token: string;
const redis = new Redis(REDIS_URL);

async function submit(url: string, sql: string, bearer: string) {
  const res = await fetch(`${url}/v1/queries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql, waitMs: 10_000 }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'airlock-audit-wiring-'));
  env = await startDev({
    config: loadConfig({ REDIS_URL, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_PORT: '0', AIRLOCK_LOG_LEVEL: 'silent' }),
    logger: createLogger({ level: 'silent' }),
    stateDir,
    port: 0,
  });
  token = await env.mintToken({ agent: 'audited-agent', owner: 'owner@example.com', groups: ['analysts'] });
}, 120_000);

afterAll(async () => {
  await env?.close();
  redis.disconnect();
  await cleanupPrefix(prefix);
  await rm(stateDir, { recursive: true, force: true });
});

describe('session log wiring', () => {
  it('an allowed read leaves received → decided → execution_started → execution_finished, on a valid chain', async () => {
    const r = await submit(env.apiUrl, 'select customer_id, segment from customers order by customer_id limit 3', token);
    expect(r.json.status).toBe('succeeded');
    const log = new RedisAuditLog(redis, { prefix });
    const events = await new AuditSearch(log).transcript(r.json.id);
    expect(events.map((e) => e.type)).toEqual(['received', 'decided', 'execution_started', 'execution_finished']);
    expect(events[0]!.data).toMatchObject({ agent: 'audited-agent', owner: 'owner@example.com' });
    expect(events[3]!.data).toMatchObject({ rows: 3, resultSha256: r.json.execution.resultSha256 });
    expect((await verifyRedis(log)).ok).toBe(true);
  });

  it('a denied query leaves received → decided and nothing else', async () => {
    const r = await submit(env.apiUrl, 'copy into @leak from customers', token);
    expect(r.status).toBe(403);
    const events = await new AuditSearch(new RedisAuditLog(redis, { prefix })).transcript(r.json.id);
    expect(events.map((e) => e.type)).toEqual(['received', 'decided']);
    expect(events[1]!.data).toMatchObject({ decision: { action: 'deny' } });
  });

  it('an unavailable audit log stops the query with 503 AUDIT_UNAVAILABLE before anything runs', async () => {
    const config = loadConfig({ REDIS_URL, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_PORT: '0', AIRLOCK_LOG_LEVEL: 'silent' });
    const app = await buildApp(config, {
      roles: ['api'],
      logger: createLogger({ level: 'silent' }),
      // Stand-ins: the agent is accepted without a token check, and every append fails.
      authenticator: { verify: async () => ({ id: 'audited-agent', name: 'audited-agent', groups: [] }) },
      auditLog: {
        append: async () => {
          throw new AirlockError('AUDIT_UNAVAILABLE', 'audit down (test)');
        },
      },
    });
    try {
      const url = (await app.listen())!;
      const r = await submit(url, 'select customer_id from customers limit 1', 'any');
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('AUDIT_UNAVAILABLE');
      const id = r.json.error.details.id as string;
      const view = await fetch(`${url}/v1/queries/${id}`, { headers: { authorization: 'Bearer any' } }).then((x) => x.json() as Promise<any>);
      expect(view.status).toBe('failed');
      expect(view.execution).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});
