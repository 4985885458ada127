/**
 * Classes 3 and 5 of the soundness issue end to end, all real: dev OIDC issuer,
 * API and worker on real Redis and BullMQ, the real snowflake-sdk against the
 * emulator's demo data (which quotes values in cast errors as Snowflake does).
 *
 * The policy here is a TEST policy: the shipped catalog, but every read
 * allowed at once. Many of these statements go to review under the shipped
 * policy; these classes are about what error text and result size carry once
 * a statement runs, whoever allowed it (also after an approval).
 *
 * The warehouse is wrapped only to copy the raw rows of one look-up query, so
 * the test knows which demo values must never appear in a response, a result
 * page, the session log (API and raw Redis) or the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevEnvironment } from '../../src/app/dev.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { dumpPrefix, uniquePrefix } from '../support/redis.ts';
import { copyingWarehouse, type RawResult } from '../support/warehouse.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { captureLogs } from '../support/logs.ts';
import { readsAllowedPolicy } from '../support/policies.ts';

const prefix = uniquePrefix('error-text-e2e');
let env: DevEnvironment;
let suite: DevSuite;
let call: ApiClient;
let reviewer: string;
const logs = captureLogs('debug');
/** The look-up's result as the agent got it (masked). */
let lookupShown = '';
const raw = new Map<string, RawResult>();

/** The customers whose values the error queries provoke. */
const IDS = [3, 7, 11];
const LOOKUP = `select customer_id, ssn, email, phone, card_number, street_address, notes, first_name, last_name from customers where customer_id in (${IDS.join(', ')})`;

/** Every decoy a three-digit prefix + 'x' could be: the agent sends them all, none may be echoed back. */
const DECOYS = Array.from({ length: 1000 }, (_, i) => `'${String(i).padStart(3, '0')}x'`).join(',');

/** Statements that fail on a value from the data, per customer id. */
const PROVOKE = (id: number): string[] => [
  `select replace(ssn, '-', 'x')::number from customers where customer_id = ${id}`,
  `select ssn::int from customers where customer_id = ${id}`,
  `select cast(email as int) from customers where customer_id = ${id}`,
  `select to_date(ssn) from customers where customer_id = ${id}`,
  `select ssn::date from customers where customer_id = ${id}`,
  `select to_timestamp(email) from customers where customer_id = ${id}`,
  `select email::boolean from customers where customer_id = ${id}`,
  `select parse_json(email) from customers where customer_id = ${id}`,
  `select to_varchar(phone)::int from customers where customer_id = ${id}`,
  `select to_date(email, 'YYYY-MM-DD') from customers where customer_id = ${id}`,
  `select to_variant(email)::int from customers where customer_id = ${id}`,
  `select notes::int from customers where customer_id = ${id}`,
  `select street_address::int from customers where customer_id = ${id}`,
  `select (first_name || ' ' || last_name)::int from customers where customer_id = ${id}`,
  `select (card_number::varchar || 'x')::int from customers where customer_id = ${id}`,
  `select parse_json('{"a":"' || ssn || '"}'):a::int from customers where customer_id = ${id}`,
  `select customer_id from customers where customer_id = ${id} and customer_id = 'x' || ssn`,
  `select (substr(ssn, 1, 3) || 'x')::int from customers where customer_id = ${id} and 'q' not in (${DECOYS})`,
];

/**
 * The demo values of the looked-up customers, and the forms the attacks turn
 * them into. `decoys`: also the `NNNx` forms, which the decoy statement itself
 * holds, so only text that never carries the SQL is checked for them.
 */
function secrets(decoys = true): string[] {
  const r = raw.get(LOOKUP);
  if (!r) throw new Error('the look-up query did not run');
  const out = new Set<string>();
  for (const row of r.rows) {
    for (const v of row.slice(1)) {
      if (v === null || v === undefined) continue;
      const s = String(v);
      out.add(s);
      if (/\d/.test(s) && s.replace(/\D/g, '').length >= 7) out.add(s.replace(/\D/g, ''));
      if (s.includes('@')) out.add(s.slice(0, s.indexOf('@')));
    }
    const ssn = String(row[r.columns.indexOf('SSN')]);
    out.add(ssn.replaceAll('-', 'x'));
    if (decoys) out.add(`${ssn.slice(0, 3)}x`);
  }
  return [...out].filter((s) => s.length >= 4);
}

function leaked(text: string, values: string[]): string[] {
  return values.filter((v) => text.includes(v));
}

beforeAll(async () => {
  suite = await startDevSuite({
    prefix,
    env: { AIRLOCK_LOG_LEVEL: 'debug', AIRLOCK_MAX_RESULT_CELLS: '5000', AIRLOCK_MAX_CELL_BYTES: '1024' },
    logger: logs.logger,
    // TEST policy (see the header): reads run at once.
    policy: await readsAllowedPolicy(),
    wrapWarehouse: copyingWarehouse(raw),
  });
  env = suite.env;
  call = apiClient(env.apiUrl, await env.mintToken({ agent: 'error-text-agent', owner: 'owner@example.com', groups: ['analysts'] }));
  reviewer = await env.mintToken({ agent: 'sec-reviewer', groups: ['auditors'], scopes: ['airlock:query', 'airlock:review'] });
  const lookup = await call('/v1/queries', { body: { sql: LOOKUP, waitMs: 20_000 } });
  expect(lookup.json.status, JSON.stringify(lookup.json.error ?? lookup.json.decision?.reasons)).toBe('succeeded');
  lookupShown = JSON.stringify(lookup.json.result.rows);
}, 120_000);

