/**
 * Red-team suite for the policy analysis (issue 11, classes 1, 2, 4 and 6), under
 * the SHIPPED policy: an attacker holding only an agent token tries to read
 * sensitive data through a statement the analysis misunderstands.
 *
 * Each class is many variants built from templates (sources × positions ×
 * rewrites), not one example. Every variant that touches sensitive data must
 * not be `allow`; cross-session objects must be `deny`; pathological SQL must be
 * refused with SQL_TOO_COMPLEX, never throw. The harmless reads agents need
 * stay `allow`, so soundness does not turn into "review everything".
 *
 * Pure: the engine is pure, so no Redis or warehouse is needed here; the same
 * classes run end to end in leak.e2e.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPLEXITY_LIMITS, createPolicyEngine } from '../../src/policy/engine.ts';
import { MAX_TREE_DEPTH } from '../../src/policy/facts.ts';
import { parsePolicy } from '../../src/policy/schema.ts';

const parsed = parsePolicy(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8'));
if (!parsed.ok) throw new Error(`policies/default.yaml is invalid: ${JSON.stringify(parsed.problems)}`);
const engine = createPolicyEngine(parsed.policy, { cacheSize: 0 });

/** Sensitive columns of the demo data, with the table that holds them. */
const CUSTOMER_COLUMNS = ['ssn', 'card_number', 'email', 'phone', 'first_name', 'last_name', 'street_address', 'date_of_birth', 'notes', 'profile'];
/** Rewrites that defeat value detectors: the analysis must see through all of them. */
const REWRITES = [
  (c: string) => c,
  (c: string) => `replace(${c}, '-', '')`,
  (c: string) => `reverse(${c})`,
  (c: string) => `translate(${c}, '0123456789', 'abcdefghij')`,
  (c: string) => `split(${c}, '-')`,
  (c: string) => `substr(${c}, 1, 3) || '/' || substr(${c}, 4)`,
  (c: string) => `listagg(${c}, ',')`,
  (c: string) => `array_agg(${c})`,
  (c: string) => `base64_encode(${c}::varchar)`,
  (c: string) => `hex_encode(${c}::string)`,
  (c: string) => `lower(to_varchar(${c}))`,
];

const decide = (sql: string) => engine.evaluate(sql);
const explain = (sql: string) => {
  const d = decide(sql);
  return `${d.action} ${d.reasons.map((r) => r.code).join(',')} for: ${sql}`;
};

describe('class 1: tables the parser does not see as tables', () => {
  const NAMES = [
    "'CUSTOMERS'", "'customers'", "'ANALYTICS.PUBLIC.CUSTOMERS'", "'analytics.public.customers'", "'PUBLIC.CUSTOMERS'",
    `'"ANALYTICS"."PUBLIC"."CUSTOMERS"'`, "' CUSTOMERS '", '$$CUSTOMERS$$', '$$analytics.public.customers$$', "'HR.CORE.EMPLOYEES'",
    "'Customers'", "'ANALYTICS.PUBLIC.' || 'CUSTOMERS'", "concat('CUST', 'OMERS')", "upper('customers')",
  ];
  const WRAPPERS = [
    (n: string) => `table(${n})`,
    (n: string) => `TABLE(${n})`,
    (n: string) => `TaBlE /* x */ (${n})`,
    (n: string) => `table\n(${n})`,
    (n: string) => `identifier(${n})`,
    (n: string) => `IDENTIFIER(${n})`,
    (n: string) => `table(identifier(${n}))`,
  ];
  const cases: string[] = [];
  for (const n of NAMES) {
    for (const w of WRAPPERS) {
      const src = w(n);
      cases.push(`select * from ${src}`);
      cases.push(`select * from ${src} limit 5`);
      cases.push(`select customer_id from ${src} t where t.customer_id < 10`);
      cases.push(`select o.order_id from orders o join ${src} c on c.customer_id = o.customer_id`);
      cases.push(`select order_id from orders where customer_id in (select customer_id from ${src})`);
      cases.push(`with x as (select * from ${src}) select count(*) from x`);
      cases.push(`select * from orders, ${src}`);
    }
  }
  for (const rw of REWRITES) {
    cases.push(`select ${rw('ssn')} from table('CUSTOMERS')`);
    cases.push(`select ${rw('email')} from table($$ANALYTICS.PUBLIC.CUSTOMERS$$) c`);
    cases.push(`select ${rw('salary::varchar')} from identifier('HR.CORE.EMPLOYEES')`);
  }
  // Columns named by a string, and unknown table functions.
  cases.push("select identifier('ssn') from orders", "select identifier('SSN') s from (select 1 x)", "select * from table(my_udtf('CUSTOMERS'))");
  cases.push("select * from table(analytics.public.read_table('CUSTOMERS'))", 'select * from table(infer_schema(location => 1))');

  it(`none of ${cases.length} variants is allowed, and each is incomplete`, () => {
    const bad = cases.filter((sql) => {
      const d = decide(sql);
      return d.action === 'allow' || d.complete !== false;
    });
    expect(bad.map(explain)).toEqual([]);
  });

  it('names what it could not resolve in gaps, and the table a string seems to name', () => {
    const d = decide("select replace(ssn, '-', '') from table('ANALYTICS.PUBLIC.CUSTOMERS')");
    expect(d.action).toBe('review');
    expect(d.statements[0]!.gaps!.join(' ')).toMatch(/TABLE\(…\)/);
    expect(d.statements[0]!.tables).toContain('ANALYTICS.PUBLIC.CUSTOMERS');
    expect(d.reasons.map((r) => r.code)).toContain('INCOMPLETE_ANALYSIS');
  });

  it('a qualified function is never taken for the built-in of the same name', () => {
    for (const sql of ['select mydb.util.upper(status) from orders', 'select util.lower(status) from orders limit 1']) {
      expect(decide(sql).action, sql).not.toBe('allow');
    }
  });
});

