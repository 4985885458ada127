/**
 * Reads that touch sensitive columns or tables anywhere: select list,
 * predicates, joins, grouping, ordering, functions, CTEs, subqueries, stars.
 * Each is reviewed and the reason names what was touched.
 */
import type { PolicyCase } from './types.ts';

const SSN = 'ANALYTICS.PUBLIC.CUSTOMERS.SSN';
const EMAIL = 'ANALYTICS.PUBLIC.CUSTOMERS.EMAIL';
const CUSTOMERS = 'ANALYTICS.PUBLIC.CUSTOMERS';

const col = (sql: string, names: string[], extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: ['SENSITIVE_COLUMN'],
  names,
  absent: ['READ_ONLY'],
  ...extra,
});
const table = (sql: string, names: string[], extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: ['SENSITIVE_TABLE'],
  names,
  absent: ['READ_ONLY'],
  ...extra,
});

export const sensitive: PolicyCase[] = [
  // select list, every catalogued column type
  col('select ssn from analytics.public.customers', [SSN], { tables: [CUSTOMERS] }),
  col('select id, email from customers', [EMAIL]),
  col('select phone from customers', ['ANALYTICS.PUBLIC.CUSTOMERS.PHONE']),
  col('select card_number from payments', ['ANALYTICS.PUBLIC.PAYMENTS.CARD_NUMBER']),
  col('select date_of_birth from customers', ['ANALYTICS.PUBLIC.CUSTOMERS.DATE_OF_BIRTH']),
  col('select street_address from customers', ['ANALYTICS.PUBLIC.CUSTOMERS.STREET_ADDRESS']),
  col('select id, shipping_address from orders', ['ANALYTICS.PUBLIC.ORDERS.SHIPPING_ADDRESS']),
  col('select first_name, last_name from customers', ['ANALYTICS.PUBLIC.CUSTOMERS.FIRST_NAME', 'ANALYTICS.PUBLIC.CUSTOMERS.LAST_NAME']),
  col('select full_name from employees', ['ANALYTICS.PUBLIC.EMPLOYEES.FULL_NAME']),
  col('select salary from payroll.staff', ['ANALYTICS.PAYROLL.STAFF.SALARY']),
  col('select notes from customers', ['ANALYTICS.PUBLIC.CUSTOMERS.NOTES']),
  col('select profile from customers', ['ANALYTICS.PUBLIC.CUSTOMERS.PROFILE']),
  col('select c.ssn from crm.sales.customers c', ['CRM.SALES.CUSTOMERS.SSN']),
  // predicates, joins, grouping, ordering
  col('select id from customers where ssn like \'123%\'', [SSN], { note: 'blind inference through a predicate' }),
  col('select count(*) from customers where ssn between \'100\' and \'200\'', [SSN]),
  col('select id from customers where ssn is not null', [SSN]),
  col('select id from customers where lower(email) = \'ceo@example.com\'', [EMAIL]),
  col('select id from customers where date_of_birth < \'1970-01-01\'', ['ANALYTICS.PUBLIC.CUSTOMERS.DATE_OF_BIRTH']),
  col('select o.id from orders o join customers c on c.ssn = o.customer_ssn', [SSN]),
  col('select c.id from customers c join leads l on l.email = c.email', [EMAIL, 'ANALYTICS.PUBLIC.LEADS.EMAIL']),
  col('select count(*) from customers group by email', [EMAIL]),
  col('select id from customers order by last_name', ['ANALYTICS.PUBLIC.CUSTOMERS.LAST_NAME']),
  col('select dept, count(*) from employees group by dept having max(salary) > 100000', ['ANALYTICS.PUBLIC.EMPLOYEES.SALARY']),
  col('select id, row_number() over (partition by email order by id) from customers', [EMAIL]),
  col('select id from customers qualify row_number() over (partition by ssn order by id) = 1', [SSN]),
  // inside functions and expressions
  col('select upper(email) as e from customers', [EMAIL]),
  col('select count(distinct ssn) from customers', [SSN]),
  col('select case when ssn like \'9%\' then 1 else 0 end as flag from customers', [SSN]),
  col('select iff(salary > 100000, \'high\', \'low\') as band from employees', ['ANALYTICS.PUBLIC.EMPLOYEES.SALARY']),
  col('select substr(card_number, 1, 6) as bin from payments', ['ANALYTICS.PUBLIC.PAYMENTS.CARD_NUMBER']),
  col('select profile:email::string as e from customers', ['ANALYTICS.PUBLIC.CUSTOMERS.PROFILE']),
  // CTEs and subqueries
  col('with x as (select ssn from customers) select count(*) from x', [SSN]),
  col('select id from orders where customer_id in (select id from customers where ssn = \'123-45-6789\')', [SSN]),
  col('select id from orders o where exists (select 1 from customers c where c.id = o.customer_id and c.email like \'%@gov%\')', [EMAIL]),
  col('select id from orders union select ssn from customers', [SSN]),
  // stars on a table whose catalog has sensitive columns
  {
    sql: 'select * from customers',
    action: 'review',
    codes: [],
    names: [CUSTOMERS],
    absent: ['READ_ONLY'],
    note: 'CUSTOMERS.PROFILE is in the catalog; the star reads it',
  },
  { sql: 'select c.* from customers c', action: 'review', names: [CUSTOMERS], absent: ['READ_ONLY'] },
  { sql: 'select count(*) from (select * from customers)', action: 'review', names: [CUSTOMERS], absent: ['READ_ONLY'] },
  // restricted tables
  table('select id from hr.core.employees', ['HR.CORE.EMPLOYEES'], { tables: ['HR.CORE.EMPLOYEES'] }),
  table('select count(*) from "HR"."CORE"."EMPLOYEES"', ['HR.CORE.EMPLOYEES']),
  table('select o.id from orders o join hr.core.employees e on e.id = o.seller_id', ['HR.CORE.EMPLOYEES']),
  table('with e as (select id from hr.payroll.runs) select count(*) from e', ['HR.PAYROLL.RUNS']),
  table('select id from orders where seller_id in (select id from hr.core.employees)', ['HR.CORE.EMPLOYEES']),
];
