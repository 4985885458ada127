/**
 * Snowflake metadata statements (SHOW …, DESCRIBE TABLE) and the
 * INFORMATION_SCHEMA views, answered with DuckDB queries over its catalog
 * functions so they always reflect the live database. Column names and type
 * names follow Snowflake's.
 */
import { errorResult, unsupported } from './errors.ts';
import { isWord, type Token } from './lexer.ts';
import type { TranslateContext } from './types.ts';
import { snowflakeBaseTypeSql, snowflakeTypeJsonSql, snowflakeTypeSql, userCommentSql } from './type-map.ts';
import type { Translation } from './types.ts';

/** Fixed creation time reported for every object: the emulator does not track it. */
const CREATED_ON = "TIMESTAMPTZ '2024-01-01 00:00:00+00'";
const OWNER = "'ACCOUNTADMIN'";

/** DuckDB schemas that are not Snowflake schemas. */
const HIDDEN_SCHEMAS = "('main', 'pg_catalog', 'information_schema')";
/** DuckDB catalogs that are not Snowflake databases. */
const HIDDEN_DATABASES = "('memory', 'system', 'temp')";

/** SQL string literal. */
export function q(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Snowflake name token value: unquoted → upper case, quoted → as is. */
function nameOf(t: Token): string {
  return t.kind === 'quoted' ? t.value : t.value.toUpperCase();
}

/** Read a dotted name (`a`, `a.b`, `a.b.c`) at `i`; returns parts and the next index. */
function readName(toks: Token[], i: number): { parts: string[]; next: number } {
  const parts: string[] = [];
  while (i < toks.length && (toks[i]!.kind === 'word' || toks[i]!.kind === 'quoted')) {
    parts.push(nameOf(toks[i]!));
    i++;
    if (toks[i]?.value === '.') i++;
    else break;
  }
  return { parts, next: i };
}

function resolveTable(parts: string[], ctx: TranslateContext): [string, string, string] | undefined {
  if (parts.length === 1) return [ctx.database, ctx.schema, parts[0]!];
  if (parts.length === 2) return [ctx.database, parts[0]!, parts[1]!];
  if (parts.length === 3) return [parts[0]!, parts[1]!, parts[2]!];
  return undefined;
}

/** Error (raised by DuckDB at run time) when an object is missing, so the check sees the live catalog. */
function existsCheck(kind: 'table' | 'schema' | 'database', db: string, schema: string, table: string): string {
  const full = kind === 'table' ? `${db}.${schema}.${table}` : kind === 'schema' ? `${db}.${schema}` : db;
  let cond: string;
  if (kind === 'table') {
    cond = `EXISTS (SELECT 1 FROM duckdb_tables() WHERE database_name = ${q(db)} AND schema_name = ${q(schema)} AND table_name = ${q(table)})
      OR EXISTS (SELECT 1 FROM duckdb_views() WHERE database_name = ${q(db)} AND schema_name = ${q(schema)} AND view_name = ${q(table)})`;
  } else if (kind === 'schema') {
    cond = `EXISTS (SELECT 1 FROM duckdb_schemas() WHERE database_name = ${q(db)} AND schema_name = ${q(schema)})`;
  } else {
    cond = `EXISTS (SELECT 1 FROM duckdb_databases() WHERE database_name = ${q(db)})`;
  }
  const label = kind === 'table' ? 'Table' : kind === 'schema' ? 'Schema' : 'Catalog';
  const msg = kind === 'table' ? `Table with name ${full} does not exist!` : `${label} "${full}" does not exist!`;
  return `(SELECT CASE WHEN ${cond} THEN true ELSE error(${q(msg)}) END)`;
}

interface ShowScope {
  like?: string;
  startsWith?: string;
  limit?: number;
  database?: string;
  schema?: string;
  table?: string;
  account?: boolean;
  terse?: boolean;
}

/** Parse `[TERSE] SHOW <what> [LIKE '...'] [IN ACCOUNT|DATABASE d|SCHEMA s|TABLE t|d.s] [STARTS WITH '..'] [LIMIT n]`. */
function parseScope(toks: Token[], start: number): ShowScope | string {
  const s: ShowScope = {};
  let i = start;
  while (i < toks.length) {
    const t = toks[i]!;
    if (isWord(t, 'LIKE') && toks[i + 1]?.kind === 'string') {
      s.like = toks[i + 1]!.value;
      i += 2;
    } else if (isWord(t, 'IN')) {
      i++;
      const kw = toks[i];
      if (isWord(kw, 'ACCOUNT')) {
        s.account = true;
        i++;
      } else if (isWord(kw, 'DATABASE')) {
        const r = readName(toks, i + 1);
        if (r.parts.length > 0) s.database = r.parts[0];
        else s.database = '';
        i = r.next;
      } else if (isWord(kw, 'SCHEMA')) {
        const r = readName(toks, i + 1);
        if (r.parts.length === 2) [s.database, s.schema] = r.parts;
        else if (r.parts.length === 1) s.schema = r.parts[0];
        else s.schema = '';
        i = r.next;
      } else if (isWord(kw, 'TABLE', 'VIEW')) {
        const r = readName(toks, i + 1);
        if (r.parts.length === 0) return 'IN TABLE needs a table name';
        s.table = r.parts.join('.');
        i = r.next;
      } else {
        const r = readName(toks, i);
        if (r.parts.length === 1) s.database = r.parts[0];
        else if (r.parts.length === 2) [s.database, s.schema] = r.parts;
        else return 'unrecognized IN clause';
        i = r.next;
      }
    } else if (isWord(t, 'STARTS') && isWord(toks[i + 1], 'WITH') && toks[i + 2]?.kind === 'string') {
      s.startsWith = toks[i + 2]!.value;
      i += 3;
    } else if (isWord(t, 'LIMIT') && toks[i + 1]?.kind === 'number') {
      s.limit = Number(toks[i + 1]!.value);
      i += 2;
      if (isWord(toks[i], 'FROM') && toks[i + 1]?.kind === 'string') i += 2;
    } else if (isWord(t, 'HISTORY')) {
      return 'SHOW … HISTORY';
    } else {
      return `'${t.text}'`;
    }
  }
  return s;
}

function nameFilters(col: string, s: ShowScope): string {
  let w = '';
  if (s.like !== undefined) w += ` AND ${col} ILIKE ${q(s.like)} ESCAPE '\\'`;
  if (s.startsWith !== undefined) w += ` AND starts_with(${col}, ${q(s.startsWith)})`;
  return w;
}

function limit(s: ShowScope): string {
  return s.limit !== undefined ? ` LIMIT ${s.limit}` : '';
}

function show(sql: string): Translation {
  return { kind: 'duckdb', sql, statementType: 'show' };
}

/** Scope → (database, schema) filter for object listings; schema undefined means whole database. */
function objectScope(s: ShowScope, ctx: TranslateContext): { db?: string; schema?: string; check: string } {
  if (s.account) return { check: '' };
  if (s.database !== undefined && s.schema === undefined) {
    const db = s.database || ctx.database;
    return { db, check: existsCheck('database', db, '', '') };
  }
  const db = s.database || ctx.database;
  const schema = s.schema || ctx.schema;
  return { db, schema, check: existsCheck('schema', db, schema, '') };
}

function scopeWhere(scope: { db?: string; schema?: string }): string {
  let w = `database_name NOT IN ${HIDDEN_DATABASES} AND schema_name NOT IN ${HIDDEN_SCHEMAS}`;
  if (scope.db !== undefined) w += ` AND database_name = ${q(scope.db)}`;
  if (scope.schema !== undefined) w += ` AND schema_name = ${q(scope.schema)}`;
  return w;
}

/** The existence check as a leading WHERE conjunct (an uncorrelated scalar subquery is always evaluated). */
function chk(check: string): string {
  return check ? `${check} AND ` : '';
}

/** SHOW TABLES / SHOW OBJECTS / SHOW VIEWS. */
function showTables(what: 'TABLES' | 'VIEWS' | 'OBJECTS', s: ShowScope, ctx: TranslateContext): Translation {
  const scope = objectScope(s, ctx);
  const tables = `SELECT ${CREATED_ON} AS "created_on", table_name AS "name", database_name AS "database_name", schema_name AS "schema_name",
      'TABLE' AS "kind", COALESCE(comment, '') AS "comment", '' AS "cluster_by", CAST(estimated_size AS BIGINT) AS "rows",
      CAST(estimated_size * column_count * 8 AS BIGINT) AS "bytes", ${OWNER} AS "owner", '1' AS "retention_time",
      'OFF' AS "automatic_clustering", 'OFF' AS "change_tracking", 'N' AS "is_external", 'N' AS "enable_schema_evolution",
      'ROLE' AS "owner_role_type", 'N' AS "is_event", CAST(NULL AS VARCHAR) AS "budget", 'N' AS "is_hybrid", 'N' AS "is_iceberg",
      'N' AS "is_dynamic", 'N' AS "is_immutable"
    FROM duckdb_tables() WHERE ${chk(scope.check)}NOT internal AND ${scopeWhere(scope)}${nameFilters('table_name', s)}`;
  const views = `SELECT ${CREATED_ON} AS "created_on", view_name AS "name", '' AS "reserved", database_name AS "database_name",
      schema_name AS "schema_name", ${OWNER} AS "owner", COALESCE(comment, '') AS "comment", sql AS "text", 'false' AS "is_secure",
      'false' AS "is_materialized", 'ROLE' AS "owner_role_type", 'OFF' AS "change_tracking"
    FROM duckdb_views() WHERE ${chk(scope.check)}NOT internal AND ${scopeWhere(scope)}${nameFilters('view_name', s)}`;
  if (what === 'TABLES') return show(`${tables} ORDER BY "database_name", "schema_name", "name"${limit(s)}`);
  if (what === 'VIEWS') return show(`${views} ORDER BY "database_name", "schema_name", "name"${limit(s)}`);
  const objects = `SELECT ${CREATED_ON} AS "created_on", table_name AS "name", database_name AS "database_name", schema_name AS "schema_name",
      'TABLE' AS "kind", COALESCE(comment, '') AS "comment", '' AS "cluster_by", CAST(estimated_size AS BIGINT) AS "rows",
      CAST(0 AS BIGINT) AS "bytes", ${OWNER} AS "owner", '1' AS "retention_time", 'ROLE' AS "owner_role_type"
    FROM duckdb_tables() WHERE ${chk(scope.check)}NOT internal AND ${scopeWhere(scope)}${nameFilters('table_name', s)}
    UNION ALL
    SELECT ${CREATED_ON}, view_name, database_name, schema_name, 'VIEW', COALESCE(comment, ''), '', CAST(NULL AS BIGINT), CAST(0 AS BIGINT),
      ${OWNER}, '1', 'ROLE'
    FROM duckdb_views() WHERE ${chk(scope.check)}NOT internal AND ${scopeWhere(scope)}${nameFilters('view_name', s)}`;
  return show(`SELECT * FROM (${objects}) ORDER BY "database_name", "schema_name", "name"${limit(s)}`);
}

function showSchemas(s: ShowScope, ctx: TranslateContext): Translation {
  const db = s.account ? undefined : s.database || ctx.database;
  const check = db !== undefined ? existsCheck('database', db, '', '') : '';
  const dbFilter = db !== undefined ? ` AND database_name = ${q(db)}` : ` AND database_name NOT IN ${HIDDEN_DATABASES}`;
  const cols = (nameCol: string) => `${CREATED_ON} AS "created_on", ${nameCol} AS "name", 'N' AS "is_default",
      CASE WHEN database_name = ${q(ctx.database)} AND ${nameCol} = ${q(ctx.schema)} THEN 'Y' ELSE 'N' END AS "is_current",
      database_name AS "database_name", ${OWNER} AS "owner", '' AS "comment", '' AS "options", '1' AS "retention_time",
      'ROLE' AS "owner_role_type"`;
  const sql = `SELECT * FROM (
      SELECT ${cols('schema_name')} FROM duckdb_schemas()
      WHERE ${chk(check)}NOT internal AND schema_name NOT IN ${HIDDEN_SCHEMAS}${dbFilter}${nameFilters('schema_name', s)}
      UNION ALL
      SELECT ${cols("'INFORMATION_SCHEMA'")} FROM duckdb_databases()
      WHERE ${chk(check)}NOT internal${dbFilter}${nameFilters("'INFORMATION_SCHEMA'", s)}
    ) ORDER BY "database_name", "name"${limit(s)}`;
  return show(sql);
}

function showDatabases(s: ShowScope, ctx: TranslateContext): Translation {
  const sql = `SELECT ${CREATED_ON} AS "created_on", database_name AS "name", 'N' AS "is_default",
      CASE WHEN database_name = ${q(ctx.database)} THEN 'Y' ELSE 'N' END AS "is_current", '' AS "origin", ${OWNER} AS "owner",
      COALESCE(comment, '') AS "comment", '' AS "options", '1' AS "retention_time", 'STANDARD' AS "kind",
      CAST(NULL AS VARCHAR) AS "budget", 'ROLE' AS "owner_role_type"
    FROM duckdb_databases() WHERE NOT internal AND database_name NOT IN ${HIDDEN_DATABASES}${nameFilters('database_name', s)}
    ORDER BY "name"${limit(s)}`;
  return show(sql);
}

function showColumns(s: ShowScope, ctx: TranslateContext): Translation {
  let where: string;
  let check = '';
  if (s.table !== undefined) {
    const t = resolveTable(s.table.split('.'), ctx);
    if (!t) return errorResult('syntax', `SQL compilation error:\ninvalid table name '${s.table}'`);
    where = `database_name = ${q(t[0])} AND schema_name = ${q(t[1])} AND table_name = ${q(t[2])}`;
    check = existsCheck('table', t[0], t[1], t[2]);
  } else {
    const scope = objectScope(s, ctx);
    where = scopeWhere(scope);
    check = scope.check;
  }
  const sql = `SELECT table_name AS "table_name", schema_name AS "schema_name", column_name AS "column_name",
      ${snowflakeTypeJsonSql('data_type', 'numeric_precision', 'numeric_scale', 'is_nullable', 'comment')} AS "data_type",
      CASE WHEN is_nullable THEN 'true' ELSE 'false' END AS "null?", COALESCE(column_default, '') AS "default",
      'COLUMN' AS "kind", '' AS "expression", COALESCE(${userCommentSql('comment')}, '') AS "comment", database_name AS "database_name",
      '' AS "autoincrement", CAST(NULL AS VARCHAR) AS "schema_evolution_record"
    FROM duckdb_columns() WHERE ${chk(check)}NOT internal AND ${where}${nameFilters('column_name', s)}
    ORDER BY "database_name", "schema_name", "table_name", column_index${limit(s)}`;
  return show(sql);
}

/** DESCRIBE TABLE / DESC VIEW. */
function describeTable(toks: Token[], i: number, ctx: TranslateContext): Translation {
  const r = readName(toks, i);
  const t = resolveTable(r.parts, ctx);
  if (!t) return errorResult('syntax', 'SQL compilation error:\nDESCRIBE needs a table name');
  let next = r.next;
  if (isWord(toks[next], 'TYPE') && toks[next + 1]?.value === '=') next += 3;
  if (next < toks.length) return errorResult('syntax', `SQL compilation error:\nsyntax error line 1 at position ${toks[next]!.start} unexpected '${toks[next]!.text}'.`);
  const [db, schema, table] = t;
  const sql = `SELECT column_name AS "name", ${snowflakeTypeSql('data_type', 'numeric_precision', 'numeric_scale', 'comment')} AS "type",
      'COLUMN' AS "kind", CASE WHEN is_nullable THEN 'Y' ELSE 'N' END AS "null?", column_default AS "default",
      'N' AS "primary key", 'N' AS "unique key", CAST(NULL AS VARCHAR) AS "check", CAST(NULL AS VARCHAR) AS "expression",
      ${userCommentSql('comment')} AS "comment", CAST(NULL AS VARCHAR) AS "policy name", CAST(NULL AS VARCHAR) AS "privacy domain"
    FROM duckdb_columns()
    WHERE ${existsCheck('table', db, schema, table)} AND database_name = ${q(db)} AND schema_name = ${q(schema)} AND table_name = ${q(table)}
    ORDER BY column_index`;
  return { kind: 'duckdb', sql, statementType: 'describe' };
}

/** Handle a statement starting with SHOW (or TERSE SHOW) or DESCRIBE/DESC. */
export function translateMetadata(toks: Token[], ctx: TranslateContext): Translation {
  let i = 0;
  if (isWord(toks[0], 'DESC', 'DESCRIBE')) {
    if (isWord(toks[1], 'TABLE', 'VIEW')) return describeTable(toks, 2, ctx);
    if (isWord(toks[1], 'RESULT', 'QUERY', 'FUNCTION', 'PROCEDURE', 'STAGE', 'WAREHOUSE', 'USER', 'DATABASE', 'SCHEMA')) {
      return unsupported(`DESCRIBE ${toks[1]!.value}`);
    }
    return describeTable(toks, 1, ctx);
  }
  let terse = false;
  if (isWord(toks[0], 'TERSE')) {
    terse = true;
    i = 1;
  }
  i++; // SHOW
  if (isWord(toks[i], 'TERSE')) {
    terse = true;
    i++;
  }
  const what = toks[i]?.value ?? '';
  const scope = parseScope(toks, i + 1);
  if (typeof scope === 'string') return unsupported(`SHOW ${what} with ${scope}`);
  scope.terse = terse;
  switch (what) {
    case 'TABLES':
      return showTables('TABLES', scope, ctx);
    case 'VIEWS':
      return showTables('VIEWS', scope, ctx);
    case 'OBJECTS':
      return showTables('OBJECTS', scope, ctx);
    case 'SCHEMAS':
      return showSchemas(scope, ctx);
    case 'DATABASES':
      return showDatabases(scope, ctx);
    case 'COLUMNS':
      return showColumns(scope, ctx);
    default:
      return unsupported(`SHOW ${toks.slice(i, i + 2).map((t) => t.value).join(' ')}`);
  }
}

/** SQL of an INFORMATION_SCHEMA view of `database`, or undefined if the emulator lacks it. */
export function infoSchemaSql(database: string, view: string): string | undefined {
  const db = q(database);
  switch (view) {
    case 'COLUMNS':
      return `SELECT database_name AS "TABLE_CATALOG", schema_name AS "TABLE_SCHEMA", table_name AS "TABLE_NAME",
          column_name AS "COLUMN_NAME", CAST(column_index AS INTEGER) AS "ORDINAL_POSITION", column_default AS "COLUMN_DEFAULT",
          CASE WHEN is_nullable THEN 'YES' ELSE 'NO' END AS "IS_NULLABLE", ${snowflakeBaseTypeSql('data_type', 'comment')} AS "DATA_TYPE",
          CASE WHEN data_type = 'VARCHAR' THEN 16777216 WHEN data_type = 'BLOB' THEN 8388608 END AS "CHARACTER_MAXIMUM_LENGTH",
          CASE WHEN data_type = 'VARCHAR' THEN 16777216 WHEN data_type = 'BLOB' THEN 8388608 END AS "CHARACTER_OCTET_LENGTH",
          CASE WHEN data_type LIKE 'DECIMAL%' THEN numeric_precision WHEN data_type IN ('TINYINT','SMALLINT','INTEGER','BIGINT','HUGEINT') THEN 38 END AS "NUMERIC_PRECISION",
          CASE WHEN data_type LIKE 'DECIMAL%' OR data_type IN ('TINYINT','SMALLINT','INTEGER','BIGINT','HUGEINT') THEN 10 WHEN data_type IN ('FLOAT','DOUBLE') THEN 2 END AS "NUMERIC_PRECISION_RADIX",
          CASE WHEN data_type LIKE 'DECIMAL%' THEN numeric_scale WHEN data_type IN ('TINYINT','SMALLINT','INTEGER','BIGINT','HUGEINT') THEN 0 END AS "NUMERIC_SCALE",
          CASE WHEN data_type LIKE 'TIME%' THEN 9 END AS "DATETIME_PRECISION",
          'NO' AS "IS_IDENTITY", ${userCommentSql('comment')} AS "COMMENT"
        FROM duckdb_columns() WHERE NOT internal AND database_name = ${db} AND schema_name NOT IN ${HIDDEN_SCHEMAS}`;
    case 'TABLES':
      return `SELECT database_name AS "TABLE_CATALOG", schema_name AS "TABLE_SCHEMA", table_name AS "TABLE_NAME",
          ${OWNER} AS "TABLE_OWNER", 'BASE TABLE' AS "TABLE_TYPE", 'NO' AS "IS_TRANSIENT", CAST(NULL AS VARCHAR) AS "CLUSTERING_KEY",
          CAST(estimated_size AS BIGINT) AS "ROW_COUNT", CAST(estimated_size * column_count * 8 AS BIGINT) AS "BYTES",
          1 AS "RETENTION_TIME", ${CREATED_ON} AS "CREATED", ${CREATED_ON} AS "LAST_ALTERED", ${CREATED_ON} AS "LAST_DDL",
          'NO' AS "AUTO_CLUSTERING_ON", comment AS "COMMENT"
        FROM duckdb_tables() WHERE NOT internal AND database_name = ${db} AND schema_name NOT IN ${HIDDEN_SCHEMAS}
        UNION ALL
        SELECT database_name, schema_name, view_name, ${OWNER}, 'VIEW', 'NO', NULL, NULL, NULL, NULL, ${CREATED_ON}, ${CREATED_ON},
          ${CREATED_ON}, 'NO', comment
        FROM duckdb_views() WHERE NOT internal AND database_name = ${db} AND schema_name NOT IN ${HIDDEN_SCHEMAS}`;
    case 'SCHEMATA':
      return `SELECT database_name AS "CATALOG_NAME", schema_name AS "SCHEMA_NAME", ${OWNER} AS "SCHEMA_OWNER",
          'NO' AS "IS_TRANSIENT", 'NO' AS "IS_MANAGED_ACCESS", 1 AS "RETENTION_TIME", ${CREATED_ON} AS "CREATED",
          ${CREATED_ON} AS "LAST_ALTERED", comment AS "COMMENT"
        FROM duckdb_schemas() WHERE NOT internal AND database_name = ${db} AND schema_name NOT IN ${HIDDEN_SCHEMAS}`;
    case 'VIEWS':
      return `SELECT database_name AS "TABLE_CATALOG", schema_name AS "TABLE_SCHEMA", view_name AS "TABLE_NAME",
          ${OWNER} AS "TABLE_OWNER", sql AS "VIEW_DEFINITION", 'NONE' AS "CHECK_OPTION", 'NO' AS "IS_UPDATABLE",
          'NO' AS "INSERTABLE_INTO", 'NO' AS "IS_SECURE", ${CREATED_ON} AS "CREATED", ${CREATED_ON} AS "LAST_ALTERED",
          comment AS "COMMENT"
        FROM duckdb_views() WHERE NOT internal AND database_name = ${db} AND schema_name NOT IN ${HIDDEN_SCHEMAS}`;
    case 'DATABASES':
      return `SELECT database_name AS "DATABASE_NAME", ${OWNER} AS "DATABASE_OWNER", 'NO' AS "IS_TRANSIENT",
          comment AS "COMMENT", ${CREATED_ON} AS "CREATED", ${CREATED_ON} AS "LAST_ALTERED", 1 AS "RETENTION_TIME", 'STANDARD' AS "TYPE"
        FROM duckdb_databases() WHERE NOT internal AND database_name NOT IN ${HIDDEN_DATABASES}`;
    default:
      return undefined;
  }
}
