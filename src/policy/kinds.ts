/**
 * The vocabulary of statement classification: kinds, categories, object
 * types (and the categories an object type implies), and the words that mark
 * modifiers, admin roles and writes. Pure data and lookups; classify.ts uses
 * them, schema.ts validates policy files against them.
 */
import type { Token } from './lexer.ts';

/** The statement verbs Airlock distinguishes (`kind` in the decision JSON). */
export const KINDS = [
  'select', 'insert', 'update', 'delete', 'merge', 'copy', 'put', 'get', 'list', 'remove',
  'create', 'alter', 'drop', 'undrop', 'truncate', 'grant', 'revoke', 'use', 'show', 'describe',
  'explain', 'call', 'execute_immediate', 'execute_task', 'set', 'unset', 'begin', 'commit',
  'rollback', 'comment', 'unknown',
] as const;
export type Kind = (typeof KINDS)[number];

/** Object types after CREATE/ALTER/DROP/UNDROP/USE, longest phrase first. */
const OBJECT_PHRASES: ReadonlyArray<[string[], string]> = [
  [['EXTERNAL', 'ACCESS', 'INTEGRATION'], 'external_access_integration'],
  [['ROW', 'ACCESS', 'POLICY'], 'row_access_policy'],
  [['CORTEX', 'SEARCH', 'SERVICE'], 'cortex_search_service'],
  [['STORAGE', 'INTEGRATION'], 'storage_integration'],
  [['API', 'INTEGRATION'], 'api_integration'],
  [['NOTIFICATION', 'INTEGRATION'], 'notification_integration'],
  [['SECURITY', 'INTEGRATION'], 'security_integration'],
  [['CATALOG', 'INTEGRATION'], 'catalog_integration'],
  [['EXTERNAL', 'TABLE'], 'external_table'],
  [['DYNAMIC', 'TABLE'], 'dynamic_table'],
  [['ICEBERG', 'TABLE'], 'iceberg_table'],
  [['HYBRID', 'TABLE'], 'hybrid_table'],
  [['EVENT', 'TABLE'], 'event_table'],
  [['EXTERNAL', 'FUNCTION'], 'external_function'],
  [['MATERIALIZED', 'VIEW'], 'materialized_view'],
  [['NETWORK', 'POLICY'], 'network_policy'],
  [['NETWORK', 'RULE'], 'network_rule'],
  [['MASKING', 'POLICY'], 'masking_policy'],
  [['PASSWORD', 'POLICY'], 'password_policy'],
  [['SESSION', 'POLICY'], 'session_policy'],
  [['AUTHENTICATION', 'POLICY'], 'authentication_policy'],
  [['AGGREGATION', 'POLICY'], 'aggregation_policy'],
  [['PROJECTION', 'POLICY'], 'projection_policy'],
  [['FILE', 'FORMAT'], 'file_format'],
  [['DATABASE', 'ROLE'], 'database_role'],
  [['APPLICATION', 'ROLE'], 'application_role'],
  [['APPLICATION', 'PACKAGE'], 'application_package'],
  [['RESOURCE', 'MONITOR'], 'resource_monitor'],
  [['REPLICATION', 'GROUP'], 'replication_group'],
  [['FAILOVER', 'GROUP'], 'failover_group'],
  [['MANAGED', 'ACCOUNT'], 'managed_account'],
  [['COMPUTE', 'POOL'], 'compute_pool'],
  [['IMAGE', 'REPOSITORY'], 'image_repository'],
  [['GIT', 'REPOSITORY'], 'git_repository'],
  [['SECONDARY', 'ROLES'], 'secondary_roles'],
  [['INTEGRATION'], 'integration'],
  [['TABLE'], 'table'],
  [['VIEW'], 'view'],
  [['STAGE'], 'stage'],
  [['SHARE'], 'share'],
  [['USER'], 'user'],
  [['ROLE'], 'role'],
  [['TASK'], 'task'],
  [['PIPE'], 'pipe'],
  [['PROCEDURE'], 'procedure'],
  [['FUNCTION'], 'function'],
  [['DATABASE'], 'database'],
  [['SCHEMA'], 'schema'],
  [['WAREHOUSE'], 'warehouse'],
  [['SEQUENCE'], 'sequence'],
  [['STREAM'], 'stream'],
  [['SECRET'], 'secret'],
  [['TAG'], 'tag'],
  [['ALERT'], 'alert'],
  [['ACCOUNT'], 'account'],
  [['SESSION'], 'session'],
  [['CONNECTION'], 'connection'],
  [['NOTEBOOK'], 'notebook'],
  [['STREAMLIT'], 'streamlit'],
  [['SERVICE'], 'service'],
  [['APPLICATION'], 'application'],
  [['MODEL'], 'model'],
  [['ORGANIZATION', 'ACCOUNT'], 'organization_account'],
];

/** Every object type name, for validating policy files. */
export const OBJECT_TYPES: readonly string[] = [...new Set(OBJECT_PHRASES.map(([, o]) => o)), 'location'];

