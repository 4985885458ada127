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
