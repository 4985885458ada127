/**
 * SQL shapes that have overflowed parsers' and walkers' stacks or cost seconds
 * of analysis: long operator chains, deep nesting, long flat lists. Shared by
 * the hostile-input suite and the analysis bench, so both speak of the same
 * statements by name. Each fits the default AIRLOCK_MAX_SQL_BYTES (100,000)
 * and, where the policy allows it, returns few rows: the point is the analysis.
 */
const chain = (item: string, n: number, sep: string) => Array.from({ length: n }, () => item).join(sep);

/** Name → SQL; each is one statement of 10–100 KB or of deep nesting. */
export const PATHOLOGICAL_SQL: Readonly<Record<string, string>> = {
  'plus chain, 10,000 operators': `select ${chain('1', 10_001, '+')} from customers`,
  "'a'|| chain, 50 KB": `select ${chain("'a'", 12_500, '||')} from customers`,
  '5,000 ORs': `select customer_id from customers where ${chain('customer_id = 1', 5_000, ' or ')}`,
  '5,000 ANDs': `select customer_id from customers where ${chain('segment <> 1', 5_000, ' and ')}`,
  'CASE nested 2,500 deep': `select ${chain('case when customer_id = 1 then ', 2_500, '')}1${chain(' end', 2_500, '')} from customers`,
  'CASE with 3,000 WHENs': `select case ${chain('when customer_id = 1 then 1', 3_000, ' ')} end from customers limit 5`,
  'IN list of 10,000 values': `select customer_id from customers where customer_id in (${chain('1', 10_000, ',')})`,
  'IN list of 30,000 values': `select customer_id from customers where customer_id in (${chain('1', 30_000, ',')})`,
  '5,000 NOTs': `select customer_id from customers where ${chain('not ', 5_000, '')}customer_id = 1`,
  '10,000 unary minus': `select ${chain('-', 10_000, ' ')}1 from customers`,
  'parentheses 199 deep': `select ${chain('(', 199, '')}customer_id${chain(')', 199, '')} from customers`,
  'parentheses 5,000 deep': `select ${chain('(', 5_000, '')}1${chain(')', 5_000, '')} from customers`,
  'function calls 199 deep': `select ${chain('lower(', 199, '')}segment${chain(')', 199, '')} from customers`,
  'subqueries 199 deep': `select * from ${chain('(select * from ', 199, '')}customers${chain(')', 199, '')}`,
  'EXISTS 150 deep': `select 1 from customers where ${chain('exists (select 1 from customers where ', 150, '')}1 = 1${chain(')', 150, '')}`,
  '499 UNION ALL branches': chain('select customer_id from customers', 499, ' union all '),
  '5,000 UNION ALL branches': chain('select 1', 5_000, ' union all '),
  '10,000 select-list columns': `select ${chain('customer_id', 10_000, ',')} from customers limit 5`,
  '300 joins': `select 1 from customers c0 ${Array.from({ length: 300 }, (_, i) => `join customers c${i + 1} on c${i}.customer_id = c${i + 1}.customer_id`).join(' ')}`,
  '500 chained CTEs': `with ${Array.from({ length: 500 }, (_, i) => `c${i} as (select customer_id from ${i ? `c${i - 1}` : 'customers'})`).join(', ')} select customer_id from c499`,
  '5,000 casts': `select customer_id${chain('::varchar', 5_000, '')} from customers`,
  '5,000 JSON path steps': `select customer_id${chain(':a', 5_000, '')} from customers`,
  'array literal 150 deep': `select ${chain('[', 150, '')}1${chain(']', 150, '')}`,
  'string of 90 KB': `select '${'x'.repeat(90_000)}' from customers limit 5`,
  'INSERT of 5,000 rows': `insert into customers values ${chain('(1, 2, 3)', 5_000, ',')}`,
  'EXECUTE IMMEDIATE of a deep chain': `execute immediate '${`select ${chain('1', 10_001, '+')}`}'`,
};
