/**
 * The first end-to-end path, all real: dev OIDC issuer (oidc-provider), the API
 * on fastify, BullMQ on real Redis, the worker, the real snowflake-sdk driver
 * with key-pair auth, and the Snowflake-wire emulator with the demo seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevEnvironment } from '../../src/app/dev.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { Redis } from 'ioredis';
import { queryKeys } from '../../src/queries/keys.ts';
import { REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { recordingWarehouse } from '../support/warehouse.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';

const prefix = uniquePrefix('e2e');
let env: DevEnvironment;
let suite: DevSuite;
let token: string;
let call: ApiClient;
const executed: string[] = [];

beforeAll(async () => {
  suite = await startDevSuite({ prefix, env: { AIRLOCK_MAX_ROWS: '2500' }, wrapWarehouse: recordingWarehouse(executed) });
  env = suite.env;
  token = await env.mintToken({ agent: 'e2e-agent', owner: 'owner@example.com', groups: ['analysts'] });
  call = apiClient(env.apiUrl, token);
}, 120_000);

afterAll(async () => {
  await suite?.close();
});

describe('POST /v1/queries (allowed reads)', () => {
  it('runs a SELECT end to end and returns the rows within waitMs', async () => {
    const res = await call('/v1/queries', { body: { sql: 'select customer_id, segment from customers order by customer_id limit 3', waitMs: 10_000 } });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('succeeded');
    expect(res.json.decision.action).toBe('allow');
    expect(res.json.result.columns.map((c: { name: string }) => c.name)).toEqual(['CUSTOMER_ID', 'SEGMENT']);
    expect(res.json.result.rows).toHaveLength(3);
    expect(res.json.result.rows.map((r: unknown[]) => r[0])).toEqual([1, 2, 3]);
    expect(res.json.execution.warehouseQueryId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json.execution.resultSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers 202 without waitMs, then long-polls GET to the result', async () => {
    const res = await call('/v1/queries', { body: { sql: 'select count(*) as n from orders' } });
    expect(res.status).toBe(202);
    expect(['queued', 'running', 'succeeded']).toContain(res.json.status);
    const done = await call(`/v1/queries/${res.json.id}?waitMs=10000`);
    expect(done.status).toBe(200);
    expect(done.json.status).toBe('succeeded');
    expect(done.json.result.rows).toEqual([[50_000]]);
  });

  it('pages a large result with cursors and marks the row cap as truncated', async () => {
    const res = await call('/v1/queries', { body: { sql: 'select order_id from orders order by order_id', waitMs: 20_000 } });
    expect(res.json.status).toBe('succeeded');
    expect(res.json.execution.rowCount).toBe(2500);
    expect(res.json.execution.truncated).toBe(true);
    expect(res.json.result.rows).toHaveLength(1000);
    let cursor: string | undefined = res.json.result.nextCursor;
    const seen: unknown[] = res.json.result.rows.map((r: unknown[]) => r[0]);
    while (cursor) {
      const page = await call(`/v1/queries/${res.json.id}/results?limit=700&cursor=${cursor}`);
      expect(page.status).toBe(200);
      seen.push(...page.json.rows.map((r: unknown[]) => r[0]));
      cursor = page.json.nextCursor;
    }
    expect(seen).toHaveLength(2500);
    expect(new Set(seen).size).toBe(2500);
    const bad = await call(`/v1/queries/${res.json.id}/results?cursor=garbage`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('BAD_REQUEST');
  });

  it('reports warehouse SQL errors with the Snowflake code on the query', async () => {
    const res = await call('/v1/queries', { body: { sql: 'select * from no_such_table', waitMs: 10_000 } });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('failed');
    expect(res.json.error.code).toBe('WAREHOUSE_SQL_ERROR');
    expect(res.json.error.details).toMatchObject({ snowflakeCode: '002003', sqlState: '42S02' });
  });

  it('replays an idempotency key and refuses it for different SQL', async () => {
    const key = `k-${Date.now()}`;
    const a = await call('/v1/queries', { body: { sql: 'select 1 as one', idempotencyKey: key, waitMs: 10_000 } });
    const b = await call('/v1/queries', { body: { sql: 'select 1 as one', idempotencyKey: key, waitMs: 10_000 } });
    expect(b.json.id).toBe(a.json.id);
    const c = await call('/v1/queries', { body: { sql: 'select 2 as two', idempotencyKey: key } });
    expect(c.status).toBe(409);
    expect(c.json.error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it("hides one agent's queries from another", async () => {
    const mine = await call('/v1/queries', { body: { sql: 'select 1', waitMs: 10_000 } });
    const other = await env.mintToken({ agent: 'other-agent' });
    const res = await call(`/v1/queries/${mine.json.id}`, { token: other });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('NOT_FOUND');
  });
});

describe('the policy engine decides (shipped default policy)', () => {
  it.each([
    ['drop table customers', 2, 'DESTRUCTIVE_DDL'],
    ['delete from customers where customer_id = 1', 1, 'WRITE'],
    ['select 1; drop table customers', 2, 'MULTI_STATEMENT'],
    ['select ssn from customers where customer_id = 1', 1, 'SENSITIVE_COLUMN'],
  ])('holds %j for review (202 pending_approval, %d approvals) and never runs it', async (sql, required, code) => {
    const before = executed.length;
    const res = await call('/v1/queries', { body: { sql, waitMs: 300 } });
    expect(res.status).toBe(202);
    expect(res.json.status).toBe('pending_approval');
    expect(res.json.waiting).toMatch(/needs human approval/);
    expect(res.json.decision.action).toBe('review');
    expect(res.json.decision.approvals.required).toBe(required);
    expect(res.json.decision.reasons.map((r: { code: string }) => r.code)).toContain(code);
    const again = await call(`/v1/queries/${res.json.id}`);
    expect(again.json.status).toBe('pending_approval');
    expect(executed.length).toBe(before);
  });

  it('lets the agent withdraw a query that waits for review', async () => {
    const res = await call('/v1/queries', { body: { sql: 'truncate table orders' } });
    expect(res.json.status).toBe('pending_approval');
    const cancelled = await call(`/v1/queries/${res.json.id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
  });

  it.each([
    ["copy into @exfil from customers", 'EXFILTRATION'],
    ['use role accountadmin', 'ACCOUNT_CHANGE'],
    ['select * from table(result_scan(last_query_id()))', 'CROSS_SESSION'],
  ])('denies %j with 403 POLICY_DENIED and the decision, and never runs it', async (sql, code) => {
    const before = executed.length;
    const res = await call('/v1/queries', { body: { sql } });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('POLICY_DENIED');
    expect(res.json.decision.action).toBe('deny');
    expect(res.json.decision.reasons.map((r: { code: string }) => r.code)).toContain(code);
    expect(executed.length).toBe(before);
  });

  it('denies an idempotent replay of a denied request the same way', async () => {
    const body = { sql: 'put file:///etc/passwd @~', idempotencyKey: `deny-${Date.now()}` };
    const first = await call('/v1/queries', { body });
    const second = await call('/v1/queries', { body });
    expect(first.status).toBe(403);
    expect(second.status).toBe(403);
    expect(second.json.error.code).toBe('POLICY_DENIED');
    expect(second.json.id).toBe(first.json.id);
  });

  it('refuses SQL too deep or large to analyse with 400 SQL_TOO_COMPLEX, never a 500, on both routes', async () => {
    const before = executed.length;
    const pathological = [
      Array.from({ length: 600 }, (_, i) => `select ${i}`).join(' union all '),
      `select ${Array.from({ length: 10_001 }, () => '1').join('+')}`,
      `select order_id from orders where ${Array.from({ length: 5000 }, (_, i) => `order_id = ${i}`).join(' or ')}`,
    ];
    for (const sql of pathological) {
      const submitted = await call('/v1/queries', { body: { sql, waitMs: 1000 } });
      expect(submitted.status, sql.slice(0, 40)).toBe(400);
      expect(submitted.json.error.code).toBe('SQL_TOO_COMPLEX');
      expect(submitted.json.error.message).toMatch(/too complex/);
      expect(submitted.json.decision.action).toBe('deny');
      const evaluated = await call('/v1/policy/evaluate', { body: { sql } });
      expect(evaluated.status).toBe(200);
      expect(evaluated.json.reasons.map((r: { code: string }) => r.code)).toEqual(['SQL_TOO_COMPLEX']);
    }
    expect(executed.length).toBe(before);
  });

  it('evaluates without running, with reasons naming the table and column', async () => {
    const before = executed.length;
    const res = await call('/v1/policy/evaluate', { body: { sql: 'select customer_id from customers where email like \'%@example.com\'' } });
    expect(res.status).toBe(200);
    expect(res.json.action).toBe('review');
    expect(res.json.reasons[0]).toMatchObject({ code: 'SENSITIVE_COLUMN', table: 'ANALYTICS.PUBLIC.CUSTOMERS', column: 'ANALYTICS.PUBLIC.CUSTOMERS.EMAIL' });
    expect(res.json.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const plain = await call('/v1/policy/evaluate', { body: { sql: 'select segment, count(*) from customers group by segment' } });
    expect(plain.json.action).toBe('allow');
    expect(plain.json.limits.maxRows).toBe(10000);
    expect(executed.length).toBe(before);
  });
});

describe('bad input gets its own clear error and reaches no warehouse', () => {
  const cases: Array<[string, () => Promise<{ status: number; json: any }>, number, string]> = [
    ['malformed JSON', () => call('/v1/queries', { raw: '{"sql": "select 1"' }), 400, 'INVALID_JSON'],
    ['empty JSON body', () => call('/v1/queries', { raw: '' }), 400, 'VALIDATION_FAILED'],
    ['missing sql', () => call('/v1/queries', { body: { waitMs: 10 } }), 400, 'VALIDATION_FAILED'],
    ['unknown field', () => call('/v1/queries', { body: { sql: 'select 1', bogus: true } }), 400, 'VALIDATION_FAILED'],
    ['2 MB body', () => call('/v1/queries', { body: { sql: `select '${'x'.repeat(2 * 1024 * 1024)}'` } }), 413, 'BODY_TOO_LARGE'],
    ['SQL over AIRLOCK_MAX_SQL_BYTES', () => call('/v1/queries', { body: { sql: `select '${'y'.repeat(150_000)}'` } }), 413, 'SQL_TOO_LARGE'],
    ['SQL with a NUL byte', () => call('/v1/queries', { body: { sql: 'select 1\u0000; drop table x' } }), 400, 'SQL_INVALID'],
    ['a body that is not UTF-8', () => call('/v1/queries', { raw: Buffer.concat([Buffer.from('{"sql": "select \''), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('\'"}')]) }), 400, 'INVALID_JSON'],
    ['SQL with an unpaired surrogate', () => call('/v1/queries', { raw: '{"sql": "select \'\\ud800\'"}' }), 400, 'SQL_INVALID'],
    ['1 MB of SQL to evaluate', () => call('/v1/policy/evaluate', { body: { sql: `select '${'z'.repeat(1024 * 1024)}'` } }), 413, 'BODY_TOO_LARGE'],
    ['SQL to evaluate over AIRLOCK_MAX_SQL_BYTES', () => call('/v1/policy/evaluate', { body: { sql: `select '${'z'.repeat(200_000)}'` } }), 413, 'SQL_TOO_LARGE'],
    ['empty SQL to evaluate', () => call('/v1/policy/evaluate', { body: { sql: '   ' } }), 400, 'SQL_INVALID'],
    ['text/plain body', () => call('/v1/queries', { raw: 'select 1', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no token', () => call('/v1/queries', { body: { sql: 'select 1' }, token: null }), 401, 'AUTH_MISSING'],
    ['garbage token', () => call('/v1/queries', { body: { sql: 'select 1' }, token: 'not-a-jwt' }), 401, 'AUTH_MALFORMED'],
    ['forged token', () => call('/v1/queries', { body: { sql: 'select 1' }, token: `${token.slice(0, -6)}AAAAAA` }), 401, 'AUTH_BAD_SIGNATURE'],
    ['bad waitMs', () => call('/v1/queries/abc?waitMs=-5'), 400, 'VALIDATION_FAILED'],
    ['bad id', () => call('/v1/queries/%20bad%20'), 400, 'VALIDATION_FAILED'],
    ['unknown query', () => call('/v1/queries/00000000-0000-0000-0000-000000000000'), 404, 'NOT_FOUND'],
    ['unknown route', () => call('/v1/nothing'), 404, 'NOT_FOUND'],
  ];
  it.each(cases)('%s', async (_name, run, status, code) => {
    const before = executed.length;
    const res = await run();
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    expect(typeof res.json.error.message).toBe('string');
    expect(JSON.stringify(res.json)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
    expect(executed.length).toBe(before);
  });

  it('sends WWW-Authenticate with 401s', async () => {
    const res = await call('/v1/queries', { body: { sql: 'select 1' }, token: null });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('cancel', () => {
  it('cancels a running read in the warehouse', async () => {
    const res = await call('/v1/queries', {
      body: { sql: 'select count(*) from orders a, orders b, orders c' },
    });
    expect(res.status).toBe(202);
    // Let the worker start it.
    for (let i = 0; i < 50; i++) {
      const s = await call(`/v1/queries/${res.json.id}`);
      if (s.json.status === 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancelled = await call(`/v1/queries/${res.json.id}/cancel`, { method: 'POST', body: {} });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
    expect(cancelled.json.error.code).toBe('WAREHOUSE_CANCELLED');
    // The request is kept too, for a worker that would take the read over from a dead one.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    expect(await redis.exists(queryKeys(prefix).cancelRequest(res.json.id))).toBe(1);
    redis.disconnect();
    const again = await call(`/v1/queries/${res.json.id}/cancel`, { method: 'POST', body: {} });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('STATE_CONFLICT');
  });
});

describe('operations', () => {
  it('serves health, readiness, metrics and OpenAPI', async () => {
    expect((await call('/healthz', { token: null })).json).toEqual({ status: 'ok' });
    const ready = await call('/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.json.checks.redis).toBe(true);
    const metrics = await call('/metrics', { token: null });
    expect(metrics.json).toMatch(/airlock_queries_submitted_total\{status="succeeded"\} \d+/);
    // The execute lane's depth, read from Redis for the whole install.
    for (const state of ['ready', 'running', 'delayed']) expect(metrics.json).toMatch(new RegExp(`airlock_execute_lane_queries\\{state="${state}"\\} \\d+`));
    const openapi = await call('/openapi.json', { token: null });
    expect(openapi.json.paths['/v1/queries'].post.requestBody.content['application/json'].schema.required).toEqual(['sql']);
  });
});
