/**
 * TIMESTAMP_TZ through the real driver: columns declared TIMESTAMP_TZ and
 * casts to it come back as rowtype `timestamp_tz` ("secs.frac 1440+offset"),
 * with the exact instant and the session time zone's offset; TIMESTAMP_LTZ
 * columns keep `timestamp_ltz`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'snowflake-sdk';
import type { Emulator } from '../../src/emulator/server.ts';
import { connect, destroy, emulator, exec, post, rawLogin } from './wire-helpers.ts';

let emu: Emulator;
let conn: Connection;

/** 2024-01-02 03:04:05.123+02:00 as epoch milliseconds. */
const INSTANT = Date.UTC(2024, 0, 2, 1, 4, 5, 123);

beforeAll(async () => {
  emu = await emulator({
    database: 'TZDB',
    init: async (_db, { createDatabase }) => {
      await createDatabase('TZDB');
    },
  });
  conn = await connect(emu, { database: 'TZDB', schema: 'PUBLIC' });
  await exec(conn, 'CREATE TABLE events (id NUMBER, k TIMESTAMP_TZ, l TIMESTAMP_LTZ, "Quoted" timestamp with time zone)');
  await exec(conn, `INSERT INTO events VALUES (1, '2024-01-02 03:04:05.123+02:00', '2024-01-02 03:04:05.123+02:00', '2024-01-02 03:04:05.123+02:00')`);
});
afterAll(async () => {
  if (conn) await destroy(conn);
  await emu?.close();
});

function typeOf(stmt: Awaited<ReturnType<typeof exec>>['stmt'], name: string): { type: string; tz: boolean } {
  const col = stmt.getColumns()!.find((c) => c.getName() === name)!;
  return { type: col.getType(), tz: col.isTimestampTz() };
}

