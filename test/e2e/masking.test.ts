/**
 * Result masking end to end, all real: dev OIDC issuer, API and worker on real
 * Redis and BullMQ, the real snowflake-sdk against the emulator's demo data.
 * The warehouse is wrapped only to keep a copy of the raw rows it returned, so
 * the test knows which seeded values must never appear in the response, the
 * stored result in Redis, or the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevEnvironment } from '../../src/app/dev.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { dumpPrefix, uniquePrefix } from '../support/redis.ts';
import { copyingWarehouse, type RawResult } from '../support/warehouse.ts';
import { apiClient } from '../support/api-client.ts';
import { captureLogs } from '../support/logs.ts';
import { readsAllowedPolicy } from '../support/policies.ts';

const prefix = uniquePrefix('masking-e2e');
let env: DevEnvironment;
let suite: DevSuite;
let token: string;
const logs = captureLogs('debug');
/** Raw rows per SQL text, as the warehouse returned them (before masking). */
const raw = new Map<string, RawResult>();

async function run(sql: string): Promise<any> {
  const { json: body } = await apiClient(env.apiUrl, token)('/v1/queries', { body: { sql, waitMs: 20_000 } });
  expect(body.status, JSON.stringify(body.error ?? body.decision?.reasons)).toBe('succeeded');
  return body;
}

function rawValues(sql: string, column: string): string[] {
  const r = raw.get(sql)!;
  const i = r.columns.indexOf(column);
  return r.rows.map((row) => row[i]).filter((v): v is string => typeof v === 'string' && v.length > 0);
}

beforeAll(async () => {
  suite = await startDevSuite({
    prefix,
    env: { AIRLOCK_LOG_LEVEL: 'debug' },
    logger: logs.logger,
    // The shipped catalog, but reads allowed at once, so masking alone stands between the data and the agent.
    policy: await readsAllowedPolicy(),
    wrapWarehouse: copyingWarehouse(raw),
  });
  env = suite.env;
  token = await env.mintToken({ agent: 'masking-agent', owner: 'owner@example.com', groups: ['analysts'] });
}, 120_000);

afterAll(async () => {
  await suite?.close();
});

describe('masking before anything leaves the worker', () => {
  it('SELECT * FROM customers: no SSN, card, email or phone reaches the agent, Redis or the logs', async () => {
    const sql = 'select * from customers order by customer_id limit 60';
    const body = await run(sql);
    const secrets = ['SSN', 'CARD_NUMBER', 'EMAIL', 'PHONE'].flatMap((c) => rawValues(sql, c));
    expect(secrets.length).toBeGreaterThan(200);
    const response = JSON.stringify(body);
    const stored = await dumpPrefix(prefix);
    const logText = logs.text();
    for (const s of secrets) {
      expect(response.includes(s), `response holds ${s}`).toBe(false);
      expect(stored.includes(s), `Redis holds ${s}`).toBe(false);
      expect(logText.includes(s), `logs hold ${s}`).toBe(false);
    }
    const columns = body.result.columns.map((c: { name: string }) => c.name);
    const ssn = body.result.rows[0][columns.indexOf('SSN')];
    expect(ssn).toMatch(/^\*\*\*-\*\*-\d{4}$/);
    expect(body.masking.columns.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['SSN', 'CARD_NUMBER', 'EMAIL', 'PHONE']));
    expect(body.masking.columns.find((c: { name: string }) => c.name === 'SSN')).toMatchObject({ reason: 'rule', strategy: 'partial', cells: 60 });
  });

  it('aliased and concatenated PII: an alias keeps the strategy, an expression is redacted whole', async () => {
    const sql = "select ssn as x, first_name || ' ' || ssn as y, lower(email) as e, count(*) over () as n from customers order by customer_id limit 20";
    const body = await run(sql);
    const secrets = [...rawValues(sql, 'X'), ...rawValues(sql, 'Y'), ...rawValues(sql, 'E')];
    const response = JSON.stringify(body);
    for (const s of secrets) expect(response.includes(s), `response holds ${s}`).toBe(false);
    const [x, y, e, n] = body.result.rows[0];
    expect(x).toMatch(/^\*\*\*-\*\*-\d{4}$/);
    expect(y).toMatch(/^\[REDACTED:/);
    expect(e).toMatch(/^\[REDACTED:/);
    expect(Number(n)).toBeGreaterThan(0);
  });

  it('JSON values and free text are scanned: PII inside PROFILE and NOTES, and a card number in a literal', async () => {
    const sql =
      "select customer_id, profile, notes, 'Paid with 4111 1111 1111 1111 yesterday' as memo from customers where notes like '%SSN%' or notes like '%email%' or notes like '%Call back%' or profile like '%contacts%' order by customer_id limit 80";
    const body = await run(sql);
    const r = raw.get(sql)!;
    const rawText = JSON.stringify(r.rows);
    // The seeded PII inside the JSON and the notes (emails, phones, SSNs), found by shape in the raw rows.
    const embedded = [
      ...(rawText.match(/[a-z0-9.]+@example\.(?:com|org|net)/g) ?? []),
      ...(rawText.match(/\b\d{3}-\d{2}-\d{4}\b/g) ?? []),
      ...(rawText.match(/\(\d{3}\) \d{3}-\d{4}|\+1[ -]?\d{3}[ -]\d{3}[ -]\d{4}|\b\d{3}-\d{3}-\d{4}\b/g) ?? []),
    ];
    expect(embedded.length).toBeGreaterThan(20);
    const response = JSON.stringify(body);
    const stored = await dumpPrefix(prefix);
    for (const s of embedded) {
      expect(response.includes(s), `response holds ${s}`).toBe(false);
      expect(stored.includes(s), `Redis holds ${s}`).toBe(false);
    }
    expect(response).not.toContain('4111 1111 1111 1111');
    expect(body.result.rows[0][3]).toMatch(/Paid with .*1111 yesterday/);
  });
});