describe('class 2: column scoping in subqueries (correlation) and aliases as values', () => {
  const INNER = ['orders', 'orders o2', '(select 1 as x)', '(select order_id from orders) d', 'table(generator(rowcount => 1))', 'inner_cte', 'table(flatten(input => parse_json(\'[1]\')))'];
  /** `c` is the sensitive column, `i` the inner source, `o` the outer table that owns `c`. */
  const POSITIONS = [
    (c: string, i: string, o: string) => `select 1 k, (select max(${c}) from ${i}) from ${o}`,
    (c: string, i: string, o: string) => `select 1 from ${o} where exists (select 1 from ${i} where ${c} like '1%')`,
    (c: string, i: string, o: string) => `select 1 from ${o} where not exists (select 1 from ${i} where ${c} is null)`,
    (c: string, i: string, o: string) => `select 1 from ${o} where 1 in (select 1 from ${i} where ${c} = 'x')`,
    (c: string, i: string, o: string) => `select 1 from ${o} where 'x' = (select max(${c}) from ${i})`,
    (c: string, i: string, o: string) => `select 1 from ${o} order by (select max(${c}) from ${i})`,
    (c: string, i: string, o: string) => `select 1 from ${o} qualify (select count(*) from ${i} where ${c} like 'a%') > 0`,
    (c: string, i: string, o: string) => `select l.v from ${o}, lateral (select ${c} as v from ${i}) l`,
    (c: string, i: string, o: string) => `select 1 from ${o} group by 1 having max((select max(${c}) from ${i})) > 'm'`,
    (c: string, i: string, o: string) => `select 1 from ${o} t where exists (select 1 from ${i} where length(${c}) > 3)`,
    (c: string, i: string, o: string) => `select 1 from ${o} where exists (select 1 from ${i} where exists (select 1 from ${i} where ${c} > 'a'))`,
  ];
  const cases: string[] = [];
  const add = (c: string, i: string, o: string) => {
    for (const pos of POSITIONS) {
      const sql = pos(c, i, o);
      cases.push(i === 'inner_cte' ? `with inner_cte as (select 1 as x) ${sql}` : sql);
    }
  };
  for (const c of CUSTOMER_COLUMNS) for (const i of INNER) add(c, i, 'customers');
  // ORDERS.SHIPPING_ADDRESS and HR salaries from a subquery over another table.
  for (const i of ['customers', '(select 1 as x)', 'table(generator(rowcount => 1))']) add('shipping_address', i, 'orders');
  for (const i of ['orders', '(select 1 as x)']) add('salary', i, 'hr.core.employees');
  for (const rw of REWRITES) cases.push(`select order_id, (select ${rw('shipping_address')} from (select 1 x)) from orders`);

  it(`none of ${cases.length} correlated variants is allowed`, () => {
    const bad = cases.filter((sql) => decide(sql).action === 'allow');
    expect(bad.map(explain)).toEqual([]);
  });

  it('a correlated column is counted against the outer table, by name', () => {
    const d = decide("select customer_id from customers where exists (select 1 from orders where notes like 'VIP%')");
    expect(d.action).toBe('review');
    expect(d.statements[0]!.sensitive!.map((s) => s.name)).toContain('ANALYTICS.PUBLIC.CUSTOMERS.NOTES');
  });

  const ALIAS_AS_VALUE = [
    'select c::varchar from customers c limit 5',
    'select c::string from customers c',
    'select cast(c as varchar) from customers c',
    'select to_json(c) from customers c',
    'select to_varchar(c) from customers as c',
    'select array_construct(c) from customers c',
    'select hash(c) h, c from customers c',
    'select customers from customers',
    'select customers::varchar from analytics.public.customers',
    'select length(c::varchar) from customers c',
    "select order_id from orders o where exists (select 1 from customers c where c::varchar like '%@%')",
    'select x from (select c as x from customers c)',
    'select e::varchar from hr.core.employees e',
    'select o::varchar from orders o',
  ];
  it.each(ALIAS_AS_VALUE)('a table alias used as a value counts as alias.*: %s', (sql) => {
    const d = decide(sql);
    expect(d.action, explain(sql)).not.toBe('allow');
    expect(d.statements[0]!.flags).toContain('select_star');
  });
});

