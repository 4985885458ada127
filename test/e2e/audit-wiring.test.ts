/**
 * The query and execution paths write the session log (an allowed read, a
 * deny, an expiry seen by a read, a cancel while running), and fail closed when
 * it is unavailable. Real Redis, BullMQ, the emulator through the real driver and
 * the dev OIDC issuer; the "unavailable" case injects an audit log whose
 * appends fail (a stand-in: a real Redis outage would take the whole API down
 * with it, which is not what this test is about).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/build.ts';
import type { DevEnvironment } from '../../src/app/dev.ts';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { AuditSearch } from '../../src/audit/search.ts';
import { verifyRedis } from '../../src/audit/verify.ts';
import { loadConfig } from '../../src/config/env.ts';
import { AirlockError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { LONG_QUERY } from '../warehouse/contract.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { shippedPolicy } from '../support/policies.ts';

const prefix = uniquePrefix('audit-wiring');
let env: DevEnvironment;
let suite: DevSuite;
let api: ApiClient;
const redis = new Redis(REDIS_URL);

/** Submit `sql` as the agent behind `api`, waiting up to `waitMs` for the outcome. */
async function submit(api: ApiClient, sql: string, waitMs = 10_000) {
  return api('/v1/queries', { body: { sql, waitMs } });
}

beforeAll(async () => {
  suite = await startDevSuite({
    prefix,
    // The shipped policy plus a review that expires after a second (no Slack here: nobody can approve).
    policy: await shippedPolicy({ expiringAfter: '1s' }),
  });
  env = suite.env;
  api = apiClient(env.apiUrl, await env.mintToken({ agent: 'audited-agent', owner: 'owner@example.com', groups: ['analysts'] }));
}, 120_000);

afterAll(async () => {
  await suite?.close();
  redis.disconnect();
});

describe('session log wiring', () => {
  it('an allowed read leaves received → decided → execution_started → execution_finished, on a valid chain', async () => {
    const r = await submit(api, 'select customer_id, segment from customers order by customer_id limit 3');
    expect(r.json.status).toBe('succeeded');
    const log = new RedisAuditLog(redis, { prefix });
    const events = await new AuditSearch(log).transcript(r.json.id);
    expect(events.map((e) => e.type)).toEqual(['received', 'decided', 'execution_started', 'execution_finished']);
    expect(events[0]!.data).toMatchObject({ agent: 'audited-agent', owner: 'owner@example.com' });
    expect(events[3]!.data).toMatchObject({ rows: 3, resultSha256: r.json.execution.resultSha256 });
    expect((await verifyRedis(log)).ok).toBe(true);
  });

  it('a denied query leaves received → decided and nothing else', async () => {
    const r = await submit(api, 'copy into @leak from customers');
    expect(r.status).toBe(403);
    const events = await new AuditSearch(new RedisAuditLog(redis, { prefix })).transcript(r.json.id);
    expect(events.map((e) => e.type)).toEqual(['received', 'decided']);
    expect(events[1]!.data).toMatchObject({ decision: { action: 'deny' } });
  });

  it('a review nobody decides expires on the next read, and the session records it once', async () => {
    const r = await submit(api, 'select * from analytics.public.expiring', 0);
    expect(r.json.status).toBe('pending_approval');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const reads = await Promise.all(
      Array.from({ length: 3 }, () => api(`/v1/queries/${r.json.id}`).then((x) => x.json)),
    );
    expect(reads.map((x) => x.status)).toEqual(['expired', 'expired', 'expired']);
    const events = await new AuditSearch(new RedisAuditLog(redis, { prefix })).transcript(r.json.id);
    // dev posts the card to its Slack sandbox; the card's own events are not what this test is about.
    const steps = events.map((e) => e.type).filter((t) => t !== 'card_posted' && t !== 'summary_posted');
    expect(steps).toEqual(['received', 'decided', 'expired']);
  });

  it('a read cancelled while it runs ends its session with cancelled', async () => {
    const r = await submit(api, LONG_QUERY, 0);
    const id: string = r.json.id;
    const log = new RedisAuditLog(redis, { prefix });
    const search = new AuditSearch(log);
    await until('the statement to start', async () => ((await search.transcript(id)).some((e) => e.type === 'execution_started') ? true : undefined));
    const cancelled = (await api(`/v1/queries/${id}/cancel`, { method: 'POST' })).json;
    expect(cancelled.status).toBe('cancelled');
    const types = await until('the cancelled event', async () => {
      const t = (await search.transcript(id)).map((e) => e.type);
      return t.includes('cancelled') ? t : undefined;
    });
    expect(types).toEqual(['received', 'decided', 'execution_started', 'cancelled']);
  });

  it('an unavailable audit log stops the query with 503 AUDIT_UNAVAILABLE before anything is recorded', async () => {
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
      const asAnyone = apiClient(url, 'any');
      const r = await submit(asAnyone, 'select customer_id from customers limit 1');
      expect(r.status).toBe(503);
      expect(r.json.error.code).toBe('AUDIT_UNAVAILABLE');
      // The log refused `received`, so no record was written: nothing can run or be approved.
      const id = r.json.error.details.id as string;
      const read = await asAnyone(`/v1/queries/${id}`);
      expect(read.status).toBe(404);
      expect(read.json.error.code).toBe('NOT_FOUND');
    } finally {
      await app.close();
    }
  });
});