describe('TIMESTAMP_TZ columns', () => {
  it('come back as timestamp_tz with the exact instant', async () => {
    const { rows, stmt } = await exec(conn, 'SELECT id, k, l, "Quoted" FROM events');
    expect(typeOf(stmt, 'K')).toEqual({ type: 'timestamp_tz', tz: true });
    expect(typeOf(stmt, 'Quoted')).toEqual({ type: 'timestamp_tz', tz: true });
    expect((rows[0]!.K as Date).getTime()).toBe(INSTANT);
    expect((rows[0]!.Quoted as Date).getTime()).toBe(INSTANT);
  });

  it('keep TIMESTAMP_LTZ columns as timestamp_ltz', async () => {
    const { rows, stmt } = await exec(conn, 'SELECT l FROM events');
    expect(typeOf(stmt, 'L')).toEqual({ type: 'timestamp_ltz', tz: false });
    expect((rows[0]!.L as Date).getTime()).toBe(INSTANT);
  });

  it('are typed through SELECT *, aliases and qualified references', async () => {
    const star = await exec(conn, 'SELECT * FROM events');
    expect(star.stmt.getColumns()!.map((c) => c.getType())).toEqual(['fixed', 'timestamp_tz', 'timestamp_ltz', 'timestamp_tz']);
    const alias = await exec(conn, 'SELECT e.k AS kk FROM tzdb.public.events e');
    expect(typeOf(alias.stmt, 'KK').type).toBe('timestamp_tz');
  });

  it('encode the wire value as "secs.frac 1440+offset" with the session offset', async () => {
    const login = await rawLogin(emu);
    const run = (sqlText: string) => post(emu, '/queries/v1/query-request', { sqlText }, { token: login.token });
    await run('USE TZDB.PUBLIC');
    const utc = await run('SELECT k FROM events');
    expect(utc.json.data.rowtype[0].type).toBe('timestamp_tz');
    expect(utc.json.data.rowset).toEqual([[`${INSTANT / 1000}000000 1440`]]);
    await run("ALTER SESSION SET TIMEZONE = 'Asia/Kolkata'");
    const ist = await run('SELECT k FROM events');
    expect(ist.json.data.rowset).toEqual([[`${INSTANT / 1000}000000 ${1440 + 330}`]]);
  });

  it('are reported as TIMESTAMP_TZ(9) by DESCRIBE, SHOW COLUMNS and INFORMATION_SCHEMA', async () => {
    const d = await exec(conn, 'DESCRIBE TABLE events');
    expect(d.rows.map((r) => [r.name, r.type, r.comment])).toEqual([
      ['ID', 'NUMBER(38,0)', null],
      ['K', 'TIMESTAMP_TZ(9)', null],
      ['L', 'TIMESTAMP_LTZ(9)', null],
      ['Quoted', 'TIMESTAMP_TZ(9)', null],
    ]);
    const show = await exec(conn, 'SHOW COLUMNS IN TABLE events');
    expect(show.rows.map((r) => [r.column_name, JSON.parse(String(r.data_type)).type, r.comment])).toEqual([
      ['ID', 'FIXED', ''],
      ['K', 'TIMESTAMP_TZ', ''],
      ['L', 'TIMESTAMP_LTZ', ''],
      ['Quoted', 'TIMESTAMP_TZ', ''],
    ]);
    const info = await exec(
      conn,
      "SELECT column_name, data_type, comment FROM information_schema.columns WHERE table_name = 'EVENTS' ORDER BY ordinal_position",
    );
    expect(info.rows.map((r) => [r.COLUMN_NAME, r.DATA_TYPE, r.COMMENT])).toEqual([
      ['ID', 'NUMBER', null],
      ['K', 'TIMESTAMP_TZ', null],
      ['L', 'TIMESTAMP_LTZ', null],
      ['Quoted', 'TIMESTAMP_TZ', null],
    ]);
  });

  it('are recorded by ALTER TABLE ADD COLUMN too', async () => {
    await exec(conn, 'CREATE TABLE later (id NUMBER)');
    await exec(conn, 'ALTER TABLE later ADD COLUMN k TIMESTAMP_TZ');
    await exec(conn, "INSERT INTO later VALUES (1, '2024-01-02 01:04:05.123Z')");
    const { rows, stmt } = await exec(conn, 'SELECT k FROM later');
    expect(typeOf(stmt, 'K').type).toBe('timestamp_tz');
    expect((rows[0]!.K as Date).getTime()).toBe(INSTANT);
    const d = await exec(conn, 'DESC TABLE later');
    expect(d.rows.map((r) => r.type)).toEqual(['NUMBER(38,0)', 'TIMESTAMP_TZ(9)']);
  });

  it('are not re-marked by CREATE TABLE IF NOT EXISTS over an existing table', async () => {
    await exec(conn, 'CREATE TABLE keep (k TIMESTAMP_LTZ)');
    await exec(conn, 'CREATE TABLE IF NOT EXISTS keep (k TIMESTAMP_TZ)');
    const d = await exec(conn, 'DESC TABLE keep');
    expect(d.rows.map((r) => r.type)).toEqual(['TIMESTAMP_LTZ(9)']);
  });
});

describe('casts to TIMESTAMP_TZ', () => {
  it('type ::timestamp_tz, CAST and TO_TIMESTAMP_TZ as timestamp_tz', async () => {
    const { rows, stmt } = await exec(
      conn,
      `SELECT '2024-01-02 03:04:05.123+02:00'::timestamp_tz AS a,
              CAST('2024-01-02 03:04:05.123+02:00' AS TIMESTAMP_TZ) AS b,
              TO_TIMESTAMP_TZ('2024-01-02 03:04:05.123+02:00') AS c,
              '2024-01-02 03:04:05.123+02:00'::timestamp_ltz AS d,
              k::timestamp_ltz AS e
         FROM events`,
    );
    expect(stmt.getColumns()!.map((c) => [c.getName(), c.getType()])).toEqual([
      ['A', 'timestamp_tz'],
      ['B', 'timestamp_tz'],
      ['C', 'timestamp_tz'],
      ['D', 'timestamp_ltz'],
      ['E', 'timestamp_ltz'],
    ]);
    for (const key of ['A', 'B', 'C', 'D', 'E']) expect((rows[0]![key] as Date).getTime()).toBe(INSTANT);
  });
});
