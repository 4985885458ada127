/** DML: one approval for bounded writes, two for unbounded or destructive ones. */
import type { PolicyCase } from './types.ts';
import { HIGH } from './types.ts';

const write = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: ['WRITE'],
  approvals: 1,
  groups: ['data-owners'],
  absent: ['READ_ONLY'],
  ...extra,
});
const twoKeys = (sql: string, code: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: [code],
  approvals: 2,
  groups: ['data-owners'],
  risk: HIGH,
  absent: ['READ_ONLY'],
  ...extra,
});

export const writes: PolicyCase[] = [
  write('insert into orders (id, status) values (1, \'open\')', { kinds: ['insert'], tables: ['ANALYTICS.PUBLIC.ORDERS'] }),
  write('insert into archive.orders select * from orders where created_at < \'2020-01-01\'', { tables: ['ANALYTICS.ARCHIVE.ORDERS', 'ANALYTICS.PUBLIC.ORDERS'] }),
  write('INSERT INTO crm.sales.leads (id) VALUES (7)', { tables: ['CRM.SALES.LEADS'] }),
  write('insert all into t1 values (id) into t2 values (id) select id from orders'),
  write('update orders set status = \'closed\' where id = 42', { kinds: ['update'] }),
  write('update orders o set status = \'x\' from refunds r where r.order_id = o.id'),
  write('delete from orders where id = 42', { kinds: ['delete'], tables: ['ANALYTICS.PUBLIC.ORDERS'] }),
  write('delete from orders using refunds where refunds.order_id = orders.id'),
  write('merge into orders t using staging.orders s on t.id = s.id when matched then update set t.status = s.status when not matched then insert (id, status) values (s.id, s.status)', {
    kinds: ['merge'],
  }),
  write('merge into orders t using (select 1 as id) s on t.id = s.id when matched then delete'),
  write('copy into orders from @ingest/orders.csv file_format = (type = csv)', {
    kinds: ['copy'],
    note: 'loading a table from a stage is a write (and stage access), not an unload',
  }),
  // writes that also touch sensitive data
  write('insert into marketing.contacts select email from customers', {
    codes: ['WRITE', 'SENSITIVE_COLUMN'],
    names: ['ANALYTICS.PUBLIC.CUSTOMERS.EMAIL'],
  }),
  write('update orders set status = \'flag\' where customer_id in (select id from customers where ssn = \'1\')', {
    codes: ['WRITE', 'SENSITIVE_COLUMN'],
    names: ['ANALYTICS.PUBLIC.CUSTOMERS.SSN'],
  }),
  write('insert into analytics.public.staff_copy select id from hr.core.employees', {
    codes: ['WRITE', 'SENSITIVE_TABLE'],
    names: ['HR.CORE.EMPLOYEES'],
  }),
  // unbounded and destructive writes
  twoKeys('delete from orders', 'UNBOUNDED_WRITE', { kinds: ['delete'] }),
  twoKeys('DELETE FROM analytics.public.customers', 'UNBOUNDED_WRITE', { tables: ['ANALYTICS.PUBLIC.CUSTOMERS'] }),
  twoKeys('update orders set status = \'void\'', 'UNBOUNDED_WRITE'),
  twoKeys('update customers set email = null', 'UNBOUNDED_WRITE'),
  twoKeys('truncate table orders', 'DESTRUCTIVE_WRITE', { kinds: ['truncate'], tables: ['ANALYTICS.PUBLIC.ORDERS'] }),
  twoKeys('truncate orders', 'DESTRUCTIVE_WRITE'),
  twoKeys('truncate table if exists staging.orders', 'DESTRUCTIVE_WRITE'),
  twoKeys('insert overwrite into orders select * from staging.orders', 'DESTRUCTIVE_WRITE'),
];