afterAll(async () => {
  await suite?.close();
});

describe('class 3: warehouse errors that echo data', () => {
  const ids: string[] = [];

  it('every error-provoking read fails with a redacted message in the 200 response and in GET /v1/queries/:id', async () => {
    const values = secrets();
    expect(values.length).toBeGreaterThan(20);
    for (const id of IDS) {
      for (const sql of PROVOKE(id)) {
        const res = await call('/v1/queries', { body: { sql, waitMs: 20_000 } });
        expect(res.status, sql).toBe(200);
        expect(leaked(JSON.stringify(res.json), values), sql).toEqual([]);
        // A NULL in the data (a customer without notes) lets the cast succeed; its masked result is checked all the same.
        if (res.json.status === 'succeeded') continue;
        expect(res.json.status, `${sql}: ${JSON.stringify(res.json.decision?.reasons ?? res.json.error)}`).toBe('failed');
        expect(res.json.error.code, sql).toBe('WAREHOUSE_SQL_ERROR');
        expect(res.json.error.message, sql).toMatch(/REDACTED/);
        ids.push(res.json.id);
        const view = await call(`/v1/queries/${res.json.id}`);
        expect(view.json.error.message).toBe(res.json.error.message);
        expect(leaked(JSON.stringify(view.json), values), sql).toEqual([]);
        // A failed query has no result pages: a stable 409, not a 500, and nothing echoed.
        const page = await call(`/v1/queries/${res.json.id}/results`);
        expect(page.status).toBe(409);
        expect(page.json.error.code).toBe('STATE_CONFLICT');
      }
    }
    expect(ids.length).toBeGreaterThanOrEqual(Math.ceil(IDS.length * PROVOKE(0).length * 0.9));
  }, 120_000);

  it('keeps what the agent sent: an unknown column is still named', async () => {
    const res = await call('/v1/queries', { body: { sql: 'select ssnn from customers', waitMs: 20_000 } });
    expect(res.json.status).toBe('failed');
    expect(res.json.error.message).toMatch(/invalid identifier 'SSNN'/);
  });

  it('the session log (replay and raw Redis) and the logs hold none of the values', async () => {
    const all = secrets();
    // The session log and the query record keep the SQL (masked), decoys included.
    const values = secrets(false);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      const replay = await call(`/v1/sessions/${id}`, { token: reviewer });
      expect(replay.status).toBe(200);
      const failed = replay.json.events.find((e: { type: string }) => e.type === 'failed');
      expect(failed?.data?.message).toMatch(/REDACTED/);
      expect(leaked(failed.data.message, all), id).toEqual([]);
      expect(leaked(JSON.stringify(replay.json), values), id).toEqual([]);
    }
    // Redis also holds the look-up's own result, masked: a value masking lets through there (a note
    // without PII) is no error leak, so only the values it hid are looked for in Redis and the logs.
    const hidden = values.filter((v) => !lookupShown.includes(v));
    expect(hidden.length).toBeGreaterThan(20);
    expect(leaked(await dumpPrefix(prefix), hidden)).toEqual([]);
    expect(leaked(logs.text(), hidden)).toEqual([]);
  });
});

describe('class 5: one row, many rows', () => {
  it('a LISTAGG of a whole column comes back as a marker, with a note', async () => {
    // Customer ids are not sensitive, so masking leaves the cell alone: only the per-cell cap stands in the way.
    const res = await call('/v1/queries', { body: { sql: "select count(*) as n, listagg(customer_id::varchar, ',') as packed from customers", waitMs: 20_000 } });
    expect(res.json.status, JSON.stringify(res.json.error ?? res.json.decision?.reasons)).toBe('succeeded');
    expect(res.json.result.rows).toHaveLength(1);
    expect(res.json.result.rows[0][1]).toMatch(/^\[CELL_TOO_LARGE:\d+ bytes\]$/);
    expect(res.json.execution.oversizedCells).toBe(1);
    expect(res.json.execution.note).toMatch(/AIRLOCK_MAX_CELL_BYTES \(1,024 bytes\)/);
    expect(res.json.result.note).toBe(res.json.execution.note);
    expect(res.json.execution.truncated).toBe(false);
  });

  it('a result past the cell cap is cut and says why, on the view and on every page', async () => {
    const res = await call('/v1/queries', { body: { sql: 'select customer_id, segment from customers order by customer_id', waitMs: 20_000 } });
    expect(res.json.status).toBe('succeeded');
    expect(res.json.execution).toMatchObject({ truncated: true, truncatedBy: 'cells', rowCount: 2500 });
    expect(res.json.result).toMatchObject({ truncated: true, truncatedBy: 'cells', rowCount: 2500 });
    expect(res.json.result.note).toMatch(/cut at 2,500 rows: the cell limit \(5,000\)/);
    const page = await call(`/v1/queries/${res.json.id}/results?cursor=${res.json.result.nextCursor}&limit=2000`);
    expect(page.json).toMatchObject({ truncated: true, truncatedBy: 'cells', offset: 1000 });
    expect(page.json.rows).toHaveLength(1500);
    expect(page.json.note).toBe(res.json.result.note);
    const replay = await call(`/v1/sessions/${res.json.id}`, { token: reviewer });
    expect(replay.json.events.find((e: { type: string }) => e.type === 'execution_finished').data).toMatchObject({ truncated: true, truncatedBy: 'cells' });
  });
});
