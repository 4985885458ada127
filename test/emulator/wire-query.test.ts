/**
 * Query results through the real driver: every Snowflake type's encoding, DML
 * counts, DDL status rows, bindings, errors and per-session state.
 *
 * Test tables are created in DuckDB SQL by the emulator's `init` hook, so the
 * queries the driver sends stay plain Snowflake SQL whatever the SQL layer does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'snowflake-sdk';
import type { Emulator } from '../../src/emulator/server.ts';
import { connect, destroy, emulator, exec, execError, post, rawLogin } from './wire-helpers.ts';

let emu: Emulator;
let conn: Connection;

beforeAll(async () => {
  emu = await emulator({
    database: 'TESTDB',
    init: async (db, { createDatabase }) => {
      await createDatabase('TESTDB');
      await db.run(`CREATE TABLE "TESTDB"."PUBLIC"."TYPES" (
        N DECIMAL(38,0), D DECIMAL(10,2), I INTEGER, F DOUBLE, S VARCHAR, B BOOLEAN, DT DATE, TM TIME,
        TS TIMESTAMP, TZ TIMESTAMPTZ, BL BLOB, J JSON, ST STRUCT(a INTEGER, b VARCHAR), L INTEGER[],
        M MAP(VARCHAR, INTEGER), NUL INTEGER)`);
      await db.run(`INSERT INTO "TESTDB"."PUBLIC"."TYPES" VALUES (
        12345678901234567890123, 3.10, -7, 1.5, 'héllo "q"', true, DATE '2024-01-02', TIME '12:34:56.789',
        TIMESTAMP '2024-01-02 03:04:05.123456', TIMESTAMPTZ '2024-01-02 03:04:05+02', '\\xAB\\x01'::BLOB,
        '{"a":1,"n":[true,null]}', {'a': 1, 'b': 'q'}, [1, 2, NULL], MAP {'k': 1}, NULL)`);
      await db.run(`CREATE SCHEMA "TESTDB"."OTHER"`);
      await db.run(`CREATE TABLE "TESTDB"."OTHER"."ONLY_OTHER" AS SELECT 1 AS X`);
      await db.run(`CREATE TABLE "TESTDB"."PUBLIC"."OLD" (X DATE, Y TIMESTAMP)`);
      await db.run(`INSERT INTO "TESTDB"."PUBLIC"."OLD" VALUES (DATE '1969-12-31', TIMESTAMP '1969-12-31 23:59:58.5')`);
    },
  });
  conn = await connect(emu, { database: 'TESTDB', schema: 'PUBLIC' });
});
afterAll(async () => {
  if (conn) await destroy(conn);
  await emu?.close();
});

describe('types', () => {
  it('reports Snowflake rowtypes', async () => {
    const { stmt } = await exec(conn, 'SELECT * FROM TYPES');
    const types = Object.fromEntries(stmt.getColumns()!.map((c) => [c.getName(), c.getType()]));
    expect(types).toEqual({
      N: 'fixed', D: 'fixed', I: 'fixed', F: 'real', S: 'text', B: 'boolean', DT: 'date', TM: 'time',
      TS: 'timestamp_ntz', TZ: 'timestamp_ltz', BL: 'binary', J: 'variant', ST: 'object', L: 'array', M: 'object', NUL: 'fixed',
    });
    const d = stmt.getColumns()!.find((c) => c.getName() === 'D')!;
    expect([d.getPrecision(), d.getScale()]).toEqual([10, 2]);
  });

  it('round-trips every value through the driver', async () => {
    const { rows } = await exec(conn, 'SELECT * FROM TYPES');
    const row = rows[0]!;
    expect(row.D).toBe(3.1);
    expect(row.I).toBe(-7);
    expect(row.F).toBe(1.5);
    expect(row.S).toBe('héllo "q"');
    expect(row.B).toBe(true);
    expect((row.DT as Date).toISOString()).toBe('2024-01-02T00:00:00.000Z');
    expect(row.TM).toBe('12:34:56');
    expect((row.TS as Date).getTime()).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 123));
    expect((row.TZ as Date).getTime()).toBe(Date.UTC(2024, 0, 2, 1, 4, 5));
    expect(Buffer.from(row.BL as Uint8Array).toString('hex')).toBe('ab01');
    expect(row.J).toEqual({ a: 1, n: [true, null] });
    expect(row.ST).toEqual({ a: 1, b: 'q' });
    expect(row.L).toEqual([1, 2, null]);
    expect(row.M).toEqual({ k: 1 });
    expect(row.NUL).toBeNull();
  });

  it('keeps 38-digit numbers exact as strings', async () => {
    const { rows } = await exec(conn, 'SELECT N FROM TYPES', { fetchAsString: ['Number'] });
    expect(rows[0]!.N).toBe('12345678901234567890123');
  });

  it('encodes dates and timestamps before the epoch', async () => {
    const { rows } = await exec(conn, 'SELECT X, Y FROM OLD');
    expect((rows[0]!.X as Date).toISOString()).toBe('1969-12-31T00:00:00.000Z');
    expect((rows[0]!.Y as Date).getTime()).toBe(Date.UTC(1969, 11, 31, 23, 59, 58, 500));
  });

  it('sends output-format parameters, rowtype fields and a UUID query id with every result', async () => {
    const login = await rawLogin(emu);
    const { json } = await post(emu, '/queries/v1/query-request', { sqlText: 'SELECT I, S FROM TESTDB.PUBLIC.TYPES' }, { token: login.token });
    expect(json.success).toBe(true);
    const params = Object.fromEntries((json.data.parameters as { name: string; value: unknown }[]).map((p) => [p.name, p.value]));
    expect(params).toMatchObject({ BINARY_OUTPUT_FORMAT: 'HEX', DATE_OUTPUT_FORMAT: 'YYYY-MM-DD', TIMEZONE: 'UTC' });
    expect(json.data.queryId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(json.data.rowtype[0]).toEqual(
      expect.objectContaining({ name: 'I', type: 'fixed', precision: 38, scale: 0, nullable: true, database: expect.any(String), schema: expect.any(String), table: expect.any(String) }),
    );
    expect(json.data.rowtype[1]).toEqual(expect.objectContaining({ name: 'S', type: 'text', length: 16777216, byteLength: 16777216 }));
    expect(json.data.rowset).toEqual([['-7', 'héllo "q"']]);
    expect(json.data.statementTypeId).toBe(0x1000);
  });
});

describe('DML and DDL', () => {
  it('returns a status row for DDL and update counts for DML', async () => {
    const created = await exec(conn, 'CREATE TABLE PEOPLE (N INTEGER, S VARCHAR)');
    expect(created.rows).toEqual([{ status: 'Table PEOPLE successfully created.' }]);

    const ins = await exec(conn, "INSERT INTO PEOPLE (N, S) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    expect(ins.stmt.getNumUpdatedRows()).toBe(3);
    const upd = await exec(conn, "UPDATE PEOPLE SET S = 'z' WHERE N > 1");
    expect(upd.stmt.getNumUpdatedRows()).toBe(2);
    const del = await exec(conn, 'DELETE FROM PEOPLE WHERE N = 1');
    expect(del.stmt.getNumUpdatedRows()).toBe(1);

    const { rows } = await exec(conn, 'SELECT N, S FROM PEOPLE ORDER BY N');
    expect(rows).toEqual([{ N: 2, S: 'z' }, { N: 3, S: 'z' }]);

    const dropped = await exec(conn, 'DROP TABLE PEOPLE');
    expect(dropped.rows).toEqual([{ status: 'PEOPLE successfully dropped.' }]);
  });

  it('binds ? and :1 placeholders, including array binds', async () => {
    await exec(conn, 'CREATE TABLE BOUND (N INTEGER, S VARCHAR)');
    const one = await exec(conn, 'INSERT INTO BOUND (N, S) VALUES (?, ?)', { binds: [10, 'ten'] });
    expect(one.stmt.getNumUpdatedRows()).toBe(1);
    const many = await exec(conn, 'INSERT INTO BOUND (N, S) VALUES (?, ?)', { binds: [[20, 'twenty'], [21, 'twenty-one']] });
    expect(many.stmt.getNumUpdatedRows()).toBe(2);
    const { rows } = await exec(conn, 'SELECT S FROM BOUND WHERE N = :1 OR N = :2 ORDER BY N', { binds: [10, 21] });
    expect(rows).toEqual([{ S: 'ten' }, { S: 'twenty-one' }]);
    await exec(conn, 'DROP TABLE BOUND');
  });
});

describe('errors', () => {
  it('raises a coded Snowflake error for an unknown table', async () => {
    const err = await execError(conn, 'SELECT * FROM NO_SUCH_TABLE');
    expect(err.code).toBe('002003');
    expect(err.sqlState).toBe('42S02');
    expect(err.message).toMatch(/NO_SUCH_TABLE/i);
  });

  it('puts code, sqlState and queryId in the HTTP 200 envelope', async () => {
    const login = await rawLogin(emu);
    const r = await post(emu, '/queries/v1/query-request', { sqlText: 'SELECT * FROM NO_SUCH_TABLE' }, { token: login.token });
    expect(r.status).toBe(200);
    expect(r.json.success).toBe(false);
    expect(r.json.code).toMatch(/^\d{6}$/);
    expect(r.json.data).toMatchObject({ errorCode: r.json.code, sqlState: expect.stringMatching(/^[0-9A-Z]{5}$/) });
    expect(r.json.data.queryId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an empty statement with a compilation error', async () => {
    const login = await rawLogin(emu);
    const r = await post(emu, '/queries/v1/query-request', { sqlText: '  ' }, { token: login.token });
    expect(r.json).toMatchObject({ success: false, code: '000900' });
  });

  it('keeps working after an error on the same connection', async () => {
    await execError(conn, 'SELECT * FROM NO_SUCH_TABLE');
    expect((await exec(conn, 'SELECT 5 AS FIVE')).rows).toEqual([{ FIVE: 5 }]);
  });
});

describe('sessions', () => {
  it('keeps the current schema per session', async () => {
    const other = await connect(emu, { database: 'TESTDB', schema: 'PUBLIC' });
    try {
      await exec(other, 'USE SCHEMA OTHER');
      expect((await exec(other, 'SELECT X FROM ONLY_OTHER')).rows).toEqual([{ X: 1 }]);
      const err = await execError(conn, 'SELECT X FROM ONLY_OTHER');
      expect(err.code).toBe('002003');
      const { stmt } = await exec(other, 'SELECT 1 AS ONE');
      // getSessionState() is typed as `object` by the driver.
      const state = stmt.getSessionState() as { getCurrentSchema(): string } | undefined;
      expect(state?.getCurrentSchema()).toBe('OTHER');
    } finally {
      await destroy(other);
    }
  });

  it('refuses USE of a missing schema with 002043 and keeps the old one', async () => {
    const err = await execError(conn, 'USE SCHEMA NOPE');
    expect(err.code).toBe('002043');
    expect((await exec(conn, 'SELECT I FROM TYPES')).rows).toEqual([{ I: -7 }]);
  });

  it('accepts ALTER SESSION SET QUERY_TAG and reports it in parameters', async () => {
    const login = await rawLogin(emu);
    const set = await post(emu, '/queries/v1/query-request', { sqlText: "ALTER SESSION SET QUERY_TAG = 'airlock:test'" }, { token: login.token });
    expect(set.json).toMatchObject({ success: true, data: { rowset: [['Statement executed successfully.']] } });
    const after = await post(emu, '/queries/v1/query-request', { sqlText: 'SELECT 1' }, { token: login.token });
    const params = Object.fromEntries((after.json.data.parameters as { name: string; value: unknown }[]).map((p) => [p.name, p.value]));
    expect(params.QUERY_TAG).toBe('airlock:test');
  });

  it('answers the same 3-row select the same way, call after call, on one warm connection', async () => {
    // Timing lives in the bench (npm run bench: the direct-driver row); here only that repeated calls stay correct.
    for (let i = 0; i < 20; i++) {
      const { rows } = await exec(conn, 'SELECT * FROM (VALUES (1), (2), (3)) AS V(X)');
      expect(rows).toEqual([{ X: 1 }, { X: 2 }, { X: 3 }]);
    }
  });
});
