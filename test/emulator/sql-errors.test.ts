/**
 * Errors: DuckDB failures map to Snowflake codes, and SQL the emulator cannot
 * run faithfully is refused with 002040 instead of answered differently.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapDuckDbError, translate, warmUp } from '../../src/emulator/sql/translate.ts';
import { openFixture, type Fixture } from './sql-helpers.ts';

let fx: Fixture;

beforeAll(async () => {
  await warmUp();
  fx = await openFixture();
});
afterAll(() => fx.close());

describe('DuckDB errors → Snowflake codes (from real DuckDB messages)', () => {
  it.each([
    ['select * from nope', '002003', '42S02', "SQL compilation error:\nObject 'NOPE' does not exist or not authorized."],
    ['select * from analytics.nope.t', '002003', '02000', undefined],
    ['select * from nodb.public.t', '002003', '02000', undefined],
    ['select nope from t', '000904', '42000', undefined],
    ['select t.nope from t', '000904', '42000', undefined],
    ["select 'abc'::number", '100038', '22018', "Numeric value 'abc' is not recognized"],
    ["select 'abc'::int + 1", '100038', '22018', "Numeric value 'abc' is not recognized"],
    ['select 1/0', '100051', '22012', 'Division by zero'],
    ['select a / (a - a) from t', '100051', '22012', 'Division by zero'],
    ["select 'x'::date", '100040', '22007', undefined],
    ["select parse_json('{bad')", '100069', '22P02', undefined],
    ['select no_such_fn(1)', '002140', '42601', 'SQL compilation error:\nUnknown function NO_SUCH_FN'],
    ['create table t (a int)', '002002', '42710', undefined],
  ])('%s → %s', async (sql, code, sqlState, message) => {
    const r = await fx.run(sql);
    expect(r.error).toMatchObject({ code, sqlState });
    if (message !== undefined) expect(r.error?.message).toBe(message);
  });

  it('parser errors are 001003', () => {
    expect(mapDuckDbError('Parser Error: syntax error at or near "frm"\n\nLINE 1: select 1 frm x\n                 ^')).toEqual({
      code: '001003',
      sqlState: '42000',
      message: "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'frm'.",
    });
  });

  it('values DuckDB quotes its own way are quoted as Snowflake quotes them (so the redaction tests see the real risk)', () => {
    expect(mapDuckDbError('Invalid Input Error: Could not parse string "ann@example.com" according to format specifier "%Y-%m-%d"')).toEqual({
      code: '100040',
      sqlState: '22007',
      message: "Can't parse 'ann@example.com' as timestamp with format '%Y-%m-%d'",
    });
    expect(mapDuckDbError('Conversion Error: Failed to cast value to decimal: "ann@example.com"')).toEqual({
      code: '100038',
      sqlState: '22018',
      message: 'Failed to cast variant value "ann@example.com" to FIXED',
    });
  });

  it('anything else is a generic execution error without DuckDB class prefix', () => {
    expect(mapDuckDbError('Out of Range Error: Overflow in multiplication of INT32 (2 * 3)!')).toEqual({
      code: '100090',
      sqlState: '22000',
      message: 'Overflow in multiplication of INT32 (2 * 3)!',
    });
  });
});

describe('translate-time errors', () => {
  it.each([
    ['selec 1', '001003'],
    ["select 'unterminated", '001003'],
    ['', '000900'],
    ['  -- just a comment', '000900'],
    ['select 1; select 2', '000008'],
  ])('%j → %s', (sql, code) => {
    const t = translate(sql, fx.ctx);
    expect(t.kind === 'error' && t.error.code).toBe(code);
  });
});

describe('refused: unsupported in the emulator (002040 / 0A000)', () => {
  it.each([
    'call my_proc(1)',
    'create procedure p() returns int language sql as $$ select 1 $$',
    "copy into t from @stage/file.csv",
    "put file:///tmp/x.csv @stage",
    'get @stage/x.csv file:///tmp/',
    'create stream s on table t',
    "create task tk warehouse = wh schedule = '1 minute' as select 1",
    'select * from t match_recognize (order by a pattern (x) define x as a > 0)',
    'select * from t at(offset => -60)',
    "select * from t before(statement => '8e5d0ca9-005e-44e6-b858-a8f5b37c5726')",
    'select * from t, lateral flatten(input => v:arr)',
    'select * from table(flatten(input => parse_json(\'[1]\')))',
    'create or replace database foo',
    'drop database analytics',
    'grant select on table t to role r',
    'set x = 1',
    'select $1 from @stage',
    "select to_char(a, '999,999.00') from t",
    'select random()',
    'select hash(a) from t',
    'select * exclude (a) from t',
    "select seq4() from table(generator(rowcount => 10))",
    'explain select 1',
    'show warehouses',
    'undrop table t',
    'create or replace schema s',
    'create temporary table tt (a int)',
    'select current_user()',
  ])('%s', (sql) => {
    const t = translate(sql, fx.ctx);
    expect(t.kind).toBe('error');
    if (t.kind === 'error') {
      expect(t.error.code).toBe('002040');
      expect(t.error.sqlState).toBe('0A000');
      expect(t.error.message).toMatch(/unsupported in the emulator: /);
    }
  });

  it('CURRENT_USER/ROLE/WAREHOUSE answer when the session knows them', async () => {
    const ctx = { ...fx.ctx, user: 'AGENT', role: 'ANALYST', warehouse: 'COMPUTE_WH' };
    const r = await fx.run('select current_user(), current_role(), current_warehouse()', ctx);
    expect(r.rows).toEqual([['AGENT', 'ANALYST', 'COMPUTE_WH']]);
  });

  it('casting to VARIANT wraps the value rather than parsing it', async () => {
    expect((await fx.run("select 'x'::variant, 1::variant, v::variant is not null from t where a = 1")).rows).toEqual([['"x"', '1', true]]);
  });
});
