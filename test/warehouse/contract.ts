/**
 * The Warehouse port's contract: every adapter passes these tests.
 *
 * The factory must return a fresh warehouse with ONE connection (poolSize 1,
 * so queueing and release are observable), a session context of
 * ANALYTICS.PUBLIC holding the demo data set (CUSTOMERS 10k rows, ORDERS 50k),
 * the right to create tables there, and a connection-wait timeout of a few
 * seconds (a leaked connection then fails fast instead of hanging the suite).
 * The probes let the suite look inside the warehouse; a test needing a probe
 * the caller does not give is skipped, so the caller should give them all.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirlockError, type AirlockErrorCode } from '../../src/errors.ts';
import type { ExecuteOptions, ExecuteResult, Row, Warehouse } from '../../src/warehouse/port.ts';

/** Views into the warehouse, to prove effects the port cannot show. */
export interface WarehouseProbes {
  /** Sessions open in the warehouse right now. */
  sessionCount?(): number;
  /** The warehouse's status of a statement (Snowflake: RUNNING, SUCCESS, ABORTED, …). */
  queryStatus?(queryId: string): Promise<string | undefined>;
  /** The QUERY_TAG the warehouse applied to a statement. */
  queryTagOf?(queryId: string): string | undefined;
}

/**
 * Minutes of work for any engine unless it is cancelled (10^12 row
 * combinations); valid Snowflake, so the contract also runs against a real account.
 */
export const LONG_QUERY =
  'select count(*) as c from customers a, customers b, customers c where a.customer_id + b.customer_id + c.customer_id < 0';

/** Run a statement and drain its rows. */
export async function collect(wh: Warehouse, sql: string, options?: ExecuteOptions): Promise<{ result: ExecuteResult; rows: Row[] }> {
  const result = await wh.execute(sql, options);
  const rows: Row[] = [];
  for await (const row of result.rows) rows.push(row);
  return { result, rows };
}

