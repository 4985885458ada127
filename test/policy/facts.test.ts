import { describe, expect, it } from 'vitest';
import { classify } from '../../src/policy/classify.ts';
import { astFacts } from '../../src/policy/facts.ts';
import { lex } from '../../src/policy/lexer.ts';

const defaults = { database: 'ANALYTICS', schema: 'PUBLIC' };
function facts(sql: string) {
  const st = lex(sql).statements[0]!;
  return astFacts(st, sql, classify(st.tokens).kind, defaults);
}
const cols = (sql: string) => Object.fromEntries(facts(sql).columns.map((c) => [`${c.table}.${c.column}`, [...c.clauses].sort()]));

describe('tables are resolved with the default database and schema', () => {
  it.each([
    ['select a from customers', ['ANALYTICS.PUBLIC.CUSTOMERS']],
    ['select a from crm.customers', ['ANALYTICS.CRM.CUSTOMERS']],
    ['select a from hr.core.employees', ['HR.CORE.EMPLOYEES']],
    ['select a from "ANALYTICS"."PUBLIC"."ORDERS"', ['ANALYTICS.PUBLIC.ORDERS']],
    ['with c as (select a from orders) select a from c', ['ANALYTICS.PUBLIC.ORDERS']],
    ['select a from t1 join t2 on t1.id = t2.id', ['ANALYTICS.PUBLIC.T1', 'ANALYTICS.PUBLIC.T2']],
    ['select (select max(x) from inner_t) from outer_t', ['ANALYTICS.PUBLIC.INNER_T', 'ANALYTICS.PUBLIC.OUTER_T']],
    ['select a from t1 union all select a from t2', ['ANALYTICS.PUBLIC.T1', 'ANALYTICS.PUBLIC.T2']],
  ])('%j reads %j', (sql, tables) => {
    const f = facts(sql);
    expect(f.complete).toBe(true);
    expect([...f.reads].sort()).toEqual(tables);
  });

  it('a CTE name is not a table, even when it shadows one', () => {
    const f = facts('with customers as (select 1 as a) select a from customers');
    expect(f.reads).toEqual([]);
  });
});

describe('columns are attributed to tables, with the clause they appear in', () => {
  it('select list, WHERE, JOIN, GROUP BY, HAVING, ORDER BY, QUALIFY', () => {
    expect(
      cols(
        `select c.segment, count(o.order_id) from customers c join orders o on c.customer_id = o.customer_id
         where c.ssn like '123%' group by c.segment having max(o.amount) > 10
         qualify row_number() over (partition by c.phone order by o.order_date) = 1 order by c.email`,
      ),
    ).toEqual({
      'ANALYTICS.PUBLIC.CUSTOMERS.SEGMENT': ['group_by', 'select'],
      'ANALYTICS.PUBLIC.ORDERS.ORDER_ID': ['select'],
      'ANALYTICS.PUBLIC.CUSTOMERS.CUSTOMER_ID': ['join'],
      'ANALYTICS.PUBLIC.ORDERS.CUSTOMER_ID': ['join'],
      'ANALYTICS.PUBLIC.CUSTOMERS.SSN': ['where'],
      'ANALYTICS.PUBLIC.ORDERS.AMOUNT': ['having'],
      'ANALYTICS.PUBLIC.CUSTOMERS.EMAIL': ['order_by'],
      'ANALYTICS.PUBLIC.CUSTOMERS.PHONE': ['qualify'],
      'ANALYTICS.PUBLIC.ORDERS.ORDER_DATE': ['qualify'],
    });
  });

  it('through aliases, subqueries, CTEs and correlated references', () => {
    expect(cols('select x from (select ssn as x from customers) s')).toEqual({
      'ANALYTICS.PUBLIC.CUSTOMERS.SSN': ['select'],
      // `x` is the derived table's column: no base table owns it.
    });
    expect(cols('with a as (select email from customers) select a.email from a')).toEqual({ 'ANALYTICS.PUBLIC.CUSTOMERS.EMAIL': ['select'] });
    expect(cols('select 1 from orders o where exists (select 1 from customers c where c.customer_id = o.customer_id and c.ssn = \'1\')')).toEqual({
      'ANALYTICS.PUBLIC.CUSTOMERS.CUSTOMER_ID': ['where'],
      'ANALYTICS.PUBLIC.ORDERS.CUSTOMER_ID': ['where'],
      'ANALYTICS.PUBLIC.CUSTOMERS.SSN': ['where'],
    });
  });

  it('an unqualified column with several tables in scope counts for each (fail closed)', () => {
    expect(cols('select ssn from customers, orders')).toEqual({
      'ANALYTICS.PUBLIC.CUSTOMERS.SSN': ['select'],
      'ANALYTICS.PUBLIC.ORDERS.SSN': ['select'],
    });
  });

  it('a "quoted" name in the select list is a column, not a string', () => {
    expect(cols('select "SSN" from customers')).toEqual({ 'ANALYTICS.PUBLIC.CUSTOMERS.SSN': ['select'] });
  });

  it('records * and t.* per table', () => {
    expect(facts('select * from customers').stars).toEqual(['ANALYTICS.PUBLIC.CUSTOMERS']);
    expect(facts('select o.order_id, c.* from orders o join customers c on c.customer_id = o.customer_id').stars).toEqual(['ANALYTICS.PUBLIC.CUSTOMERS']);
    expect(facts('select count(*) from customers').stars).toEqual([]);
  });

  it('functions, LIMIT and TOP', () => {
    const f = facts("select lower(email), system$whoami(), my_udf(a), row_number() over (order by a) from t limit 5");
    expect(f.functions.sort()).toEqual(['LOWER', 'MY_UDF', 'ROW_NUMBER', 'SYSTEM$WHOAMI']);
    expect(f.hasLimit).toBe(true);
    expect(facts('select top 10 a from t').hasLimit).toBe(true);
    expect(facts('select a from t').hasLimit).toBe(false);
  });
});

