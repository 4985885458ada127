/**
 * Rowtype `database` / `schema` / `table` on the wire. The SQL layer's
 * `columnOrigins` feed them; snowflake-sdk does not expose these fields, so
 * this suite logs in and queries over raw HTTP against a demo-seeded emulator.
 * Unknown origins are empty strings, as Snowflake sends for computed columns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/server.ts';
import { emulator, post, rawLogin } from './wire-helpers.ts';

type Origin = [database: string, schema: string, table: string];

const CUSTOMERS: Origin = ['ANALYTICS', 'PUBLIC', 'CUSTOMERS'];
const ORDERS: Origin = ['ANALYTICS', 'PUBLIC', 'ORDERS'];
const EMPLOYEES: Origin = ['HR', 'CORE', 'EMPLOYEES'];
const NONE: Origin = ['', '', ''];

const CUSTOMER_COLUMNS = [
  'CUSTOMER_ID', 'FIRST_NAME', 'LAST_NAME', 'EMAIL', 'SSN', 'CARD_NUMBER', 'PHONE', 'STREET_ADDRESS', 'CITY',
  'STATE', 'ZIP', 'DATE_OF_BIRTH', 'CREATED_AT', 'NOTES', 'PROFILE', 'SEGMENT', 'LIFETIME_VALUE',
];
const ORDER_COLUMNS = [
  'ORDER_ID', 'CUSTOMER_ID', 'ORDER_DATE', 'STATUS', 'AMOUNT', 'CURRENCY', 'SHIPPING_ADDRESS', 'ITEMS', 'CREATED_AT',
];
const EMPLOYEE_COLUMNS = [
  'EMPLOYEE_ID', 'FULL_NAME', 'EMAIL', 'SSN', 'SALARY', 'DEPARTMENT', 'TITLE', 'HIRE_DATE', 'MANAGER_ID', 'DATE_OF_BIRTH',
];

/** `[name, database, schema, table]` per column, for exact comparison. */
type Row = [name: string, ...Origin];
const cols = (names: string[], origin: Origin, except: string[] = []): Row[] =>
  names.filter((n) => !except.includes(n)).map((n) => [n, ...origin]);

let emu: Emulator;
let token: string;

beforeAll(async () => {
  emu = await emulator({ seed: 'demo' });
  token = (await rawLogin(emu)).token as string;
  expect(typeof token).toBe('string');
});
afterAll(() => emu?.close());

/** Run over raw HTTP (`Authorization: Snowflake Token="…"`) and return the rowtype as `[name, db, schema, table]`. */
async function rowtype(sqlText: string): Promise<Row[]> {
  const { status, json } = await post(emu, '/queries/v1/query-request', { sqlText }, { token });
  expect(status).toBe(200);
  if (!json.success) throw new Error(`${sqlText}: ${json.code} ${json.message}`);
  const rt = json.data.rowtype as { name: string; database: unknown; schema: unknown; table: unknown }[];
  for (const c of rt) {
    // Always present and always strings (never null/undefined), like Snowflake.
    expect(typeof c.database, `${c.name}.database`).toBe('string');
    expect(typeof c.schema, `${c.name}.schema`).toBe('string');
    expect(typeof c.table, `${c.name}.table`).toBe('string');
  }
  return rt.map((c) => [c.name, c.database as string, c.schema as string, c.table as string]);
}

