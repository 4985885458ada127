/**
 * The SQL layer end to end: Snowflake SQL → translate → a real DuckDB → exact
 * values, names and types.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translate, warmUp } from '../../src/emulator/sql/translate.ts';
import { openFixture, type Fixture } from './sql-helpers.ts';

let fx: Fixture;

beforeAll(async () => {
  await warmUp();
  fx = await openFixture();
});
afterAll(() => fx.close());

async function one(sql: string): Promise<unknown[]> {
  const r = await fx.run(sql);
  if (r.error) throw new Error(`${sql}: ${r.error.code} ${r.error.message}`);
  return r.rows[0]!;
}

describe('functions', () => {
  const cases: [string, unknown][] = [
    ["SELECT IFF(a > 1, 'x', 'y') FROM t WHERE a = 1", 'y'],
    ['SELECT NVL(d, DATE \'2000-01-01\') FROM t WHERE a = 2', '2000-01-01'],
    ['SELECT NVL2(d, 1, 2) FROM t WHERE a = 2', 2],
    ['SELECT ZEROIFNULL(NULL)', 0],
    ['SELECT DIV0(a, 0) FROM t WHERE a = 1', 0],
    ['SELECT DIV0(10, 4)', 2.5],
    ['SELECT DATEADD(day, 3, d) FROM t WHERE a = 1', '2024-02-03 00:00:00'],
    ["SELECT DATEADD(day, 3, TO_DATE('2024-01-31'))", '2024-02-03'],
    ["SELECT DATEADD('month', 1, ts) FROM t WHERE a = 1", '2024-02-29 10:20:30'],
    ['SELECT DATEADD(hour, -2, ts) FROM t WHERE a = 1', '2024-01-31 08:20:30'],
    ["SELECT DATEADD(quarter, 1, '2024-01-15'::date)", '2024-04-15'],
    ["SELECT DATEDIFF(day, d, '2024-03-01') FROM t WHERE a = 1", '30'],
    ["SELECT DATEDIFF('hour', ts, '2024-02-01 00:00:00'::timestamp_ntz) FROM t WHERE a = 1", '14'],
    ["SELECT DATEDIFF(month, '2024-01-31'::date, '2024-02-01'::date)", '1'],
    ["SELECT TO_VARCHAR(d, 'YYYY-MM-DD') FROM t WHERE a = 1", '2024-01-31'],
    ["SELECT TO_CHAR(ts, 'YYYY-MM-DD HH24:MI:SS') FROM t WHERE a = 1", '2024-01-31 10:20:30'],
    ["SELECT TO_CHAR(ts, 'DD/MM/YY HH12:MI AM') FROM t WHERE a = 1", '31/01/24 10:20 AM'],
    ["SELECT TO_CHAR(d, 'MON DD, YYYY') FROM t WHERE a = 1", 'Jan 31, 2024'],
    ['SELECT TO_VARCHAR(a) FROM t WHERE a = 1', '1'],
    ["SELECT TO_DATE('2024-01-05')", '2024-01-05'],
    ["SELECT TO_DATE('05/01/2024', 'DD/MM/YYYY')", '2024-01-05'],
    ["SELECT TO_TIMESTAMP('2024-01-01 10:00:00')", '2024-01-01 10:00:00'],
    ["SELECT TO_TIMESTAMP_NTZ('2024-01-01')", '2024-01-01 00:00:00'],
    ["SELECT TO_TIMESTAMP('2024-03-04 05:06', 'YYYY-MM-DD HH24:MI')", '2024-03-04 05:06:00'],
    ['SELECT TO_TIMESTAMP(1700000000)', '2023-11-14 22:13:20'],
    ["SELECT TO_TIMESTAMP_LTZ('2024-01-01 10:00:00')", '2024-01-01 10:00:00+00'],
    ["SELECT TO_TIMESTAMP_TZ('2024-01-01 10:00:00+02:00')", '2024-01-01 08:00:00+00'],
    ['SELECT CURRENT_TIMESTAMP() IS NOT NULL', true],
    ['SELECT ARRAY_SIZE(v:arr) FROM t WHERE a = 1', '3'],
    ["SELECT ARRAY_SIZE(ARRAY_CONSTRUCT(1, 2, 'x'))", '3'],
    ["SELECT ARRAY_CONSTRUCT(1, 'a', NULL)", '[1,"a",null]'],
    ["SELECT OBJECT_CONSTRUCT('a', 1, 'b', 'x')", '{"a":1,"b":"x"}'],
    ["SELECT OBJECT_CONSTRUCT('a', 1, 'b', NULL, 'c', name) FROM t WHERE a = 1", '{"a":1,"c":"bob"}'],
    ['SELECT PARSE_JSON(\'{"x":[1,2]}\'):x[1]', '2'],
    ['SELECT v:a.b FROM t WHERE a = 1', '"gold"'],
    ['SELECT v:a.b::string FROM t WHERE a = 1', 'gold'],
    ['SELECT v:arr[0]::number + 1 FROM t WHERE a = 1', '2'],
    ['SELECT v:phones[0]::varchar FROM t WHERE a = 1', '+1-415-555-0100'],
    ["SELECT v['tier'] FROM t WHERE a = 1", '"gold"'],
    ["SELECT GET_PATH(v, 'a.b') FROM t WHERE a = 1", '"gold"'],
    ["SELECT name FROM t WHERE v:tier = 'gold'", 'bob'],
    ['SELECT name FROM t WHERE v:n > 4', 'bob'],
    ["SELECT LISTAGG(name, ', ') WITHIN GROUP (ORDER BY name) FROM t", 'al, bob'],
    ['SELECT LISTAGG(name) WITHIN GROUP (ORDER BY name DESC) FROM t', 'bobal'],
    ["SELECT COUNT(*) FROM t WHERE name ILIKE 'BO%'", '1'],
    ['SELECT 7 / 2', 3.5],
    ["SELECT '42'::number(10,2)", '42.00'],
    ["SELECT 'x'::variant", '"x"'],
    ['SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()', 'ANALYTICS'],
  ];
  it.each(cases)('%s', async (sql, expected) => {
    expect((await one(sql))[0]).toEqual(expected);
  });

  it('TOP n, QUALIFY and ORDER BY keep Snowflake semantics (NULLs first when descending)', async () => {
    expect((await fx.run('SELECT TOP 1 name FROM t ORDER BY d DESC')).rows).toEqual([['al']]);
    expect((await fx.run('SELECT a, ROW_NUMBER() OVER (ORDER BY a DESC) rn FROM t QUALIFY rn = 1')).rows).toEqual([['2', '1']]);
  });

  it('SAMPLE by rows gives exactly n rows; by percent gives a subset', async () => {
    expect((await fx.run('SELECT COUNT(*) FROM t SAMPLE (1 ROWS)')).rows).toEqual([['1']]);
    expect((await fx.run('SELECT COUNT(*) FROM t TABLESAMPLE (5 ROWS)')).rows).toEqual([['2']]);
    expect((await fx.run('SELECT COUNT(*) FROM t SAMPLE (100)')).rows).toEqual([['2']]);
    expect((await fx.run('SELECT COUNT(*) FROM t SAMPLE BERNOULLI (0)')).rows).toEqual([['0']]);
    expect((await fx.run('SELECT COUNT(*) FROM t SAMPLE SYSTEM (100)')).rows).toEqual([['2']]);
  });
});

describe('identifiers and output names', () => {
  it('folds unquoted identifiers and keeps quoted case', async () => {
    const r = await fx.run('select a, Name, "createdAt" from t where a = 1');
    expect(r.columns).toEqual(['A', 'NAME', 'createdAt']);
    expect(r.rows).toEqual([['1', 'bob', '7']]);
  });

  it('names aliases and expressions the Snowflake way', async () => {
    const r = await fx.run('select 1 as x, "y" , count(*), sum(a) total, a + 1 from t group by a order by a limit 1'.replace('"y" ,', "'y' ,"));
    expect(r.columns).toEqual(['X', "'Y'", 'COUNT(*)', 'TOTAL', 'A + 1']);
  });

  it('resolves unqualified and partly qualified names against the session', async () => {
    const a = translate('select * from t', fx.ctx);
    const b = translate('select * from public.t', fx.ctx);
    const c = translate('select * from hr.public.x', fx.ctx);
    expect(a.kind === 'duckdb' && a.sql).toBe('SELECT * FROM "ANALYTICS"."PUBLIC"."T"');
    expect(b.kind === 'duckdb' && b.sql).toBe('SELECT * FROM "ANALYTICS"."PUBLIC"."T"');
    expect(c.kind === 'duckdb' && c.sql).toBe('SELECT * FROM "HR"."PUBLIC"."X"');
  });

  it('leaves CTE names unqualified', async () => {
    const r = await fx.run('with x as (select a from t) select count(*) as n from x');
    expect(r.rows).toEqual([['2']]);
  });
});

describe('DDL and DML', () => {
  it('maps Snowflake types in CREATE TABLE and reports them back', async () => {
    const create = await fx.run(
      'create or replace table typed (a number(10,2), b number, c varchar(20), d string, e float, f boolean, g date, h time, i timestamp_ntz, j timestamp_ltz, k timestamp_tz, l binary, m variant, n object, o array, p int)',
    );
    expect(create.error).toBeUndefined();
    expect(create.translation.kind === 'duckdb' && create.translation.statementType).toBe('ddl');
    const d = await fx.run('describe table typed');
    expect(d.columns.slice(0, 5)).toEqual(['name', 'type', 'kind', 'null?', 'default']);
    expect(d.rows.map((r) => r[1])).toEqual([
      'NUMBER(10,2)', 'NUMBER(38,0)', 'VARCHAR(16777216)', 'VARCHAR(16777216)', 'FLOAT', 'BOOLEAN', 'DATE', 'TIME(9)',
      'TIMESTAMP_NTZ(9)', 'TIMESTAMP_LTZ(9)', 'TIMESTAMP_TZ(9)', 'BINARY(8388608)', 'VARIANT', 'VARIANT', 'VARIANT',
      'NUMBER(38,0)',
    ]);
  });

  it.each([
    ["insert into typed (a, c) values (1.5, 'q')", 'insert', [['1']]],
    ["update typed set c = 'z' where a > 1", 'update', [['1']]],
    ['delete from typed where a = 1.5', 'delete', [['1']]],
    ['drop table typed', 'ddl', []],
  ] as const)('%s', async (sql, type, rows) => {
    const r = await fx.run(sql);
    expect(r.error).toBeUndefined();
    expect(r.translation.kind === 'duckdb' && r.translation.statementType).toBe(type);
    expect(r.rows).toEqual(rows);
  });

  it('CREATE/DROP SCHEMA land in the current database; CREATE DATABASE becomes an ATTACH for the engine', async () => {
    expect((await fx.run('create schema if not exists staging')).error).toBeUndefined();
    expect((await fx.run('show schemas like \'STAG%\'')).rows.map((r) => r[1])).toEqual(['STAGING']);
    expect((await fx.run('drop schema staging')).error).toBeUndefined();
    expect(translate('create database foo', fx.ctx)).toMatchObject({ kind: 'duckdb', sql: `ATTACH ':memory:' AS "FOO"` });
    expect(translate('create database if not exists sales', fx.ctx)).toEqual({
      kind: 'duckdb',
      sql: `ATTACH IF NOT EXISTS ':memory:' AS "SALES"`,
      statementType: 'ddl',
    });
    expect(translate('drop database foo', fx.ctx).kind).toBe('error');
  });
});

describe('session statements', () => {
  it.each([
    ['use database hr', 'use', { database: 'HR', schema: 'PUBLIC' }],
    ['USE SCHEMA core', 'use', { schema: 'CORE' }],
    ['use schema hr.core', 'use', { database: 'HR', schema: 'CORE' }],
    ['use analytics.public', 'use', { database: 'ANALYTICS', schema: 'PUBLIC' }],
    ['use "MixedDb"', 'use', { database: 'MixedDb', schema: 'PUBLIC' }],
    ['use warehouse compute_wh', 'use', undefined],
    ['use role analyst', 'use', undefined],
    ["alter session set timezone = 'UTC'", 'set', undefined],
  ] as const)('%s', (sql, type, context) => {
    const t = translate(sql, fx.ctx);
    expect(t).toEqual({
      kind: 'result',
      statementType: type,
      columns: [{ name: 'status', type: 'text' }],
      rows: [['Statement executed successfully.']],
      ...(context ? { context } : {}),
    });
  });

  it.each([
    ['begin', 'BEGIN TRANSACTION'],
    ['start transaction', 'BEGIN TRANSACTION'],
    ['commit', 'COMMIT'],
    ['rollback', 'ROLLBACK'],
  ])('%s is a transaction statement', (sql, duck) => {
    expect(translate(sql, fx.ctx)).toEqual({ kind: 'duckdb', sql: duck, statementType: 'transaction' });
  });
});

describe('columnOrigins', () => {
  const T = { database: 'ANALYTICS', schema: 'PUBLIC', table: 'T' };
  const U = { database: 'HR', schema: 'CORE', table: 'U' };
  const origins = (sql: string, ctx = fx.ctx) => {
    const t = translate(sql, ctx);
    return t.kind === 'duckdb' ? t.columnOrigins : t;
  };
  it('plain columns, aliases, qualified names and expressions', () => {
    expect(origins('select a, c.name, c.a + 1, name as n, 1 from t c')).toEqual([T, T, null, T, null]);
  });
  it('joins resolve by qualifier; unqualified columns in joins need the schema lookup', () => {
    expect(origins('select c.a, u.x, y from t c join hr.core.u u on c.a = u.a')).toEqual([T, U, null]);
    const ctx = { ...fx.ctx, columnsOf: (_d: string, _s: string, t: string) => (t === 'T' ? ['A', 'NAME'] : ['X', 'Y']) };
    expect(origins('select c.a, u.x, y, * from t c join hr.core.u u on c.a = u.a', ctx)).toEqual([T, U, U, T, T, U, U]);
  });
  it('SELECT * without a schema lookup gives no origins rather than wrong ones', () => {
    expect(origins('select * from t')).toBeUndefined();
  });
});

describe('TIMESTAMP_TZ', () => {
  const types = (sql: string, ctx = fx.ctx) => {
    const t = translate(sql, ctx);
    return t.kind === 'duckdb' ? t.columnTypes : t;
  };
  it('CREATE TABLE / ALTER TABLE ADD COLUMN record declared TIMESTAMP_TZ columns as follow-up comments', () => {
    const t = translate('create table z (a timestamp_tz, b timestamp_ltz, "c" timestamptz, d timestamp_ntz)', fx.ctx);
    expect(t.kind === 'duckdb' && t.followUp).toEqual([
      `COMMENT ON COLUMN "ANALYTICS"."PUBLIC"."Z"."A" IS 'snowflake:TIMESTAMP_TZ'`,
      `COMMENT ON COLUMN "ANALYTICS"."PUBLIC"."Z"."c" IS 'snowflake:TIMESTAMP_TZ'`,
    ]);
    const a = translate('alter table hr.core.u add column k timestamp_tz', fx.ctx);
    expect(a.kind === 'duckdb' && a.followUp).toEqual([`COMMENT ON COLUMN "HR"."CORE"."U"."K" IS 'snowflake:TIMESTAMP_TZ'`]);
    const plain = translate('create table z2 (a timestamp_ltz)', fx.ctx);
    expect(plain.kind === 'duckdb' && plain.followUp).toBeUndefined();
  });
  it('columnTypes mark casts to TIMESTAMP_TZ and declared TIMESTAMP_TZ columns', () => {
    expect(types("select x::timestamp_tz, cast(x as timestamp_tz(3)), to_timestamp_tz(x), try_to_timestamp_tz(x), x::timestamp_ltz, 1 from t")).toEqual([
      'timestamp_tz', 'timestamp_tz', 'timestamp_tz', 'timestamp_tz', null, null,
    ]);
    expect(types('select a, x::timestamp_ltz from t')).toBeUndefined();
    const ctx = {
      ...fx.ctx,
      columnsOf: () => ['A', 'K'],
      declaredTypesOf: () => [null, 'TIMESTAMP_TZ'],
    };
    expect(types('select *, k, a, c.k as kk from t c', ctx)).toEqual([null, 'timestamp_tz', 'timestamp_tz', null, 'timestamp_tz']);
  });
});

describe('metadata', () => {
  it('SHOW TABLES has Snowflake columns', async () => {
    const r = await fx.run("show tables like 't' in schema analytics.public");
    expect(r.columns.slice(0, 11)).toEqual([
      'created_on', 'name', 'database_name', 'schema_name', 'kind', 'comment', 'cluster_by', 'rows', 'bytes', 'owner', 'retention_time',
    ]);
    expect(r.rows.map((x) => [x[1], x[2], x[3], x[4], x[7]])).toEqual([['T', 'ANALYTICS', 'PUBLIC', 'TABLE', '2']]);
    expect(r.types[0]).toBe('TIMESTAMP WITH TIME ZONE');
  });

  it('SHOW DATABASES / SCHEMAS / COLUMNS', async () => {
    const dbs = await fx.run('show databases');
    expect(dbs.rows.map((r) => [r[1], r[3]])).toEqual([['ANALYTICS', 'Y'], ['HR', 'N']]);
    const schemas = await fx.run('show schemas in database analytics');
    expect(schemas.rows.map((r) => [r[1], r[3]])).toEqual([['INFORMATION_SCHEMA', 'N'], ['PUBLIC', 'Y']]);
    const cols = await fx.run('show columns in table t');
    expect(cols.columns.slice(0, 4)).toEqual(['table_name', 'schema_name', 'column_name', 'data_type']);
    expect(cols.rows[0]!.slice(0, 5)).toEqual(['T', 'PUBLIC', 'A', '{"type":"FIXED","precision":38,"scale":0,"nullable":true}', 'true']);
  });

  it('DESCRIBE TABLE gives Snowflake type names; a missing table is 002003', async () => {
    const r = await fx.run('desc table analytics.public.t');
    expect(r.translation.kind === 'duckdb' && r.translation.statementType).toBe('describe');
    expect(r.columns).toEqual([
      'name', 'type', 'kind', 'null?', 'default', 'primary key', 'unique key', 'check', 'expression', 'comment', 'policy name', 'privacy domain',
    ]);
    expect(r.rows.map((x) => [x[0], x[1], x[3]])).toEqual([
      ['A', 'NUMBER(38,0)', 'Y'], ['NAME', 'VARCHAR(16777216)', 'Y'], ['D', 'DATE', 'Y'], ['TS', 'TIMESTAMP_NTZ(9)', 'Y'],
      ['V', 'VARIANT', 'Y'], ['createdAt', 'NUMBER(38,0)', 'Y'],
    ]);
    const missing = await fx.run('describe table nope');
    expect(missing.error).toMatchObject({ code: '002003', sqlState: '42S02' });
    expect((await fx.run('show tables in schema analytics.nope')).error?.code).toBe('002003');
  });

  it('INFORMATION_SCHEMA.COLUMNS and TABLES', async () => {
    const r = await fx.run(
      "select table_catalog, table_schema, table_name, column_name, data_type, ordinal_position, is_nullable, numeric_precision, numeric_scale, character_maximum_length from information_schema.columns where table_name = 'T' order by ordinal_position",
    );
    expect(r.rows).toEqual([
      ['ANALYTICS', 'PUBLIC', 'T', 'A', 'NUMBER', 1, 'YES', 38, 0, null],
      ['ANALYTICS', 'PUBLIC', 'T', 'NAME', 'TEXT', 2, 'YES', null, null, 16777216],
      ['ANALYTICS', 'PUBLIC', 'T', 'D', 'DATE', 3, 'YES', null, null, null],
      ['ANALYTICS', 'PUBLIC', 'T', 'TS', 'TIMESTAMP_NTZ', 4, 'YES', null, null, null],
      ['ANALYTICS', 'PUBLIC', 'T', 'V', 'VARIANT', 5, 'YES', null, null, null],
      ['ANALYTICS', 'PUBLIC', 'T', 'createdAt', 'NUMBER', 6, 'YES', 38, 0, null],
    ]);
    const t = await fx.run("select table_name, table_type, row_count from analytics.information_schema.tables where table_schema = 'PUBLIC'");
    expect(t.rows).toEqual([['T', 'BASE TABLE', '2']]);
  });
});
