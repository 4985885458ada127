import { describe, expect, it } from 'vitest';
import { alignLineage, selectLineage, type OutputLineage } from '../../src/masking/lineage.ts';

const d = { database: 'ANALYTICS', schema: 'PUBLIC' };
const C = 'ANALYTICS.PUBLIC.CUSTOMERS';
const lineage = (sql: string, columns: string[]) => alignLineage(selectLineage(sql, d), columns);
const brief = (l: OutputLineage | undefined) => (l ? `${l.kind}:${l.sources.join('+')}` : 'unknown');

describe('column lineage for masking', () => {
  it.each<[string, string[], string[]]>([
    ['select ssn as x from customers', ['X'], [`direct:${C}.SSN`]],
    ['select c.email from customers c', ['EMAIL'], [`direct:${C}.EMAIL`]],
    ['select "SSN" from customers', ['SSN'], [`direct:${C}.SSN`]],
    ['select lower(email) from customers', ['LOWER(EMAIL)'], [`derived:${C}.EMAIL`]],
    ["select concat(first_name, ' ', ssn) from customers", ['N'], [`derived:${C}.FIRST_NAME+${C}.SSN`]],
    ["select case when ssn is null then 'none' else ssn end from customers", ['X'], [`derived:${C}.SSN`]],
    ['select ssn::varchar, cast(phone as varchar) from customers', ['A', 'B'], [`derived:${C}.SSN`, `derived:${C}.PHONE`]],
    ['select count(ssn), count(distinct email) from customers', ['A', 'B'], [`count:${C}.SSN`, `count:${C}.EMAIL`]],
    ['select min(ssn), max(email), any_value(phone) from customers', ['A', 'B', 'C'], [`direct:${C}.SSN`, `direct:${C}.EMAIL`, `direct:${C}.PHONE`]],
    ["select listagg(ssn, ',') , array_agg(email) from customers", ['A', 'B'], [`derived:${C}.SSN`, `derived:${C}.EMAIL`]],
    ['select 1 as one, current_date() from customers', ['ONE', 'D'], ['constant:', 'constant:']],
    ['with a as (select ssn as s from customers) select s from a', ['S'], [`direct:${C}.SSN`]],
    ['select x.e from (select upper(email) as e from customers) x', ['E'], [`derived:${C}.EMAIL`]],
    ['with a as (select * from customers) select ssn from a', ['SSN'], [`direct:${C}.SSN`]],
    ['select (select max(ssn) from customers) as m', ['M'], [`derived:${C}.SSN`]],
  ])('%s', (sql, columns, expected) => {
    expect(lineage(sql, columns).map(brief)).toEqual(expected);
  });

  it('SELECT * and t.* expand by the result column names', () => {
    expect(lineage('select * from customers', ['CUSTOMER_ID', 'SSN']).map(brief)).toEqual([`direct:${C}.CUSTOMER_ID`, `direct:${C}.SSN`]);
    expect(lineage('select "createdAt", * from customers', ['createdAt', 'EMAIL', 'SSN']).map(brief)).toEqual([
      `direct:${C}.CREATEDAT`,
      `direct:${C}.EMAIL`,
      `direct:${C}.SSN`,
    ]);
    expect(lineage('select o.order_id, c.* from orders o join customers c on c.customer_id = o.customer_id', ['ORDER_ID', 'EMAIL']).map(brief)).toEqual([
      'direct:ANALYTICS.PUBLIC.ORDERS.ORDER_ID',
      `direct:${C}.EMAIL`,
    ]);
  });

  it('unknown when the SQL is not one readable SELECT, or the columns do not line up', () => {
    expect(lineage('select * from t sample (10)', ['A'])).toEqual([undefined]);
    expect(lineage('show tables', ['name'])).toEqual([undefined]);
    expect(lineage('select a, b from t', ['A'])).toEqual([undefined]);
  });
});

describe('column lineage under attack (issue 11): fail closed where Airlock cannot be sure', () => {
  const O = 'ANALYTICS.PUBLIC.ORDERS';
  it.each<[string, string[], string[]]>([
    // Correlation: an unqualified column in a subquery may be the outer table's.
    ['select (select max(notes) from orders) n from customers', ['N'], [`derived:${O}.NOTES+${C}.NOTES`]],
    ['select (select max(ssn) from (select 1 x)) s from customers', ['S'], [`derived:${C}.SSN`]],
    ['select (select max(ssn) from table(generator(rowcount => 1))) s from customers', ['S'], [`derived:${C}.SSN`]],
    // A bare alias used as a value is the whole row.
    // (and, as Airlock does not know the table's columns, also a column named C)
    ['select c::varchar from customers c', ['C'], [`derived:${C}.*+${C}.C`]],
    ['select to_json(c) j from customers c', ['J'], [`derived:${C}.*+${C}.C`]],
    // A JSON path into a column is a piece of it: derived, not the column itself.
    ['select c.profile:ssn p from customers c', ['P'], [`derived:${C}.PROFILE`]],
    ['select f.value:sku s from orders o, lateral flatten(input => o.items) f', ['S'], [`derived:${O}.ITEMS`]],
  ])('%s', (sql, columns, expected) => {
    expect(lineage(sql, columns).map(brief)).toEqual(expected);
  });

  it.each([
    "select replace(ssn, '-', '') from table('CUSTOMERS')",
    'select * from table($$ANALYTICS.PUBLIC.CUSTOMERS$$)',
    "select * from identifier('customers')",
    "select * from table(my_udtf('x'))",
    'select nope.x from customers',
  ])('lineage is unknown (never "constant") when a source cannot be resolved: %s', (sql) => {
    expect(selectLineage(sql, d).complete).toBe(false);
    expect(lineage(sql, ['A']).map(brief)).toEqual(['unknown']);
  });

  it('a select list nested past the stack is unknown lineage, not a crash', () => {
    const sql = `select ${'upper('.repeat(20_000)}ssn${')'.repeat(20_000)} from customers`;
    expect(() => selectLineage(sql, d)).not.toThrow();
    expect(selectLineage(sql, d).complete).toBe(false);
  });
});