describe('class 1 and 2 continued: names Airlock resolves differently, syntax it does not walk', () => {
  const CASES = [
    // A CTE named like a table: in Snowflake a quoted lower-case name is another name, and a CTE
    // is not its own body's table, so these read the real CUSTOMERS.
    `with "customers" as (select customer_id, ssn from customers) select customer_id from "customers" where ssn like '189-43-%'`,
    `with "customers" as (select customer_id as id, card_number as x from customers) select "customers".id from "customers" where substr("customers".x, 1, 1) = '4'`,
    'with customers as (select notes from customers) select * from customers',
    'with recursive customers as (select notes from customers) select count(*) from customers',
    `with "CUSTOMERS" as (select * from customers) select ssn from customers`,
    `with c as (select customer_id, email from customers) select customer_id from c where email like '%@x.com'`,
    'with orders as (select shipping_address from orders) select count(*) from orders',
    // PIVOT / UNPIVOT name columns where the walker never looked.
    'select customer_id, k, v from customers unpivot (v for k in (first_name, last_name, ssn, street_address, notes, email))',
    "select k from orders unpivot (v for k in (shipping_address)) where v like '1%'",
    'select segment, "1", "2" from customers pivot (max(ssn) for customer_id in (1, 2))',
    "select customer_id from customers pivot (count(*) for ssn in ('189-43-2403'))",
    'select * from customers tablesample bernoulli ((select max(length(notes)) from customers))',
  ];
  it.each(CASES)('not allowed: %s', (sql) => {
    expect(decide(sql).action, explain(sql)).not.toBe('allow');
  });

  it('a quoted CTE of another spelling does not hide the real table', () => {
    const d = decide(`with "customers" as (select 1 as id) select ssn from customers`);
    expect(d.statements[0]!.tables).toContain('ANALYTICS.PUBLIC.CUSTOMERS');
    expect(d.statements[0]!.sensitive!.map((x) => x.name)).toContain('ANALYTICS.PUBLIC.CUSTOMERS.SSN');
  });

  it('plain CTEs that do not shadow a table stay allowed', () => {
    expect(decide('with recent as (select order_id, amount from orders) select count(*) from recent').action).toBe('allow');
    expect(decide('with "Recent" as (select order_id from orders) select order_id from "Recent"').action).toBe('allow');
  });
});

