/**
 * What the soundness issue (#11) exposed, answered as Snowflake answers it,
 * through the real snowflake-sdk against the emulator's demo data: tables
 * named by a string (TABLE('…'), TABLE($$…$$), IDENTIFIER('…')), IDENTIFIER
 * as a column, correlated columns in subqueries over derived tables, CTEs and
 * GENERATOR, OBJECT_CONSTRUCT(*), and a bare table alias used as a value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'snowflake-sdk';
import type { Emulator } from '../../src/emulator/server.ts';
import { connect, destroy, emulator, exec, execError, post, rawLogin } from './wire-helpers.ts';

let emu: Emulator;
let conn: Connection;
/** The first three customers by id, read by plain names. */
let first: Record<string, unknown>[];

beforeAll(async () => {
  emu = await emulator({ seed: 'demo' });
  conn = await connect(emu, { database: 'ANALYTICS', schema: 'PUBLIC' });
  first = (await exec(conn, 'select customer_id, ssn, email, notes, profile from customers order by customer_id limit 3')).rows;
});
afterAll(async () => {
  if (conn) await destroy(conn);
  await emu?.close();
});

const ssns = () => first.map((r) => r.SSN);

describe('tables named by a string', () => {
  it.each([
    "select ssn from table('CUSTOMERS') order by customer_id limit 3",
    "select ssn from table('customers') order by customer_id limit 3",
    "select ssn from table('PUBLIC.CUSTOMERS') order by customer_id limit 3",
    "select ssn from table('ANALYTICS.PUBLIC.CUSTOMERS') order by customer_id limit 3",
    'select ssn from table(\'"ANALYTICS"."PUBLIC"."CUSTOMERS"\') order by customer_id limit 3',
    'select ssn from table($$analytics.public.customers$$) order by customer_id limit 3',
    "select c.ssn from table('CUSTOMERS') as c order by c.customer_id limit 3",
    "select ssn from identifier('CUSTOMERS') order by customer_id limit 3",
    "select i.ssn from identifier('analytics.public.customers') i order by i.customer_id limit 3",
  ])('%s reads the table', async (sql) => {
    const { rows } = await exec(conn, sql);
    expect(rows.map((r) => r.SSN)).toEqual(ssns());
  });

  it('reports the named table as the origin of its columns (rowtype database/schema/table, raw HTTP)', async () => {
    const { token } = await rawLogin(emu);
    for (const sqlText of ["select ssn from table('CUSTOMERS')", "select c.ssn from identifier('analytics.public.customers') c", 'select ssn from table($$PUBLIC.CUSTOMERS$$)']) {
      const { json } = await post(emu, '/queries/v1/query-request', { sqlText }, { token });
      expect(json.success, sqlText).toBe(true);
      const col = json.data.rowtype[0];
      expect([col.name, col.database, col.schema, col.table], sqlText).toEqual(['SSN', 'ANALYTICS', 'PUBLIC', 'CUSTOMERS']);
    }
  });

  it('joins a table literal and reports the origin of its columns', async () => {
    const { rows } = await exec(
      conn,
      "select o.order_id, c.ssn from orders o join table('ANALYTICS.PUBLIC.CUSTOMERS') c on c.customer_id = o.customer_id where c.customer_id = 1 order by o.order_id limit 1",
    );
    expect(rows[0]!.SSN).toBe(ssns()[0]);
  });

  it('IDENTIFIER(…) names a column in the select list and in predicates', async () => {
    const { rows } = await exec(
      conn,
      "select identifier('SSN'), identifier('c.email') from customers c where identifier('customer_id') <= 3 order by identifier('c.customer_id')",
    );
    expect(rows.map((r) => r.SSN)).toEqual(ssns());
    expect(rows.map((r) => r.EMAIL)).toEqual(first.map((r) => r.EMAIL));
  });

  it('a missing table named by a string is 002003, a malformed name a syntax error', async () => {
    expect((await execError(conn, "select * from table('NO_SUCH_TABLE')")).code).toBe('002003');
    expect((await execError(conn, "select * from table('ANALYTICS.NOPE.CUSTOMERS')")).code).toBe('002003');
    expect((await execError(conn, "select * from table('not a name')")).code).toBe('001003');
    expect((await execError(conn, "select * from table('a.b.c.d')")).code).toBe('001003');
  });

  it('table functions the emulator has no faithful form of are refused, never guessed', async () => {
    for (const sql of [
      'select * from table(result_scan(last_query_id()))',
      "select * from table(flatten(input => parse_json('[1]')))",
      'select * from table(generator(timelimit => 1))',
      "insert into identifier('CUSTOMERS') (customer_id) values (1)",
    ]) {
      expect((await execError(conn, sql)).code, sql).toBe('002040');
    }
  });
});