describe('rowtype database/schema/table from columnOrigins', () => {
  it('plain columns of the current database and schema', async () => {
    expect(await rowtype('select first_name, email from customers')).toEqual([
      ['FIRST_NAME', ...CUSTOMERS],
      ['EMAIL', ...CUSTOMERS],
    ]);
  });

  it('qualified table with an alias, aliased column', async () => {
    expect(await rowtype('select c.ssn as x from analytics.public.customers c')).toEqual([['X', ...CUSTOMERS]]);
  });

  it('partly qualified and quoted names resolve to the same table', async () => {
    expect(await rowtype('select email from public.customers')).toEqual([['EMAIL', ...CUSTOMERS]]);
    expect(await rowtype('select "EMAIL" from "ANALYTICS"."PUBLIC"."CUSTOMERS"')).toEqual([['EMAIL', ...CUSTOMERS]]);
  });

  it('a join: qualified columns from both tables, and an unqualified one unique to one side', async () => {
    expect(
      await rowtype('select c.email, o.amount, status from customers c join orders o on o.customer_id = c.customer_id'),
    ).toEqual([
      ['EMAIL', ...CUSTOMERS],
      ['AMOUNT', ...ORDERS],
      ['STATUS', ...ORDERS],
    ]);
  });

  it('a join across databases', async () => {
    expect(
      await rowtype('select c.email, e.full_name, salary from customers c join hr.core.employees e on e.email = c.email'),
    ).toEqual([
      ['EMAIL', ...CUSTOMERS],
      ['FULL_NAME', ...EMPLOYEES],
      ['SALARY', ...EMPLOYEES],
    ]);
  });

  it('select * from a table', async () => {
    expect(await rowtype('select * from hr.core.employees')).toEqual(cols(EMPLOYEE_COLUMNS, EMPLOYEES));
    expect(await rowtype('select * from customers limit 1')).toEqual(cols(CUSTOMER_COLUMNS, CUSTOMERS));
  });

  it('select * over a join, and t.* next to a column', async () => {
    expect(await rowtype('select * from customers c join orders o on o.customer_id = c.customer_id limit 0')).toEqual([
      // Repeated names (CUSTOMER_ID, CREATED_AT) are kept as they are, like Snowflake.
      ...cols(CUSTOMER_COLUMNS, CUSTOMERS),
      ...cols(ORDER_COLUMNS, ORDERS),
    ]);
    expect(await rowtype('select o.*, c.email from orders o join customers c on c.customer_id = o.customer_id limit 0')).toEqual([
      ...cols(ORDER_COLUMNS, ORDERS),
      ['EMAIL', ...CUSTOMERS],
    ]);
  });

  // Regression: `*` lists a USING / NATURAL join column once; the origins used
  // to be built from every column of every table, so everything after the
  // right-hand table was shifted by one (HR.CORE.EMPLOYEES.EMPLOYEE_ID was
  // labelled ANALYTICS.PUBLIC.CUSTOMERS).
  it('select * over USING and NATURAL joins stays aligned', async () => {
    const expected = (hiddenFromCustomers: string[]): Row[] => [
      ...cols(ORDER_COLUMNS, ORDERS),
      ...cols(CUSTOMER_COLUMNS, CUSTOMERS, hiddenFromCustomers),
      ...cols(EMPLOYEE_COLUMNS, EMPLOYEES),
    ];
    expect(
      await rowtype('select * from orders join customers using (customer_id) join hr.core.employees e on e.email = customers.email limit 0'),
    ).toEqual(expected(['CUSTOMER_ID']));
    expect(
      await rowtype('select * from orders natural join customers join hr.core.employees e on e.email = customers.email limit 0'),
    ).toEqual(expected(['CUSTOMER_ID', 'CREATED_AT']));
    // A qualified star keeps all of its table's columns, USING or not.
    expect(await rowtype('select e.*, c.* from customers c join hr.core.employees e using (email) limit 0')).toEqual([
      ...cols(EMPLOYEE_COLUMNS, EMPLOYEES),
      ...cols(CUSTOMER_COLUMNS, CUSTOMERS),
    ]);
  });

  it('expressions, literals and aggregates get empty strings (unknown origin)', async () => {
    expect(await rowtype("select lower(email), 1 as one, email || 'x', email from customers limit 1")).toEqual([
      ['LOWER(EMAIL)', ...NONE],
      ['ONE', ...NONE],
      ["EMAIL || 'X'", ...NONE],
      ['EMAIL', ...CUSTOMERS],
    ]);
    expect(await rowtype('select email, count(*) from customers group by email limit 1')).toEqual([
      ['EMAIL', ...CUSTOMERS],
      ['COUNT(*)', ...NONE],
    ]);
  });

  // Current behaviour, documented in docs/emulator.md (`columnOrigins`): CTE,
  // subquery and set-operation columns get no origin, even when they pass a
  // table column straight through. A base table joined in keeps its origin.
  it('CTEs, subqueries and set operations: no origin (current behaviour)', async () => {
    expect(await rowtype('with t as (select email from customers) select email from t')).toEqual([['EMAIL', ...NONE]]);
    expect(
      await rowtype('with t as (select email from customers) select t.email, c.ssn from t join customers c on c.email = t.email limit 0'),
    ).toEqual([
      ['EMAIL', ...NONE],
      ['SSN', ...CUSTOMERS],
    ]);
    expect(await rowtype('select email from (select email from customers)')).toEqual([['EMAIL', ...NONE]]);
    expect(await rowtype('select email from customers union all select email from hr.core.employees')).toEqual([
      ['EMAIL', ...NONE],
    ]);
  });

  it('a sampled table keeps its origin', async () => {
    expect(await rowtype('select email from customers sample (10 rows)')).toEqual([['EMAIL', ...CUSTOMERS]]);
  });

  it('an unqualified USING column is left unknown rather than guessed', async () => {
    expect(await rowtype('select email from customers c join hr.core.employees e using (email) limit 0')).toEqual([
      ['EMAIL', ...NONE],
    ]);
  });
});
