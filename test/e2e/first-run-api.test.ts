/**
 * What a new user meets first on `airlock dev`, through the real API (real
 * Redis, the emulator, the dev issuer): a typo answered at once instead of an
 * hour of review, and the `Idempotency-Key` header beside the body field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { uniquePrefix } from '../support/redis.ts';
import { recordingWarehouse } from '../support/warehouse.ts';

const prefix = uniquePrefix('e2e-firstrun');
let suite: DevSuite;
let api: ApiClient;
const executed: string[] = [];

beforeAll(async () => {
  suite = await startDevSuite({ prefix, wrapWarehouse: recordingWarehouse(executed) });
  api = apiClient(suite.env.apiUrl, await suite.env.mintToken({ agent: 'first-run', owner: 'new.user@example.com' }));
});
afterAll(async () => {
  await suite?.close();
});

describe('a statement that is not SQL', () => {
  it('POST /v1/queries answers 400 NOT_SQL at once, with the recorded deny decision, and nothing runs', async () => {
    const res = await api('/v1/queries', { body: { sql: 'SELCT * FROM customers', waitMs: 5000 } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('NOT_SQL');
    expect(res.json.error.message).toMatch(/"SELCT", which is not a SQL command \(did you mean SELECT\?\)/);
    expect(res.json.decision).toMatchObject({ action: 'deny', reasons: [{ code: 'NOT_SQL' }] });
    // Recorded (denied) under its id, never pending review.
    const view = await api(`/v1/queries/${res.json.id}`);
    expect(view.json.status).toBe('denied');
    expect(executed.some((sql) => sql.includes('SELCT'))).toBe(false);
  });

  it('POST /v1/policy/evaluate answers 200 with the deny decision and the sentence', async () => {
    const res = await api('/v1/policy/evaluate', { body: { sql: 'hello' } });
    expect(res.status).toBe(200);
    expect(res.json.action).toBe('deny');
    expect(res.json.reasons[0].code).toBe('NOT_SQL');
    expect(res.json.reasons[0].message).toMatch(/starts with "HELLO", which is not a SQL command/);
  });

  it('plausible SQL the parser cannot read still waits for review', async () => {
    const res = await api('/v1/queries', { body: { sql: 'merge into orders o using customers c on o.customer_id = c.customer_id when matched then delete' } });
    expect(res.status).toBe(202);
    expect(res.json.status).toBe('pending_approval');
  });
});

describe('Idempotency-Key header', () => {
  const sql = 'select customer_id from customers order by customer_id limit 1';

  it('means the same as the body field: the same key in either place gives the same query back', async () => {
    const key = `hdr-${prefix}`;
    const first = await api('/v1/queries', { body: { sql, waitMs: 5000 }, headers: { 'Idempotency-Key': key } });
    expect(first.status).toBe(200);
    const again = await api('/v1/queries', { body: { sql, waitMs: 5000, idempotencyKey: key } });
    expect(again.json.id).toBe(first.json.id);
    const both = await api('/v1/queries', { body: { sql, idempotencyKey: key }, headers: { 'Idempotency-Key': key } });
    expect(both.json.id).toBe(first.json.id);
    const other = await api('/v1/queries', { body: { sql: 'select 2', waitMs: 5000 }, headers: { 'Idempotency-Key': key } });
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(other.json.error.details.id).toBe(first.json.id);
  });

  it('a header and a body field that differ are 400 IDEMPOTENCY_KEY_MISMATCH, and nothing is recorded', async () => {
    const res = await api('/v1/queries', { body: { sql, idempotencyKey: `a-${prefix}` }, headers: { 'Idempotency-Key': `b-${prefix}` } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('IDEMPOTENCY_KEY_MISMATCH');
    expect(res.json.id).toBeUndefined();
    // Neither key was claimed: each starts a fresh query now.
    const a = await api('/v1/queries', { body: { sql, idempotencyKey: `a-${prefix}`, waitMs: 5000 } });
    const b = await api('/v1/queries', { body: { sql, waitMs: 5000 }, headers: { 'Idempotency-Key': `b-${prefix}` } });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.json.id).not.toBe(b.json.id);
  });

  it('an over-long header is a validation error naming the header', async () => {
    const res = await api('/v1/queries', { body: { sql }, headers: { 'Idempotency-Key': 'k'.repeat(201) } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('VALIDATION_FAILED');
    expect(res.json.error.details.problems[0].path).toBe('headers.idempotency-key');
  });
});