describe('class 4: other sessions\' data under other names', () => {
  const OBJECTS = [
    'snowflake.account_usage.query_history', 'snowflake.account_usage.access_history', 'snowflake.account_usage.login_history',
    'snowflake.account_usage.sessions', 'snowflake.account_usage.query_attribution_history', 'snowflake.account_usage.aggregate_query_history',
    'snowflake.account_usage.aggregate_access_history', 'snowflake.account_usage.query_acceleration_eligible', 'snowflake.account_usage.task_history',
    'snowflake.account_usage.copy_history', 'snowflake.organization_usage.query_history', 'snowflake.reader_account_usage.query_history',
    'snowflake.reader_account_usage.login_history', 'snowflake.data_sharing_usage.listing_access_history', 'snowflake.telemetry.events',
    'SnowFlake.Account_Usage.Query_History', '"SNOWFLAKE"."ACCOUNT_USAGE"."ACCESS_HISTORY"', 'information_schema.load_history',
    'analytics.information_schema.load_history', 'information_schema.query_history', 'information_schema.some_future_history_view',
  ];
  const FUNCTIONS = [
    'table(information_schema.query_history())', 'table(information_schema.query_history_by_session())',
    'table(information_schema.query_history_by_user())', 'table(information_schema.query_history_by_warehouse())',
    'table(analytics.information_schema.login_history_by_user())', 'table(information_schema.login_history())',
    'table(information_schema.task_history())', "table(information_schema.copy_history(table_name => 'ORDERS'))",
    'table(information_schema.serverless_task_history())', "table(result_scan('01b2c3d4-0000-0000-0000-000000000000'))",
    'table(result_scan(last_query_id()))', 'table(information_schema.external_functions_history())',
  ];
  const cases: string[] = [];
  for (const o of [...OBJECTS, ...FUNCTIONS]) {
    cases.push(`select * from ${o}`);
    cases.push(`select count(*) from ${o}`);
    cases.push(`select order_id from orders where exists (select 1 from ${o})`);
    cases.push(`with h as (select * from ${o}) select * from h`);
    cases.push(`select o.order_id from orders o join ${o} h on true`);
  }
  cases.push("desc result '01b2c3d4-0000-0000-0000-000000000000'", 'describe result last_query_id()', "DESC RESULT '01b2'");
  cases.push("select get_query_operator_stats('01b2c3')", 'select * from table(get_query_operator_stats(last_query_id()))');

  it(`all ${cases.length} variants are denied as CROSS_SESSION`, () => {
    const bad = cases.filter((sql) => {
      const d = decide(sql);
      return d.action !== 'deny' || !d.reasons.some((r) => r.code === 'CROSS_SESSION');
    });
    expect(bad.map(explain)).toEqual([]);
  });

  it('a user table whose name merely resembles history is not cross-session', () => {
    const d = decide('select order_id from analytics.public.order_history limit 5');
    expect(d.action).toBe('allow');
  });
});

describe('class 6: pathological SQL is refused, never a crash', () => {
  const n = (k: number, f: (i: number) => string, sep: string) => Array.from({ length: k }, (_, i) => f(i)).join(sep);
  const CASES: Array<[string, string]> = [
    ['5,000-branch UNION', n(5000, (i) => `select ${i}`, ' union all ')],
    ['600-branch UNION of sensitive reads', n(600, () => 'select ssn from customers', ' union ')],
    ['10,000 + operators', `select ${n(10_001, () => '1', '+')}`],
    ['50 KB of || concatenation', `select ${n(12_000, () => "'a'", '||')}`],
    ['5,000 ORs', `select order_id from orders where ${n(5000, (i) => `order_id = ${i}`, ' or ')}`],
    ['3,000 nested parentheses', `select ${'('.repeat(3000)}1${')'.repeat(3000)}`],
    ['1,500 nested function calls', `select ${'upper('.repeat(1500)}status${')'.repeat(1500)} from orders`],
    ['300 nested derived tables', `${'select * from ('.repeat(300)}select 1${')'.repeat(300)}`],
    ['2,000 nested CASE', `select ${'case when 1=1 then '.repeat(2000)}1${' end'.repeat(2000)}`],
    ['60,000 tokens', `select ${n(30_001, (i) => `c${i}`, ',')} from orders`],
  ];
  it.each(CASES)('%s: deny with SQL_TOO_COMPLEX', (_name, sql) => {
    let d: ReturnType<typeof decide> | undefined;
    expect(() => (d = decide(sql))).not.toThrow();
    expect(d!.action).toBe('deny');
    expect(d!.reasons.map((r) => r.code)).toEqual(['SQL_TOO_COMPLEX']);
    expect(d!.reasons[0]!.message).toMatch(/too complex/);
  });

  it('the limits are generous for real queries: a 10,000-value IN list and a 500-term OR chain stay allowed', () => {
    expect(decide(`select order_id from orders where order_id in (${n(10_000, (i) => String(i), ',')})`).action).toBe('allow');
    expect(decide(`select order_id from orders where ${n(500, (i) => `order_id = ${i}`, ' or ')}`).action).toBe('allow');
    expect(decide(n(COMPLEXITY_LIMITS.setOperations - 1, (i) => `select ${i}`, ' union all ')).action).toBe('allow');
    expect(MAX_TREE_DEPTH).toBeGreaterThanOrEqual(500);
  });
});

