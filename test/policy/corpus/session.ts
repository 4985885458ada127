/**
 * Session and transaction statements change the pooled, shared warehouse
 * session; cross-session functions reach other agents' queries. Both denied.
 * Code execution, stages and functions are reviewed.
 */
import type { PolicyCase } from './types.ts';
import { HIGH } from './types.ts';

const session = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({ sql, action: 'deny', codes: ['SESSION_CHANGE'], ...extra });
const cross = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({ sql, action: 'deny', codes: ['CROSS_SESSION'], ...extra });
const code = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: ['CODE_EXECUTION'],
  risk: HIGH,
  absent: ['READ_ONLY'],
  ...extra,
});

export const sessionCases: PolicyCase[] = [
  session('use warehouse reporting_wh', { kinds: ['use'] }),
  session('use database crm'),
  session('use schema analytics.sales'),
  session('use analytics.sales'),
  session('use role analyst'),
  session('use secondary roles all'),
  session('set target = \'x\'', { kinds: ['set'] }),
  session('set (a, b) = (1, 2)'),
  session('unset target', { kinds: ['unset'] }),
  session('alter session set query_tag = \'agent\''),
  session('alter session set timezone = \'UTC\''),
  session('begin', { kinds: ['begin'] }),
  session('begin transaction'),
  session('start transaction'),
  session('commit', { kinds: ['commit'] }),
  session('rollback', { kinds: ['rollback'] }),
  cross('select * from table(result_scan(last_query_id()))'),
  cross('select last_query_id()'),
  cross('select * from table(result_scan(\'01b2c3d4-0000-1111-0000-000000000000\'))'),
  cross('select query_text from table(information_schema.query_history())'),
  cross('select query_text from snowflake.account_usage.query_history', { note: 'the view shows every agent\'s SQL on the shared user' }),
  code('call refresh_orders()', { kinds: ['call'] }),
  code('call analytics.admin.purge(\'orders\', 30)'),
  code('execute immediate \'select 1\'', { kinds: ['execute_immediate'] }),
  code('execute task nightly_refresh', { kinds: ['execute_task'] }),
  code('create procedure p() returns string language sql as $$ begin return \'x\'; end $$'),
  code('create task t warehouse = w schedule = \'5 minute\' as insert into log select 1'),
  code('create function f(x int) returns int as \'x + 1\''),
  { sql: 'list @ingest', action: 'review', codes: ['STAGE_ACCESS'], kinds: ['list'], absent: ['READ_ONLY'] },
  { sql: 'ls @~', action: 'review', codes: ['STAGE_ACCESS'], absent: ['READ_ONLY'] },
  { sql: 'remove @ingest/old/', action: 'review', codes: ['DESTRUCTIVE_WRITE'], approvals: 2, kinds: ['remove'], absent: ['READ_ONLY'] },
  { sql: 'select $1, $2 from @ingest/orders.csv', action: 'review', codes: ['STAGE_ACCESS'], absent: ['READ_ONLY'] },
  { sql: 'select metadata$filename from @ingest', action: 'review', codes: ['STAGE_ACCESS'], absent: ['READ_ONLY'] },
  { sql: 'select system$clustering_information(\'orders\')', action: 'review', codes: ['SYSTEM_FUNCTION'], absent: ['READ_ONLY'] },
  { sql: 'select my_udf(total) from orders', action: 'review', codes: ['UNKNOWN_FUNCTION'], absent: ['READ_ONLY'] },
  { sql: 'select * from table(analytics.public.my_table_fn(1))', action: 'review', codes: ['UNKNOWN_FUNCTION'], absent: ['READ_ONLY'] },
  { sql: 'frobnicate the warehouse', action: 'deny', codes: ['NOT_SQL'], risk: HIGH, note: 'no SQL command starts with FROBNICATE: refused at once, not reviewed' },
  { sql: 'vacuum orders', action: 'review', codes: ['UNKNOWN_STATEMENT'], risk: HIGH, kinds: ['unknown'] },
];
