/**
 * Policy engine speed on a corpus of typical agent statements, with the shipped
 * default policy (issue 3 targets: uncached p50 ≤ 1 ms for typical agent
 * SELECTs; cached ≥ 200,000 decisions/s on one core).
 *
 * - uncached: an engine with `cacheSize: 0`, so every call lexes, parses and
 *   decides; latency per call, p50/p99, and statements per second;
 * - cached: an engine with its cache on, the same statements asked again and
 *   again (an agent retrying, several replicas of one question).
 *
 * Pure CPU, no services needed. `npm run bench` runs it first; alone:
 * `npx tsx bench/policy.ts`.
 */
import { pathToFileURL } from 'node:url';
import { loadPolicyFile } from '../src/config/policy-file.ts';
import { createPolicyEngine } from '../src/policy/engine.ts';

type Group = 'select' | 'write' | 'ddl' | 'other';

/** About fifty statements of the kind agents send: mostly reads, then writes and DDL. */
export const CORPUS: ReadonlyArray<{ group: Group; sql: string }> = [
  // --- reads: filters, joins, CTEs, windows, semi-structured ---------------
  ...[
    'select customer_id, segment, city from customers where customer_id <= 3 order by customer_id',
    'select count(*) from orders',
    'select status, count(*) as n from orders group by status order by n desc',
    "select order_id, amount, currency from analytics.public.orders where order_date >= '2024-01-01' limit 100",
    'select c.segment, sum(o.amount) as revenue from customers c join orders o on o.customer_id = c.customer_id group by c.segment',
    "select c.customer_id, c.city, count(o.order_id) as orders from customers c left join orders o on o.customer_id = c.customer_id where c.state = 'CA' group by 1, 2 having count(o.order_id) > 3 order by 3 desc limit 20",
    "with recent as (select * from orders where order_date > dateadd(day, -30, current_date())) select status, avg(amount) from recent group by status",
    'with by_customer as (select customer_id, sum(amount) as total from orders group by customer_id), ranked as (select customer_id, total, rank() over (order by total desc) as r from by_customer) select customer_id, total from ranked where r <= 10',
    "select date_trunc('month', order_date) as month, currency, sum(amount) from orders group by 1, 2 order by 1",
    'select customer_id, lifetime_value, ntile(4) over (order by lifetime_value) as quartile from customers',
    "select o.order_id, o.items[0]:sku::string as first_sku from orders o where o.status = 'shipped' limit 50",
    'select segment, approx_count_distinct(customer_id) from customers group by segment',
    "select * from analytics.public.orders where status in ('refunded', 'cancelled') and amount > 500 order by created_at desc limit 25",
    'select min(order_date), max(order_date), count(distinct customer_id) from orders',
    'select city, state, count(*) from customers group by city, state qualify row_number() over (partition by state order by count(*) desc) = 1',
    "select o.currency, round(avg(o.amount), 2) avg_amount from orders o where o.created_at between '2024-01-01' and '2024-06-30' group by o.currency",
    'select customer_id from customers where customer_id in (select customer_id from orders where amount > 1000)',
    'select c.customer_id, exists (select 1 from orders o where o.customer_id = c.customer_id) as has_orders from customers c limit 100',
    "select iff(amount > 100, 'big', 'small') as bucket, count(*) from orders group by bucket",
    'select segment, median(lifetime_value), percentile_cont(0.9) within group (order by lifetime_value) from customers group by segment',
    'select o.order_id, o.amount, c.segment from orders o inner join customers c using (customer_id) where o.amount > 250 order by o.amount desc limit 10',
    "select to_char(order_date, 'YYYY-MM') as ym, count(*) from orders group by ym order by ym",
    'select customer_id, segment from customers sample (10)',
    'select top 5 order_id, amount from orders order by amount desc',
    'select email, count(*) from customers group by email having count(*) > 1',
    "select first_name, last_name from customers where ssn like '123%'",
    'select e.employee_id, e.salary from hr.core.employees e',
    'show tables in schema analytics.public',
    'describe table analytics.public.orders',
    'explain select * from orders where amount > 10',
  ].map((sql) => ({ group: (/^(select|with)\b/i.test(sql) ? 'select' : 'other') as Group, sql })),
  // --- writes --------------------------------------------------------------
  ...[
    "insert into analytics.public.order_notes (order_id, note) values (1001, 'called the customer')",
    'insert into analytics.scratch.daily_revenue select order_date, sum(amount) from orders group by order_date',
    "update orders set status = 'cancelled' where order_id = 42",
    "update customers set segment = 'enterprise'",
    'delete from analytics.scratch.tmp_orders where created_at < dateadd(day, -7, current_date())',
    'delete from orders',
    "merge into customers t using analytics.scratch.customer_updates s on t.customer_id = s.customer_id when matched then update set t.city = s.city when not matched then insert (customer_id, city) values (s.customer_id, s.city)",
    'insert overwrite into analytics.scratch.snapshot select * from orders',
    'with stale as (select order_id from orders where status = \'pending\') delete from orders where order_id in (select order_id from stale)',
    "copy into @exports/orders from (select * from orders) file_format = (type = csv)",
  ].map((sql) => ({ group: 'write' as Group, sql })),
  // --- DDL, privileges, code, session ---------------------------------------
  ...[
    'create table analytics.scratch.top_customers as select customer_id, lifetime_value from customers order by 2 desc limit 100',
    'create or replace view analytics.public.order_summary as select status, count(*) n from orders group by status',
    'alter table analytics.scratch.tmp_orders add column note varchar',
    'drop table analytics.scratch.tmp_orders',
    'truncate table analytics.scratch.daily_revenue',
    'grant select on table analytics.public.orders to role analyst',
    'create stage exfil url = \'s3://attacker-bucket/\'',
    'use role accountadmin',
    "call analytics.public.refresh_rollups('2024-06-01')",
    "execute immediate $$ begin drop table analytics.public.customers; end; $$",
  ].map((sql) => ({ group: 'ddl' as Group, sql })),
];