describe('correlated columns in subqueries resolve to the outer table', () => {
  it.each([
    ['a derived table', 'select (select ssn from (select 1 as q) x) as s from customers order by customer_id limit 3'],
    ['a CTE', 'with k as (select 1 as q) select (select ssn from k) as s from customers order by customer_id limit 3'],
    ['GENERATOR', 'select (select ssn from table(generator(rowcount => 1))) as s from customers order by customer_id limit 3'],
    ['GENERATOR with an alias', 'select (select ssn from table(generator(rowcount => 1)) g) as s from customers order by customer_id limit 3'],
    ['a LATERAL subquery', 'select l.s from customers c, lateral (select ssn as s) l order by c.customer_id limit 3'],
  ])('in the select list, over %s', async (_label, sql) => {
    const { rows } = await exec(conn, sql);
    expect(rows.map((r) => r.S)).toEqual(ssns());
  });

  it('as predicate oracles: EXISTS, IN and WHERE over inner sources that lack the column', async () => {
    const target = String(ssns()[1]);
    const prefix = target.slice(0, 6);
    for (const sql of [
      `select customer_id from customers where exists (select 1 from (select 1 as q) where ssn like '${prefix}%') order by customer_id`,
      `with k as (select 1 as q) select customer_id from customers where exists (select 1 from k where ssn like '${prefix}%') order by customer_id`,
      `select customer_id from customers where 1 in (select 1 from table(generator(rowcount => 1)) where ssn like '${prefix}%') order by customer_id`,
    ]) {
      const { rows } = await exec(conn, sql);
      expect(rows.map((r) => r.CUSTOMER_ID), sql).toContain(first[1]!.CUSTOMER_ID);
    }
  });

  it('GENERATOR(ROWCOUNT => n) gives n rows', async () => {
    expect((await exec(conn, 'select count(*) as n from table(generator(rowcount => 7))')).rows).toEqual([{ N: 7 }]);
  });
});

describe('a whole row as a value', () => {
  it('OBJECT_CONSTRUCT(*) and OBJECT_CONSTRUCT(c.*) build an object of every non-NULL column', async () => {
    const { rows } = await exec(conn, 'select object_construct(*) as a, object_construct(c.*) as b from customers c order by customer_id limit 1');
    const a = rows[0]!.A as Record<string, unknown>;
    expect(a.SSN).toBe(ssns()[0]);
    expect(a.CUSTOMER_ID).toBe(1);
    expect(Object.keys(a)).toContain('PROFILE');
    expect(rows[0]!.B).toEqual(a);
    const nulls = await exec(conn, 'select object_construct(*) as o from (select 1 as x, null as y)');
    expect(nulls.rows[0]!.O).toEqual({ X: 1 });
  });

  it('ARRAY_AGG packs a column into one array, skipping NULLs as Snowflake does', async () => {
    const { rows } = await exec(conn, 'select array_agg(ssn) as a, array_agg(distinct segment) as s from (select * from customers order by customer_id limit 3)');
    expect(rows[0]!.A).toEqual(ssns());
    expect((await exec(conn, 'select array_agg(x) as a from (select null as x)')).rows[0]!.A).toEqual([]);
    expect((await execError(conn, 'select array_agg(ssn) over () from customers')).code).toBe('002040');
  });

  it('c::varchar and TO_JSON(c) give the row (DuckDB row-as-struct; see docs/emulator.md)', async () => {
    const { rows } = await exec(conn, 'select c::varchar as v, to_json(c) as j from customers c order by customer_id limit 1');
    expect(String(rows[0]!.V)).toContain(String(ssns()[0]));
    expect(String(rows[0]!.J)).toContain(String(ssns()[0]));
  });
});
