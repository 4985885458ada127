/**
 * Token-level classification: every statement's verb, object type, categories
 * and risk flags, whether or not the SQL parser understands it. Pure.
 *
 * This is what keeps an unparsed `DROP DATABASE` from looking like a "medium"
 * risk: the verb is always known from the tokens, and the AST only adds facts.
 */
import { identifierName, type Token } from './lexer.ts';

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
const MODIFIERS = new Set([
  'OR', 'REPLACE', 'ALTER', 'IF', 'NOT', 'EXISTS', 'TEMPORARY', 'TEMP', 'TRANSIENT', 'VOLATILE', 'LOCAL',
  'GLOBAL', 'SECURE', 'RECURSIVE',
]);

/** Roles whose use or grant is an account-level change. */
export const ADMIN_ROLES = new Set(['ACCOUNTADMIN', 'SECURITYADMIN', 'ORGADMIN', 'USERADMIN', 'SYSADMIN', 'GLOBALORGADMIN']);

/** Write and DDL verbs that must never appear inside a read. */
const WRITE_WORDS = new Set([
  'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'DROP', 'CREATE', 'ALTER', 'UNDROP', 'GRANT', 'REVOKE',
  'COPY', 'PUT', 'REMOVE', 'CALL', 'EXECUTE', 'USE', 'UNSET', 'COMMIT', 'ROLLBACK',
]);

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

const word = (t: Token | undefined): string | undefined => (t?.kind === 'word' ? t.text : undefined);

/** Read a dotted name (`a.b."C d"`) starting at `i`; returns parts and the next index. */
export function readName(tokens: readonly Token[], i: number): { parts: string[]; next: number } | undefined {
  const parts: string[] = [];
  let j = i;
  for (;;) {
    const t = tokens[j];
    if (!t || (t.kind !== 'word' && t.kind !== 'quoted')) break;
    parts.push(identifierName(t));
    j++;
    if (tokens[j]?.text === '.') j++;
    else break;
  }
  return parts.length > 0 ? { parts, next: j } : undefined;
}

function matchObject(tokens: readonly Token[], i: number): { object: string; next: number } | undefined {
  for (const [phrase, object] of OBJECT_PHRASES) {
    if (phrase.every((w, k) => word(tokens[i + k]) === w)) return { object, next: i + phrase.length };
  }
  return undefined;
}

/** Index of the first token after a WITH clause's CTE list, at paren depth 0. */
function afterCtes(tokens: readonly Token[]): number {
  let depth = 0;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && t.kind === 'word' && i > 1) {
      // `name AS (…)` pairs separated by commas; the first depth-0 word after a
      // closing paren that is not a comma-separated CTE name is the main verb.
      const prev = tokens[i - 1]!;
      if (prev.text === ')') return i;
    }
  }
  return tokens.length;
}

