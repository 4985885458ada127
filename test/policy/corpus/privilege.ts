/**
 * Privileges and the account: GRANT/REVOKE and users/roles need two approvals
 * from security; admin roles and account-level objects are denied.
 */
import type { PolicyCase } from './types.ts';
import { HIGH } from './types.ts';

const privilege = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'review',
  codes: ['PRIVILEGE_CHANGE'],
  approvals: 2,
  groups: ['security'],
  risk: HIGH,
  absent: ['READ_ONLY'],
  ...extra,
});
const account = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'deny',
  codes: ['ACCOUNT_CHANGE'],
  risk: HIGH,
  ...extra,
});

export const privilegeCases: PolicyCase[] = [
  privilege('grant select on table orders to role analyst', { kinds: ['grant'] }),
  privilege('grant select on all tables in schema analytics.public to role analyst'),
  privilege('grant usage on warehouse reporting_wh to role analyst'),
  privilege('revoke select on table orders from role analyst', { kinds: ['revoke'] }),
  privilege('grant role analyst to user bob'),
  privilege('revoke role analyst from user bob'),
  privilege('create user mallory password = \'x\''),
  privilege('create role exfil_role'),
  privilege('drop role analyst'),
  privilege('drop user bob'),
  privilege('alter user bob set rsa_public_key = \'MIIBIjANBg\''),
  privilege('alter user bob reset password'),
  privilege('create database role analytics.reader'),
  account('alter account set require_storage_integration_for_stage_creation = false'),
  account('alter account set network_policy = open_policy'),
  account('create network policy open_policy allowed_ip_list = (\'0.0.0.0/0\')'),
  account('alter network policy corp set allowed_ip_list = (\'0.0.0.0/0\')'),
  account('drop network policy corp'),
  account('create security integration okta type = saml2 enabled = true'),
  account('grant role accountadmin to user mallory'),
  account('grant role securityadmin to role analyst'),
  account('use role accountadmin', { note: 'also a session change; either way denied' }),
  account('use role securityadmin'),
];