/** The AirlockError a promise rejects with (fails the test when it resolves or throws something else). */
export async function rejection(promise: Promise<unknown>): Promise<AirlockError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AirlockError) return err;
    throw new Error(`expected an AirlockError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a rejection');
}

async function expectCode(promise: Promise<unknown>, code: AirlockErrorCode): Promise<AirlockError> {
  const err = await rejection(promise);
  expect(err.code).toBe(code);
  return err;
}

/** Register the contract tests for one adapter. */
export function warehouseContract(name: string, factory: () => Promise<Warehouse>, probes: WarehouseProbes = {}): void {
  describe(`Warehouse contract: ${name}`, () => {
    let wh: Warehouse;
    beforeAll(async () => {
      wh = await factory();
    });
    afterAll(async () => {
      await wh?.close();
    });

    describe('values and metadata', () => {
      it('returns JSON-safe values and column metadata for every type', async () => {
        const { result, rows } = await collect(
          wh,
          `select 42 as n_int,
                  12345678901234567890::number(38,0) as n_big,
                  -9007199254740993::number(38,0) as n_neg_big,
                  3.10::number(12,2) as n_dec,
                  -12345678901234567890.5::number(38,1) as n_dec_big,
                  1.5::float as f,
                  'héllo' as s,
                  true as b,
                  '2024-02-29'::date as d,
                  '2024-02-29 13:14:15.123'::timestamp_ntz as ts,
                  x'ABCD' as bin,
                  parse_json('{"a":1,"b":[true,null,"x"]}') as v,
                  null::varchar as nul`,
        );
        expect(result.columns.map((c) => [c.name, c.type])).toEqual([
          ['N_INT', 'fixed'],
          ['N_BIG', 'fixed'],
          ['N_NEG_BIG', 'fixed'],
          ['N_DEC', 'fixed'],
          ['N_DEC_BIG', 'fixed'],
          ['F', 'real'],
          ['S', 'text'],
          ['B', 'boolean'],
          ['D', 'date'],
          ['TS', 'timestamp_ntz'],
          ['BIN', 'binary'],
          ['V', 'variant'],
          ['NUL', 'text'],
        ]);
        expect(result.columns[3]).toMatchObject({ precision: 12, scale: 2 });
        expect(rows).toEqual([
          [
            42,
            '12345678901234567890',
            '-9007199254740993',
            '3.10',
            '-12345678901234567890.5',
            1.5,
            'héllo',
            true,
            '2024-02-29',
            '2024-02-29 13:14:15.123',
            'ABCD',
            { a: 1, b: [true, null, 'x'] },
            null,
          ],
        ]);
        // JSON-safe: survives a round trip unchanged.
        expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
        expect(result.rowsAffected).toBeUndefined();
        expect(result.truncated).toBe(false);
        expect(result.queryId).toMatch(/^[0-9a-f-]{36}$/i);
      });

      it('keeps NaN and infinities as text, since JSON has no number for them', async () => {
        const { rows } = await collect(wh, `select 'NaN'::float as a, 'inf'::float as b, '-inf'::float as c`);
        expect(rows).toEqual([['NaN', 'Infinity', '-Infinity']]);
      });

      it('describes table columns (nullability, precision, scale)', async () => {
        const { result, rows } = await collect(
          wh,
          'select customer_id, email, date_of_birth, created_at, profile, lifetime_value from customers where customer_id = 1',
        );
        expect(result.columns).toMatchObject([
          { name: 'CUSTOMER_ID', type: 'fixed', precision: 38, scale: 0 },
          { name: 'EMAIL', type: 'text' },
          { name: 'DATE_OF_BIRTH', type: 'date' },
          { name: 'CREATED_AT', type: 'timestamp_ntz' },
          { name: 'PROFILE', type: 'variant' },
          { name: 'LIFETIME_VALUE', type: 'fixed', precision: 12, scale: 2 },
        ]);
        for (const c of result.columns) expect(typeof c.nullable).toBe('boolean');
        expect(rows).toHaveLength(1);
        const [id, email, dob, created, profile, ltv] = rows[0]!;
        expect(id).toBe(1);
        expect(email).toMatch(/@example\.(com|org|net)$/);
        expect(dob).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(created).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
        expect(profile).toMatchObject({ loyalty: expect.any(Object) });
        expect(ltv).toMatch(/^\d+\.\d{2}$/);
      });
    });

    describe('streaming and limits', () => {
      it('streams a 50k-row result row by row', async () => {
        const result = await wh.execute('select * from orders');
        let count = 0;
        let lastId = 0;
        for await (const row of result.rows) {
          count++;
          lastId = Math.max(lastId, row[0] as number);
        }
        expect(count).toBe(50_000);
        expect(lastId).toBe(150_000);
        expect(result.truncated).toBe(false);
      });

      it('stops at maxRows, reports truncated and frees the connection', async () => {
        const { result, rows } = await collect(wh, 'select * from orders', { maxRows: 100 });
        expect(rows).toHaveLength(100);
        expect(result.truncated).toBe(true);
        // poolSize 1: this would wait for the connection if it were still held.
        const t0 = performance.now();
        expect((await collect(wh, 'select 1 as one')).rows).toEqual([[1]]);
        expect(performance.now() - t0).toBeLessThan(2_000);
      });

      it('is not truncated when the result has exactly maxRows rows', async () => {
        const { result, rows } = await collect(wh, 'select customer_id from customers where customer_id <= 5 order by 1', { maxRows: 5 });
        expect(rows).toEqual([[1], [2], [3], [4], [5]]);
        expect(result.truncated).toBe(false);
      });

      it('frees the connection when the caller stops iterating early', async () => {
        const result = await wh.execute('select * from orders');
        for await (const _ of result.rows) break;
        expect((await collect(wh, 'select 2 as two')).rows).toEqual([[2]]);
      });
    });

    describe('cancel, timeout, tags', () => {
      it('aborting cancels the statement in the warehouse (WAREHOUSE_CANCELLED)', async () => {
        const before = probes.sessionCount?.();
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 300);
        const t0 = performance.now();
        const err = await expectCode(wh.execute(LONG_QUERY, { signal: ac.signal }), 'WAREHOUSE_CANCELLED');
        expect(performance.now() - t0).toBeLessThan(5_000);
        if (probes.queryStatus) {
          expect(err.details.queryId).toEqual(expect.any(String));
          expect(await probes.queryStatus(err.details.queryId as string)).toBe('ABORTED');
        }
        // The session is free again (its statements run one at a time) and was kept.
        const t1 = performance.now();
        expect((await collect(wh, 'select 3 as three')).rows).toEqual([[3]]);
        expect(performance.now() - t1).toBeLessThan(2_000);
        if (before !== undefined) expect(probes.sessionCount!()).toBe(before);
      });

      it('an already aborted signal never reaches the warehouse', async () => {
        const ac = new AbortController();
        ac.abort();
        await expectCode(wh.execute('select 1', { signal: ac.signal }), 'WAREHOUSE_CANCELLED');
      });

      it('aborting while waiting for a connection gives up the wait', async () => {
        const busy = wh.execute('select * from orders'); // holds the only connection until drained
        const ac = new AbortController();
        const waiting = wh.execute('select 1', { signal: ac.signal });
        setTimeout(() => ac.abort(), 100);
        await expectCode(waiting, 'WAREHOUSE_CANCELLED');
        for await (const _ of (await busy).rows) break;
      });

      it('timeoutMs stops a long statement with WAREHOUSE_TIMEOUT', async () => {
        const t0 = performance.now();
        const err = await expectCode(wh.execute(LONG_QUERY, { timeoutMs: 1_000 }), 'WAREHOUSE_TIMEOUT');
        const ms = performance.now() - t0;
        expect(ms).toBeGreaterThan(900);
        expect(ms).toBeLessThan(6_000);
        if (probes.queryStatus && typeof err.details.queryId === 'string') {
          expect(await probes.queryStatus(err.details.queryId)).toBe('ABORTED');
        }
        expect((await collect(wh, 'select 4 as four')).rows).toEqual([[4]]);
      });

      it.skipIf(!probes.queryTagOf)('records queryTag as the statement QUERY_TAG', async () => {
        const tag = `airlock:req-${randomUUID()}`;
        const { result } = await collect(wh, 'select 1 as one', { queryTag: tag });
        expect(probes.queryTagOf!(result.queryId)).toBe(tag);
        // Per statement: the next statement does not inherit it.
        const { result: next } = await collect(wh, 'select 1 as one');
        expect(probes.queryTagOf!(next.queryId) ?? '').toBe('');
      });
    });

    describe('errors', () => {
      it('an unknown table is WAREHOUSE_SQL_ERROR with Snowflake code and SQLSTATE', async () => {
        const err = await expectCode(wh.execute('select * from no_such_table'), 'WAREHOUSE_SQL_ERROR');
        expect(err.details).toMatchObject({ snowflakeCode: '002003', sqlState: '42S02' });
        expect(err.message).toMatch(/does not exist or not authorized/);
      });

      it('a syntax error is WAREHOUSE_SQL_ERROR, and the connection stays usable', async () => {
        const err = await expectCode(wh.execute('selec 1'), 'WAREHOUSE_SQL_ERROR');
        expect(err.details).toMatchObject({ snowflakeCode: '001003', sqlState: '42000' });
        expect((await collect(wh, 'select 5 as five')).rows).toEqual([[5]]);
      });
    });

    describe('DML', () => {
      it('reports rowsAffected for insert, update and delete', async () => {
        const table = `airlock_contract_${randomUUID().replaceAll('-', '')}`;
        await collect(wh, `create table ${table} (id number(38,0), name varchar)`);
        try {
          const ins = await wh.execute(`insert into ${table} (id, name) values (1, 'a'), (2, 'b'), (3, 'c')`);
          expect(ins.rowsAffected).toBe(3);
          // Not draining a DML result must not leak the only connection.
          const upd = await wh.execute(`update ${table} set name = 'z' where id > 1`);
          expect(upd.rowsAffected).toBe(2);
          const del = await collect(wh, `delete from ${table} where id = 1`);
          expect(del.result.rowsAffected).toBe(1);
          expect((await collect(wh, `select id, name from ${table} order by id`)).rows).toEqual([
            [2, 'z'],
            [3, 'z'],
          ]);
        } finally {
          await collect(wh, `drop table ${table}`);
        }
      });
    });

    describe('pool', () => {
      it.skipIf(!probes.sessionCount)('reuses one session for sequential statements', async () => {
        const fresh = await factory();
        try {
          const before = probes.sessionCount!();
          for (let i = 0; i < 5; i++) expect((await collect(fresh, `select ${i} as i`)).rows).toEqual([[i]]);
          expect(probes.sessionCount!() - before).toBe(1);
        } finally {
          await fresh.close();
        }
      });

      it('queues statements beyond the pool size and runs them all', async () => {
        const fresh = await factory();
        try {
          const before = probes.sessionCount?.();
          const all = await Promise.all(
            Array.from({ length: 6 }, (_, i) => collect(fresh, `select ${i} as i, count(*) as n from orders`)),
          );
          expect(all.map((r) => r.rows)).toEqual(Array.from({ length: 6 }, (_, i) => [[i, 50_000]]));
          if (before !== undefined) expect(probes.sessionCount!() - before).toBe(1);
        } finally {
          await fresh.close();
        }
      });

      it('close() ends the sessions and refuses new statements', async () => {
        const fresh = await factory();
        const before = probes.sessionCount?.();
        await collect(fresh, 'select 1');
        await fresh.close();
        if (before !== undefined) expect(probes.sessionCount!()).toBe(before);
        await expectCode(fresh.execute('select 1'), 'WAREHOUSE_UNAVAILABLE');
        await fresh.close();
      });
    });
  });
}