const OBJECT_CATEGORY: Record<string, Category[]> = {
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
function generalObjects(object: string): string[] {
  const out = [object];
  if (object.endsWith('_integration')) out.push('integration');
  if (object.endsWith('_table')) out.push('table');
  if (object.endsWith('_view')) out.push('view');
  if (object.endsWith('_policy')) out.push('policy');
  if (object === 'external_function') out.push('function');
  if (object.endsWith('_role')) out.push('role');
  return out;
}

/** Classify one statement from its tokens. */
export function classify(tokens: readonly Token[]): Classification {
  const first = tokens[0];
  const verb = word(first) ?? null;
  const c: Classification = {
    kind: 'unknown',
    verb,
    object: null,
    tags: [],
    categories: [],
    flags: [],
    targets: [],
    sources: [],
    lexicallyComplete: false,
  };
  const add = (...cats: Category[]) => {
    for (const x of cats) if (!c.categories.includes(x)) c.categories.push(x);
  };
  const flag = (f: string) => {
    if (!c.flags.includes(f)) c.flags.push(f);
  };
  const words = tokens.filter((t) => t.kind === 'word').map((t) => t.text);
  if (words.some((w) => ADMIN_ROLES.has(w)) || tokens.some((t) => t.kind === 'quoted' && ADMIN_ROLES.has(identifierName(t)))) {
    flag('admin_role');
  }

  let main = verb;
  let mainAt = 0;
  if (verb === 'WITH') {
    mainAt = afterCtes(tokens);
    main = word(tokens[mainAt]) ?? null;
    if (main && main !== 'SELECT') flag('write_after_cte');
  } else if (first?.text === '(') {
    // A parenthesised query: `(select …) union (select …)`.
    const firstWord = tokens.find((t) => t.kind === 'word');
    main = firstWord?.text === 'SELECT' ? 'SELECT' : null;
  }

  switch (main) {
    case 'SELECT':
    case 'VALUES':
      c.kind = 'select';
      add('read');
      break;
    case 'INSERT':
      c.kind = 'insert';
      add('write');
      if (word(tokens[mainAt + 1]) === 'OVERWRITE') {
        flag('overwrite');
        add('destructive');
      }
      break;
    case 'UPDATE':
      c.kind = 'update';
      add('write');
      break;
    case 'DELETE':
      c.kind = 'delete';
      add('write');
      break;
    case 'MERGE':
      c.kind = 'merge';
      add('write');
      break;
    case 'TRUNCATE': {
      c.kind = 'truncate';
      add('write', 'destructive');
      let i = mainAt + 1;
      while (['TABLE', 'IF', 'EXISTS'].includes(word(tokens[i]) ?? '')) i++;
      const name = readName(tokens, i);
      if (name) c.targets.push(name.parts);
      c.lexicallyComplete = isSimple(tokens) && name !== undefined && name.next === tokens.length;
      break;
    }
    case 'COPY': {
      c.kind = 'copy';
      // COPY INTO @stage / 'location' unloads data; COPY INTO table loads it; COPY FILES moves stage files.
      const intoAt = tokens.findIndex((t, k) => k > mainAt && t.kind === 'word' && t.text === 'INTO');
      const after = intoAt >= 0 ? tokens[intoAt + 1] : undefined;
      const into = intoAt >= 0 ? readName(tokens, intoAt + 1) : undefined;
      const fromAt = tokens.findIndex((t, k) => k > intoAt && t.kind === 'word' && t.text === 'FROM');
      const from = fromAt >= 0 ? readName(tokens, fromAt + 1) : undefined;
      if (word(tokens[mainAt + 1]) === 'FILES' || after?.text === '@' || after?.kind === 'string' || after?.text === '~') {
        c.object = 'location';
        add('exfiltration');
        if (from) c.sources.push(from.parts);
      } else {
        c.object = 'table';
        if (into) c.targets.push(into.parts);
        add('write');
        // Loading reads from a stage or an external location.
        add('stage');
      }
      break;
    }
    case 'PUT':
    case 'GET':
      c.kind = main === 'PUT' ? 'put' : 'get';
      add('exfiltration');
      break;
    case 'LIST':
    case 'LS':
      c.kind = 'list';
      add('stage');
      break;
    case 'REMOVE':
    case 'RM':
      c.kind = 'remove';
      add('stage', 'destructive');
      break;
    case 'CREATE':
    case 'ALTER':
    case 'DROP':
    case 'UNDROP': {
      c.kind = main.toLowerCase() as Kind;
      let i = mainAt + 1;
      while (i < tokens.length && MODIFIERS.has(word(tokens[i]) ?? '')) {
        if (word(tokens[i]) === 'REPLACE') flag('replace');
        i++;
      }
      const obj = matchObject(tokens, i);
      if (obj) {
        c.object = obj.object;
        let j = obj.next;
        while (j < tokens.length && MODIFIERS.has(word(tokens[j]) ?? '')) j++;
        const name = readName(tokens, j);
        if (name) c.targets.push(name.parts);
      }
      add('ddl');
      if (c.kind === 'drop') add('destructive');
      if (c.flags.includes('replace')) add('destructive');
      if (words.includes('CLONE')) flag('clone');
      if (c.kind === 'alter' && words.some((w) => w === 'DROP' || w === 'SWAP' || w === 'RENAME' || w === 'UNSET')) {
        add('destructive');
      }
      if (c.object) for (const cat of OBJECT_CATEGORY[c.object] ?? []) add(cat);
      if (c.object === 'session') {
        // ALTER SESSION changes the shared warehouse session, not a schema object.
        c.categories = c.categories.filter((x) => x !== 'ddl');
      }
      if (c.object === 'database' || c.object === 'schema') {
        if (c.kind === 'drop') flag('drop_container');
      }
      if (!c.object) flag('unknown_object');
      // DROP/UNDROP <object> [IF EXISTS] <name> [CASCADE|RESTRICT] is fully explained by its tokens.
      if ((c.kind === 'drop' || c.kind === 'undrop') && c.object && c.targets.length === 1 && isSimple(tokens)) {
        c.lexicallyComplete = true;
      }
      break;
    }
    case 'GRANT':
    case 'REVOKE':
      c.kind = main === 'GRANT' ? 'grant' : 'revoke';
      add('privilege');
      // GRANT … TO SHARE hands data to another account.
      if (words.includes('SHARE')) add('exfiltration');
      if (c.flags.includes('admin_role') || words.includes('OWNERSHIP') || (words.includes('ALL') && words.includes('ACCOUNT'))) {
        add('account');
      }
      break;
    case 'USE': {
      c.kind = 'use';
      const obj = matchObject(tokens, 1);
      c.object = obj?.object ?? 'database';
      add('session');
      if (c.object === 'role' || c.object === 'secondary_roles') add('privilege');
      if (c.flags.includes('admin_role')) add('account');
      const name = readName(tokens, obj?.next ?? 1);
      if (name) c.targets.push(name.parts);
      c.lexicallyComplete = isSimple(tokens);
      break;
    }
    case 'SHOW':
      c.kind = 'show';
      add('read');
      c.lexicallyComplete = isSimple(tokens);
      break;
    case 'DESC':
    case 'DESCRIBE': {
      c.kind = 'describe';
      add('read');
      const obj = matchObject(tokens, 1);
      if (obj) c.object = obj.object;
      const name = readName(tokens, obj?.next ?? 1);
      if (name) c.targets.push(name.parts);
      c.lexicallyComplete = isSimple(tokens);
      break;
    }
    case 'EXPLAIN':
      c.kind = 'explain';
      add('read');
      break;
    case 'CALL':
      c.kind = 'call';
      add('code');
      break;
    case 'EXECUTE':
    case 'EXEC':
      if (word(tokens[1]) === 'IMMEDIATE') {
        c.kind = 'execute_immediate';
        add('code');
      } else if (word(tokens[1]) === 'TASK') {
        c.kind = 'execute_task';
        add('code');
        const name = readName(tokens, 2);
        if (name) c.targets.push(name.parts);
      } else {
        add('unknown');
      }
      break;
    case 'SET':
    case 'UNSET':
      c.kind = main === 'SET' ? 'set' : 'unset';
      add('session');
      break;
    case 'BEGIN':
    case 'START':
      // BEGIN [TRANSACTION|WORK] [NAME x] is a transaction; BEGIN … END is a script block.
      if (main === 'START' && word(tokens[1]) !== 'TRANSACTION') {
        add('unknown');
        break;
      }
      if (tokens.slice(1).every((t) => ['TRANSACTION', 'WORK', 'NAME'].includes(t.text) || t.kind === 'quoted' || (t.kind === 'word' && tokens[tokens.indexOf(t) - 1]?.text === 'NAME'))) {
        c.kind = 'begin';
        add('transaction');
        c.lexicallyComplete = true;
      } else {
        add('code', 'unknown');
        flag('script_block');
      }
      break;
    case 'COMMIT':
    case 'ROLLBACK':
      c.kind = main === 'COMMIT' ? 'commit' : 'rollback';
      add('transaction');
      c.lexicallyComplete = tokens.slice(1).every((t) => t.text === 'WORK');
      break;
    case 'COMMENT':
      c.kind = 'comment';
      add('ddl');
      break;
    default:
      add('unknown');
  }
  if (c.kind === 'unknown' && !c.categories.includes('unknown')) add('unknown');

  // A read whose tokens carry a write verb (outside strings and quoted names) is never a plain read.
  if (c.kind === 'select' || c.kind === 'explain' || c.kind === 'show' || c.kind === 'describe') {
    const hidden = tokens.find(
      (t, k) => t.kind === 'word' && WRITE_WORDS.has(t.text) && tokens[k + 1]?.text !== '(' && tokens[k - 1]?.text !== '.',
    );
    if (hidden && !(c.kind === 'show' || c.kind === 'describe')) flag('hidden_write');
  }

  c.tags = [c.kind];
  if (c.object) for (const o of generalObjects(c.object)) c.tags.push(`${c.kind}_${o}`);
  if (c.kind === 'copy' && c.object === 'location') c.tags.push('unload');
  if (c.kind === 'copy' && c.object === 'table') c.tags.push('load');
  return c;
}

/** Statements the tokens fully explain: words, names, literals, dots, commas, `=` and `@` only. */
function isSimple(tokens: readonly Token[]): boolean {
  return tokens.every((t) => t.kind !== 'symbol' || ['.', ',', '=', '@', '/', '*', '%'].includes(t.text));
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