describe('harmless reads agents need stay allowed', () => {
  const HARMLESS = [
    'select 1',
    'select current_date()',
    'select order_id, amount from orders limit 10',
    'select count(*) from customers',
    'select count(distinct customer_id) from orders',
    'select segment, count(*) from customers group by segment',
    'select city, state, count(*) from customers group by 1, 2 order by 3 desc limit 20',
    'select status, sum(amount) total from orders group by status',
    'select o.order_id, c.segment from orders o join customers c on c.customer_id = o.customer_id limit 100',
    'select customer_id, lifetime_value from customers order by lifetime_value desc limit 5',
    "select order_id from orders where customer_id in (select customer_id from customers where segment = 'gold')",
    "select o.order_id from orders o where exists (select 1 from customers c where c.customer_id = o.customer_id and c.segment = 'gold')",
    'select customer_id, lifetime_value from customers where lifetime_value > (select avg(lifetime_value) from customers)',
    "with recent as (select order_id, amount from orders where order_date > '2024-01-01') select count(*), avg(amount) from recent",
    'select seq4() from table(generator(rowcount => 10))',
    "select * from table(split_to_table('a,b,c', ','))",
    'select order_id, row_number() over (partition by customer_id order by order_date) rn from orders qualify rn = 1',
    "select listagg(status, ',') from (select distinct status from orders)",
    "select date_trunc('month', order_date) m, sum(amount) from orders group by m order by m",
    "select order_id from orders where status = 'shipped' union all select order_id from orders where status = 'returned'",
    'select max(order_date), min(order_date) from orders',
    'select c.customer_id, count(o.order_id) from customers c left join orders o on o.customer_id = c.customer_id group by c.customer_id',
    'select table_name from information_schema.tables',
    "select column_name, data_type from analytics.information_schema.columns where table_name = 'CUSTOMERS'",
    'select schema_name from analytics.information_schema.schemata',
    'show tables',
    'show schemas in database analytics',
    'show columns in table orders',
    'describe table orders',
    'desc table customers',
    'explain select order_id from orders',
    "select iff(amount > 100, 'big', 'small') size, count(*) from orders group by 1",
    'select avg(amount), stddev(amount), median(amount) from orders',
    "select customer_id, sum(amount) from orders where order_date between '2023-01-01' and '2023-12-31' group by customer_id having sum(amount) > 500",
    'select customer_id, segment, lifetime_value from analytics.public.customers where customer_id = 42',
    "select count(*) from orders where currency = 'EUR'",
    'select approx_count_distinct(customer_id) from orders',
    'select f.value::string from orders o, lateral flatten(input => o.items) f limit 10',
    'select o.order_id, f.index from orders o, lateral flatten(input => o.items) f',
    "select order_id, items[0] from orders limit 3",
    'select customer_id, count(*) n from orders group by customer_id order by n desc limit 10',
    "select count_if(status = 'returned') / count(*) from orders",
    'select year(order_date) y, count(*) from orders group by y',
    'select c.segment, avg(o.amount) from orders o join customers c using (customer_id) group by c.segment',
    'select top 5 order_id from orders order by amount desc',
    "select order_id from orders where order_id in (select order_id from orders where currency = 'USD') limit 5",
    'with a as (select customer_id from orders), b as (select customer_id from a) select count(*) from b',
    'select t.table_name, t.row_count from analytics.information_schema.tables t where t.table_schema = \'PUBLIC\'',
    'show views in schema analytics.public',
    // A known miss, listed and counted (never hidden): the parser cannot read `x[0]:path`.
    "select f.value:sku::string as sku, count(*) from orders o, lateral flatten(input => o.items) f group by 1",
    'select order_id, items[0]:sku::string from orders limit 3',
  ];
  /** Harmless reads the analysis cannot yet explain (reviewed, not allowed): kept visible here. */
  const KNOWN_MISSES = new Set([
    'select order_id, items[0]:sku::string from orders limit 3',
  ]);
  it(`at least 95 % of ${HARMLESS.length} harmless reads are allowed (and each miss is named)`, () => {
    const missed = HARMLESS.filter((sql) => decide(sql).action !== 'allow');
    const allowedShare = (HARMLESS.length - missed.length) / HARMLESS.length;
    expect(missed.filter((sql) => !KNOWN_MISSES.has(sql)).map(explain)).toEqual([]);
    expect(allowedShare).toBeGreaterThanOrEqual(0.95);
    // A miss that was fixed must leave the list, so the list never hides anything.
    expect([...KNOWN_MISSES].filter((sql) => decide(sql).action === 'allow')).toEqual([]);
  });
});