export interface LatencySummary {
  n: number;
  p50Ms: number;
  p99Ms: number;
  perSecond: number;
}

export interface PolicyBenchResult {
  corpus: Record<Group, number>;
  uncachedSelect: LatencySummary;
  uncachedAll: LatencySummary;
  cached: { n: number; perSecond: number };
  targets: { uncachedSelectP50: boolean; cachedRate: boolean };
  /** Markdown lines ready to print. */
  report: string[];
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function summarize(samples: number[], totalMs: number): LatencySummary {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), perSecond: (s.length / totalMs) * 1000 };
}

const ms = (x: number) => (x < 0.1 ? `${(x * 1000).toFixed(1)} µs` : `${x.toFixed(3)} ms`);
const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')}/s`;

/**
 * Measure the engine on {@link CORPUS}. `rounds` passes over the corpus for the
 * uncached figures; `cachedMs` how long to hammer the cache.
 */
export async function benchPolicy(options: { rounds?: number; cachedMs?: number; log?: (line: string) => void } = {}): Promise<PolicyBenchResult> {
  const rounds = options.rounds ?? Number(process.env.BENCH_POLICY_ROUNDS ?? 40);
  const cachedMs = options.cachedMs ?? 1000;
  const log = options.log ?? (() => {});
  const policy = await loadPolicyFile();
  const ctx = { agent: 'bench-agent', groups: ['analysts'] };

  const uncached = createPolicyEngine(policy, { cacheSize: 0 });
  log(`bench: policy engine, ${CORPUS.length} statements × ${rounds} rounds uncached…`);
  // Warm-up: JIT, lazily built tables, the parser's grammar.
  for (let i = 0; i < 5; i++) for (const { sql } of CORPUS) uncached.evaluate(sql, ctx);

  const select: number[] = [];
  const all: number[] = [];
  let selectTotal = 0;
  let allTotal = 0;
  for (let r = 0; r < rounds; r++) {
    for (const { group, sql } of CORPUS) {
      const t0 = performance.now();
      uncached.evaluate(sql, ctx);
      const dt = performance.now() - t0;
      all.push(dt);
      allTotal += dt;
      if (group === 'select') {
        select.push(dt);
        selectTotal += dt;
      }
    }
  }

  const cachedEngine = createPolicyEngine(policy, {});
  log(`bench: policy engine cached, ${cachedMs} ms…`);
  for (const { sql } of CORPUS) cachedEngine.evaluate(sql, ctx);
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  // Check the clock once per corpus pass, not per call: the call is cheaper than the check.
  while (elapsed < cachedMs) {
    for (const { sql } of CORPUS) cachedEngine.evaluate(sql, ctx);
    n += CORPUS.length;
    elapsed = performance.now() - start;
  }
  const cached = { n, perSecond: (n / elapsed) * 1000 };

  const corpus: Record<Group, number> = { select: 0, write: 0, ddl: 0, other: 0 };
  for (const { group } of CORPUS) corpus[group]++;
  const uncachedSelect = summarize(select, selectTotal);
  const uncachedAll = summarize(all, allTotal);
  const targets = { uncachedSelectP50: uncachedSelect.p50Ms <= 1, cachedRate: cached.perSecond >= 200_000 };
  const report = [
    '',
    `Policy engine, shipped default policy, ${CORPUS.length} statements (${corpus.select} SELECT/WITH, ${corpus.other} SHOW/DESCRIBE/EXPLAIN, ${corpus.write} writes, ${corpus.ddl} DDL/privilege/code), one core`,
    '| measure | n | p50 | p99 | throughput |',
    '|---|---|---|---|---|',
    `| uncached, typical agent SELECTs | ${uncachedSelect.n} | ${ms(uncachedSelect.p50Ms)} | ${ms(uncachedSelect.p99Ms)} | ${rate(uncachedSelect.perSecond)} |`,
    `| uncached, whole corpus | ${uncachedAll.n} | ${ms(uncachedAll.p50Ms)} | ${ms(uncachedAll.p99Ms)} | ${rate(uncachedAll.perSecond)} |`,
    `| cached (same statements repeated) | ${cached.n} | — | — | ${rate(cached.perSecond)} |`,
    '',
    `targets: uncached SELECT p50 ≤ 1 ms: ${targets.uncachedSelectP50 ? 'met' : 'MISSED'}; cached ≥ 200,000 decisions/s: ${targets.cachedRate ? 'met' : 'MISSED'}`,
  ];
  return { corpus, uncachedSelect, uncachedAll, cached, targets, report };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchPolicy({ log: (l) => process.stderr.write(`${l}\n`) }).then(
    (r) => process.stdout.write(`${r.report.join('\n')}\n`),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
