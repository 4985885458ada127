/** DDL: one approval; destructive DDL (DROP, CREATE OR REPLACE, ALTER … DROP/RENAME/SWAP) two. */
import type { PolicyCase } from './types.ts';
import { HIGH } from './types.ts';

const ddl = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: ['DDL'],
  approvals: 1,
  absent: ['READ_ONLY'],
  ...extra,
});
const destructive = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: ['DESTRUCTIVE_DDL'],
  approvals: 2,
  groups: ['data-owners'],
  risk: HIGH,
  absent: ['READ_ONLY'],
  ...extra,
});

export const ddlCases: PolicyCase[] = [
  ddl('create table scratch.t (id int, name varchar)', { kinds: ['create'] }),
  ddl('create table if not exists scratch.t (id int)'),
  ddl('create temporary table tmp_orders as select id, total from orders'),
  ddl('create transient table scratch.t2 (id int)'),
  ddl('create view v_orders as select id, status from orders'),
  ddl('create schema scratch'),
  ddl('create database sandbox'),
  ddl('create sequence seq1'),
  ddl('alter table orders add column note2 varchar'),
  ddl('alter table orders cluster by (created_at)'),
  ddl('alter warehouse reporting_wh set warehouse_size = \'XSMALL\''),
  ddl('comment on table orders is \'all orders\''),
  ddl('create table scratch.orders_copy clone orders', { note: 'zero-copy clone' }),
  ddl('create database analytics_dev clone analytics'),
  ddl('undrop table orders', { kinds: ['undrop'] }),
  ddl('undrop schema analytics.old'),
  ddl('create table scratch.c as select ssn from customers', {
    codes: ['DDL', 'SENSITIVE_COLUMN'],
    names: ['ANALYTICS.PUBLIC.CUSTOMERS.SSN'],
    note: 'CTAS copies sensitive data',
  }),
  destructive('drop table orders', { kinds: ['drop'], tables: ['ANALYTICS.PUBLIC.ORDERS'] }),
  destructive('drop table if exists analytics.public.customers', { tables: ['ANALYTICS.PUBLIC.CUSTOMERS'] }),
  destructive('drop view v_orders'),
  destructive('drop schema analytics.public'),
  destructive('drop database analytics'),
  destructive('drop warehouse reporting_wh'),
  destructive('create or replace table orders (id int)'),
  destructive('create or replace view v_orders as select id from orders'),
  destructive('create or replace table orders clone orders_backup', { note: 'CLONE over an existing table replaces it' }),
  destructive('alter table orders drop column status'),
  destructive('alter table orders rename to orders_old'),
  destructive('alter table orders swap with orders_staging'),
];
