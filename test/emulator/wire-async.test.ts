/**
 * Long-running statements: cancel really interrupts DuckDB, statement
 * timeouts, asyncExec with monitoring and getResultsFromQueryId, and the
 * "in progress" long-poll the driver follows transparently.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, RowStatement, SnowflakeError } from 'snowflake-sdk';
import type { Emulator } from '../../src/emulator/server.ts';
import { connect, destroy, emulator, exec, post, rawLogin } from './wire-helpers.ts';

/** ~10^10 comparisons: minutes of work unless interrupted. */
const LONG_QUERY = 'SELECT COUNT(*) AS C FROM BIG A, BIG B WHERE A.N + B.N < 0';

let emu: Emulator;
let conn: Connection;

beforeAll(async () => {
  emu = await emulator({
    database: 'LONGDB',
    // Hold query requests 1 s, then answer "in progress" so the driver polls.
    queryWaitSeconds: 1,
    init: async (db, { createDatabase }) => {
      await createDatabase('LONGDB');
      await db.run('CREATE TABLE "LONGDB"."PUBLIC"."BIG" AS SELECT range::INTEGER AS N FROM range(100000)');
    },
  });
  conn = await connect(emu, { database: 'LONGDB' });
});
afterAll(async () => {
  if (conn) await destroy(conn);
  await emu?.close();
});

function cancelAfter(ms: number): { onStatement(s: RowStatement): void; cancelled: Promise<SnowflakeError | undefined> } {
  let resolveCancel!: (err: SnowflakeError | undefined) => void;
  const cancelled = new Promise<SnowflakeError | undefined>((r) => (resolveCancel = r));
  return {
    onStatement: (s) => setTimeout(() => s.cancel((err) => resolveCancel(err)), ms),
    cancelled,
  };
}

describe('cancel', () => {
  it('interrupts a running query before its id is known (abort by request id)', async () => {
    const t0 = performance.now();
    const c = cancelAfter(300);
    await expect(exec(conn, LONG_QUERY, { onStatement: c.onStatement })).rejects.toMatchObject({ code: '000604', sqlState: '57014' });
    expect(await c.cancelled).toBeNull();
    expect(performance.now() - t0).toBeLessThan(5_000);
    // The session's connection is usable afterwards.
    expect((await exec(conn, 'SELECT 1 AS ONE')).rows).toEqual([{ ONE: 1 }]);
  });

  it('interrupts a query the driver is polling for (abort by query id)', async () => {
    const t0 = performance.now();
    const c = cancelAfter(2_000);
    await expect(exec(conn, LONG_QUERY, { onStatement: c.onStatement })).rejects.toMatchObject({ code: '000604' });
    expect(await c.cancelled).toBeNull();
    expect(performance.now() - t0).toBeLessThan(7_000);
  });

  it('answers 000605 when aborting a query that is not running', async () => {
    const login = await rawLogin(emu);
    const done = await post(emu, '/queries/v1/query-request', { sqlText: 'SELECT 1' }, { token: login.token });
    const r = await post(emu, `/queries/${done.json.data.queryId}/abort-request`, {}, { token: login.token });
    expect(r.json).toMatchObject({ success: false, code: '000605' });
  });
});

describe('statement timeout', () => {
  it('cancels a statement after STATEMENT_TIMEOUT_IN_SECONDS with 000630', async () => {
    const other = await connect(emu, { database: 'LONGDB' });
    try {
      await exec(other, 'ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 1');
      const t0 = performance.now();
      await expect(exec(other, LONG_QUERY)).rejects.toMatchObject({ code: '000630', sqlState: '57014' });
      const ms = performance.now() - t0;
      expect(ms).toBeGreaterThan(900);
      expect(ms).toBeLessThan(5_000);
      await exec(other, 'ALTER SESSION UNSET STATEMENT_TIMEOUT_IN_SECONDS');
      expect((await exec(other, 'SELECT 2 AS TWO')).rows).toEqual([{ TWO: 2 }]);
    } finally {
      await destroy(other);
    }
  });

  it('applies a per-statement STATEMENT_TIMEOUT_IN_SECONDS parameter', async () => {
    await expect(exec(conn, LONG_QUERY, { parameters: { STATEMENT_TIMEOUT_IN_SECONDS: 1 } })).rejects.toMatchObject({ code: '000630' });
  });
});

describe('asyncExec', () => {
  function submitAsync(sqlText: string): Promise<string> {
    return new Promise((resolve, reject) => {
      conn.execute({
        sqlText,
        asyncExec: true,
        complete: (err, stmt) => (err ? reject(err) : resolve(stmt.getQueryId())),
      });
    });
  }

  it('returns at once and serves the result through getResultsFromQueryId', async () => {
    const queryId = await submitAsync('SELECT N FROM BIG WHERE N < 5 ORDER BY N');
    expect(queryId).toMatch(/^[0-9a-f-]{36}$/);
    const stmt = await conn.getResultsFromQueryId({ queryId, sqlText: '' });
    const rows: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      stmt.streamRows().on('data', (r: unknown) => rows.push(r)).on('error', reject).on('end', () => resolve());
    });
    expect(rows).toEqual([0, 1, 2, 3, 4].map((N) => ({ N })));
    expect(await conn.getQueryStatus(queryId)).toBe('SUCCESS');
  });

  it('reports RUNNING, then ABORTED after an abort request', async () => {
    const t0 = performance.now();
    const queryId = await submitAsync(LONG_QUERY);
    expect(performance.now() - t0).toBeLessThan(900);
    expect(await conn.getQueryStatus(queryId)).toBe('RUNNING');
    const login = await rawLogin(emu);
    const abort = await post(emu, `/queries/${queryId}/abort-request`, {}, { token: login.token });
    expect(abort.json).toMatchObject({ success: true });
    await expect(conn.getResultsFromQueryId({ queryId, sqlText: '' })).rejects.toMatchObject({ code: '000604' });
    expect(await conn.getQueryStatus(queryId)).toBe('ABORTED');
  });

  it('reports FAILED_WITH_ERROR for a failed async query', async () => {
    const queryId = await submitAsync('SELECT * FROM NO_SUCH_TABLE');
    await new Promise((r) => setTimeout(r, 200));
    await expect(conn.getQueryStatusThrowIfError(queryId)).rejects.toMatchObject({ code: '002003' });
    expect(await conn.getQueryStatus(queryId)).toBe('FAILED_WITH_ERROR');
  });
});