describe('writes', () => {
  it('INSERT … SELECT writes the target and reads the source', () => {
    const f = facts('insert into analytics.archive.t (a) select ssn from customers');
    expect(f.writes).toEqual(['ANALYTICS.ARCHIVE.T']);
    expect(f.reads).toEqual(['ANALYTICS.PUBLIC.CUSTOMERS']);
  });

  it('UPDATE and DELETE know whether a WHERE is present', () => {
    expect(facts('update orders set status = 1 where order_id = 2')).toMatchObject({ writes: ['ANALYTICS.PUBLIC.ORDERS'], hasWhere: true });
    expect(facts('update orders set status = 1').hasWhere).toBe(false);
    expect(facts('delete from orders where order_id = 1')).toMatchObject({ writes: ['ANALYTICS.PUBLIC.ORDERS'], hasWhere: true, complete: true });
    expect(facts('delete from orders').hasWhere).toBe(false);
  });

  it('UPDATE … SET from a sensitive column counts as reading it', () => {
    expect(cols('update orders set shipping_address = ssn where order_id = 1')).toMatchObject({ 'ANALYTICS.PUBLIC.ORDERS.SSN': ['set'] });
  });

  it('CREATE TABLE AS SELECT and CREATE VIEW', () => {
    expect(facts('create table t2 as select ssn from customers')).toMatchObject({ writes: ['ANALYTICS.PUBLIC.T2'], reads: ['ANALYTICS.PUBLIC.CUSTOMERS'] });
    expect(facts('create view v as select email from customers')).toMatchObject({ writes: ['ANALYTICS.PUBLIC.V'], reads: ['ANALYTICS.PUBLIC.CUSTOMERS'] });
  });
});

describe('incomplete analysis is reported, never hidden', () => {
  it.each([
    'merge into t using s on t.id = s.id when matched then delete',
    'select * from t sample (10)',
    'select db.sch.fn(x) from t',
    'select x.a from t',
    'grant select on table t to role r',
    'copy into @s from t',
  ])('%j', (sql) => {
    const f = facts(sql);
    expect(f.complete).toBe(false);
    expect(f.gaps.length).toBeGreaterThan(0);
  });
});

describe('columns reached through * in derived tables and CTEs', () => {
  it('a column read from a `select *` subquery or CTE is traced to the base table', () => {
    expect(cols('select ssn from (select * from customers)')).toEqual({ 'ANALYTICS.PUBLIC.CUSTOMERS.SSN': ['select'] });
    expect(cols('with a as (select * from customers) select x.email from a x where x.phone = 1')).toEqual({
      'ANALYTICS.PUBLIC.CUSTOMERS.EMAIL': ['select'],
      'ANALYTICS.PUBLIC.CUSTOMERS.PHONE': ['where'],
    });
    expect(facts('select * from (select * from customers) s').stars).toEqual(['ANALYTICS.PUBLIC.CUSTOMERS']);
  });

  it('positional columns ($3) count as *', () => {
    expect(facts('select $3 from customers').stars).toEqual(['ANALYTICS.PUBLIC.CUSTOMERS']);
  });

  it('names with dots inside quotes stay one part', () => {
    expect(facts('select ssn from "a.b c"').columns).toEqual([{ table: 'ANALYTICS.PUBLIC."A.B C"', column: 'SSN', clauses: ['select'] }]);
  });

  it('a keyword the parser took for an alias (NATURAL JOIN) makes the statement incomplete', () => {
    expect(facts('select id from customers natural join leads').complete).toBe(false);
  });
});