/** Broad families of statements a policy can match on. */
export const CATEGORIES = [
  'read', 'write', 'ddl', 'destructive', 'privilege', 'exfiltration', 'account', 'code', 'session',
  'transaction', 'stage', 'unknown',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Modifiers that may sit between the verb and the object type. */
export const MODIFIERS = new Set([
  'OR', 'REPLACE', 'ALTER', 'IF', 'NOT', 'EXISTS', 'TEMPORARY', 'TEMP', 'TRANSIENT', 'VOLATILE', 'LOCAL',
  'GLOBAL', 'SECURE', 'RECURSIVE',
]);

/** Roles whose use or grant is an account-level change. */
export const ADMIN_ROLES = new Set(['ACCOUNTADMIN', 'SECURITYADMIN', 'ORGADMIN', 'USERADMIN', 'SYSADMIN', 'GLOBALORGADMIN']);

/** Write and DDL verbs that must never appear inside a read. */
export const WRITE_WORDS = new Set([
  'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'DROP', 'CREATE', 'ALTER', 'UNDROP', 'GRANT', 'REVOKE',
  'COPY', 'PUT', 'REMOVE', 'CALL', 'EXECUTE', 'USE', 'UNSET', 'COMMIT', 'ROLLBACK',
]);

/** What the tokens say about one statement (classify.ts). */
export interface Classification {
  kind: Kind;
  /** The leading keyword as written (upper case), or null when the statement starts with no word. */
  verb: string | null;
  /** Object type for DDL, USE, COPY (`table`/`location`), else null. */
  object: string | null;
  /** The names a policy's `match.kind` can use: the kind, `kind_object`, and derived ones. */
  tags: string[];
  categories: Category[];
  /** Token-level findings (`replace`, `clone`, `admin_role`, `hidden_write`, …). */
  flags: string[];
  /** Object names found after the object type (as dotted parts), e.g. the table a DROP names. */
  targets: string[][];
  /** Tables a statement reads, found from tokens where the parser cannot help (COPY … FROM t). */
  sources: string[][];
  /** True when the tokens alone explain the statement fully (SHOW, USE, BEGIN…). */
  lexicallyComplete: boolean;
}

/** The categories an object type puts a CREATE/ALTER/DROP/UNDROP in, beside `ddl`. */
export const OBJECT_CATEGORY: Record<string, Category[]> = {
  stage: ['exfiltration'],
  storage_integration: ['exfiltration'],
  api_integration: ['exfiltration'],
  notification_integration: ['exfiltration'],
  external_access_integration: ['exfiltration'],
  security_integration: ['account'],
  catalog_integration: ['exfiltration'],
  integration: ['exfiltration'],
  external_function: ['exfiltration'],
  external_table: ['exfiltration'],
  share: ['exfiltration', 'account'],
  user: ['privilege'],
  role: ['privilege'],
  database_role: ['privilege'],
  application_role: ['privilege'],
  secondary_roles: ['privilege'],
  network_policy: ['account'],
  network_rule: ['account'],
  password_policy: ['account'],
  session_policy: ['account'],
  authentication_policy: ['account'],
  account: ['account'],
  managed_account: ['account'],
  organization_account: ['account'],
  replication_group: ['account', 'exfiltration'],
  failover_group: ['account', 'exfiltration'],
  resource_monitor: ['account'],
  connection: ['account'],
  procedure: ['code'],
  function: ['code'],
  task: ['code'],
  alert: ['code'],
  pipe: ['code'],
  session: ['session'],
  masking_policy: ['privilege'],
  row_access_policy: ['privilege'],
  aggregation_policy: ['privilege'],
  projection_policy: ['privilege'],
};

/** Generalised tags: `create_storage_integration` also matches `create_integration`. */
export function generalObjects(object: string): string[] {
  const out = [object];
  if (object.endsWith('_integration')) out.push('integration');
  if (object.endsWith('_table')) out.push('table');
  if (object.endsWith('_view')) out.push('view');
  if (object.endsWith('_policy')) out.push('policy');
  if (object === 'external_function') out.push('function');
  if (object.endsWith('_role')) out.push('role');
  return out;
}

const word = (t: Token | undefined): string | undefined => (t?.kind === 'word' ? t.text : undefined);

/** The object type named at `i` (longest phrase first), and the index after it. */
export function matchObject(tokens: readonly Token[], i: number): { object: string; next: number } | undefined {
  for (const [phrase, object] of OBJECT_PHRASES) {
    if (phrase.every((w, k) => word(tokens[i + k]) === w)) return { object, next: i + phrase.length };
  }
  return undefined;
}

/** The tags and categories a policy file may name, for validating `match.kind`. */
export function knownKindTags(): Set<string> {
  const out = new Set<string>(KINDS);
  for (const verb of ['create', 'alter', 'drop', 'undrop', 'use', 'describe']) {
    for (const o of OBJECT_TYPES) for (const g of generalObjects(o)) out.add(`${verb}_${g}`);
  }
  for (const extra of ['unload', 'load', 'delete_without_where', 'update_without_where', 'copy_location', 'copy_table']) out.add(extra);
  return out;
}
