/**
 * Snowflake ↔ DuckDB type names. Semi-structured types (VARIANT, OBJECT,
 * ARRAY) all become DuckDB JSON so that `:path` access, PARSE_JSON and the
 * wire encoding (JSON text) behave the same whichever one a table declares.
 */
import type { Node } from './ast.ts';
import { refuse } from './errors.ts';

const SIMPLE: Record<string, string> = {
  NUMBER: 'DECIMAL(38,0)',
  DECIMAL: 'DECIMAL(38,0)',
  NUMERIC: 'DECIMAL(38,0)',
  INT: 'DECIMAL(38,0)',
  INTEGER: 'DECIMAL(38,0)',
  BIGINT: 'DECIMAL(38,0)',
  SMALLINT: 'DECIMAL(38,0)',
  TINYINT: 'DECIMAL(38,0)',
  BYTEINT: 'DECIMAL(38,0)',
  FLOAT: 'DOUBLE',
  FLOAT4: 'DOUBLE',
  FLOAT8: 'DOUBLE',
  DOUBLE: 'DOUBLE',
  'DOUBLE PRECISION': 'DOUBLE',
  REAL: 'DOUBLE',
  VARCHAR: 'VARCHAR',
  CHAR: 'VARCHAR',
  CHARACTER: 'VARCHAR',
  NCHAR: 'VARCHAR',
  STRING: 'VARCHAR',
  TEXT: 'VARCHAR',
  NVARCHAR: 'VARCHAR',
  NVARCHAR2: 'VARCHAR',
  'CHAR VARYING': 'VARCHAR',
  'CHARACTER VARYING': 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIME: 'TIME',
  DATETIME: 'TIMESTAMP',
  TIMESTAMP: 'TIMESTAMP',
  TIMESTAMP_NTZ: 'TIMESTAMP',
  TIMESTAMPNTZ: 'TIMESTAMP',
  'TIMESTAMP WITHOUT TIME ZONE': 'TIMESTAMP',
  TIMESTAMP_LTZ: 'TIMESTAMPTZ',
  TIMESTAMPLTZ: 'TIMESTAMPTZ',
  TIMESTAMP_TZ: 'TIMESTAMPTZ',
  TIMESTAMPTZ: 'TIMESTAMPTZ',
  'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
  'TIMESTAMP WITH LOCAL TIME ZONE': 'TIMESTAMPTZ',
  BINARY: 'BLOB',
  VARBINARY: 'BLOB',
  BLOB: 'BLOB',
  BYTEA: 'BLOB',
  VARIANT: 'JSON',
  OBJECT: 'JSON',
  ARRAY: 'JSON',
  JSON: 'JSON',
};


/**
 * Translate a Snowflake type name (`NUMBER(10,2)`, `timestamp_ntz(9)`,
 * `VARCHAR(20)`) to a DuckDB type name. Integer types become DECIMAL(38,0):
 * Snowflake has only NUMBER, and `1::int / 3` must keep NUMBER semantics.
 */
export function duckType(snowflakeType: string): string {
  const m = snowflakeType
    .trim()
    .toUpperCase()
    .match(/^([A-Z_0-9 ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/);
  if (!m) refuse(`type ${snowflakeType}`);
  const base = m[1]!.replace(/\s+/g, ' ');
  const p = m[2];
  const s = m[3];
  if (base === 'NUMBER' || base === 'DECIMAL' || base === 'NUMERIC') {
    if (p === undefined) return 'DECIMAL(38,0)';
    const prec = Number(p);
    if (prec < 1 || prec > 38) refuse(`NUMBER precision ${p}`);
    return `DECIMAL(${prec},${s ?? 0})`;
  }
  const mapped = SIMPLE[base];
  if (mapped === undefined) refuse(`type ${snowflakeType}`);
  return mapped;
}

/**
 * Column comment that records a Snowflake type DuckDB cannot hold apart:
 * TIMESTAMP_TZ and TIMESTAMP_LTZ are both DuckDB TIMESTAMPTZ, so a column
 * declared TIMESTAMP_TZ gets this comment right after its CREATE/ALTER TABLE.
 */
export const DECLARED_TYPE_PREFIX = 'snowflake:';
export const TIMESTAMP_TZ_COMMENT = `${DECLARED_TYPE_PREFIX}TIMESTAMP_TZ`;

/** A column comment as users see it: the emulator's type marker is hidden. */
export function userCommentSql(comment: string): string {
  return `CASE WHEN starts_with(${comment}, '${DECLARED_TYPE_PREFIX}') THEN NULL ELSE ${comment} END`;
}

/** `WHEN` branch for a column whose comment marks it TIMESTAMP_TZ (empty when no comment column is given). */
function tzBranch(comment: string | undefined, dataType: string, then: string): string {
  return comment === undefined
    ? ''
    : `WHEN ${comment} = '${TIMESTAMP_TZ_COMMENT}' AND ${dataType} = 'TIMESTAMP WITH TIME ZONE' THEN ${then}
    `;
}

/**
 * A DuckDB SQL expression giving the Snowflake type name (as SHOW COLUMNS and
 * DESCRIBE TABLE print it) for a `duckdb_columns()` row.
 */
export function snowflakeTypeSql(dataType: string, precision: string, scale: string, comment?: string): string {
  return `CASE
    ${tzBranch(comment, dataType, "'TIMESTAMP_TZ(9)'")}WHEN ${dataType} LIKE 'DECIMAL%' THEN 'NUMBER(' || ${precision} || ',' || ${scale} || ')'
    WHEN ${dataType} IN ('TINYINT','SMALLINT','INTEGER','BIGINT','HUGEINT','UTINYINT','USMALLINT','UINTEGER','UBIGINT','UHUGEINT') THEN 'NUMBER(38,0)'
    WHEN ${dataType} IN ('FLOAT','DOUBLE') THEN 'FLOAT'
    WHEN ${dataType} = 'VARCHAR' THEN 'VARCHAR(16777216)'
    WHEN ${dataType} = 'BOOLEAN' THEN 'BOOLEAN'
    WHEN ${dataType} = 'DATE' THEN 'DATE'
    WHEN ${dataType} = 'TIME' THEN 'TIME(9)'
    WHEN ${dataType} IN ('TIMESTAMP','TIMESTAMP_NS','TIMESTAMP_MS','TIMESTAMP_S') THEN 'TIMESTAMP_NTZ(9)'
    WHEN ${dataType} = 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP_LTZ(9)'
    WHEN ${dataType} = 'BLOB' THEN 'BINARY(8388608)'
    WHEN ${dataType} = 'JSON' THEN 'VARIANT'
    WHEN ${dataType} LIKE '%[]' OR ${dataType} LIKE 'STRUCT%' OR ${dataType} LIKE 'MAP%' THEN 'VARIANT'
    ELSE ${dataType} END`;
}

/** Like {@link snowflakeTypeSql} but the bare INFORMATION_SCHEMA.COLUMNS.DATA_TYPE (`NUMBER`, `TEXT`, …). */
export function snowflakeBaseTypeSql(dataType: string, comment?: string): string {
  return `CASE
    ${tzBranch(comment, dataType, "'TIMESTAMP_TZ'")}WHEN ${dataType} LIKE 'DECIMAL%' OR ${dataType} IN ('TINYINT','SMALLINT','INTEGER','BIGINT','HUGEINT','UTINYINT','USMALLINT','UINTEGER','UBIGINT','UHUGEINT') THEN 'NUMBER'
    WHEN ${dataType} IN ('FLOAT','DOUBLE') THEN 'FLOAT'
    WHEN ${dataType} = 'VARCHAR' THEN 'TEXT'
    WHEN ${dataType} IN ('TIMESTAMP','TIMESTAMP_NS','TIMESTAMP_MS','TIMESTAMP_S') THEN 'TIMESTAMP_NTZ'
    WHEN ${dataType} = 'TIMESTAMP WITH TIME ZONE' THEN 'TIMESTAMP_LTZ'
    WHEN ${dataType} = 'BLOB' THEN 'BINARY'
    WHEN ${dataType} = 'JSON' OR ${dataType} LIKE '%[]' OR ${dataType} LIKE 'STRUCT%' OR ${dataType} LIKE 'MAP%' THEN 'VARIANT'
    ELSE ${dataType} END`;
}

/** SHOW COLUMNS `data_type` JSON (`{"type":"FIXED","precision":38,"scale":0,"nullable":true}`). */
export function snowflakeTypeJsonSql(dataType: string, precision: string, scale: string, nullable: string, comment?: string): string {
  const n = `CASE WHEN ${nullable} THEN 'true' ELSE 'false' END`;
  return `CASE
    ${tzBranch(comment, dataType, `'{"type":"TIMESTAMP_TZ","precision":0,"scale":9,"nullable":' || ${n} || '}'`)}WHEN ${dataType} LIKE 'DECIMAL%' THEN '{"type":"FIXED","precision":' || ${precision} || ',"scale":' || ${scale} || ',"nullable":' || ${n} || '}'
    WHEN ${dataType} IN ('TINYINT','SMALLINT','INTEGER','BIGINT','HUGEINT') THEN '{"type":"FIXED","precision":38,"scale":0,"nullable":' || ${n} || '}'
    WHEN ${dataType} IN ('FLOAT','DOUBLE') THEN '{"type":"REAL","nullable":' || ${n} || '}'
    WHEN ${dataType} = 'VARCHAR' THEN '{"type":"TEXT","length":16777216,"byteLength":16777216,"nullable":' || ${n} || ',"fixed":false}'
    WHEN ${dataType} = 'BOOLEAN' THEN '{"type":"BOOLEAN","nullable":' || ${n} || '}'
    WHEN ${dataType} = 'DATE' THEN '{"type":"DATE","nullable":' || ${n} || '}'
    WHEN ${dataType} = 'TIME' THEN '{"type":"TIME","precision":0,"scale":9,"nullable":' || ${n} || '}'
    WHEN ${dataType} LIKE 'TIMESTAMP WITH%' THEN '{"type":"TIMESTAMP_LTZ","precision":0,"scale":9,"nullable":' || ${n} || '}'
    WHEN ${dataType} LIKE 'TIMESTAMP%' THEN '{"type":"TIMESTAMP_NTZ","precision":0,"scale":9,"nullable":' || ${n} || '}'
    WHEN ${dataType} = 'BLOB' THEN '{"type":"BINARY","length":8388608,"byteLength":8388608,"nullable":' || ${n} || ',"fixed":true}'
    ELSE '{"type":"VARIANT","nullable":' || ${n} || '}' END`;
}

/** The Snowflake type name of a polyglot data type node (`{data_type: 'decimal', precision, scale}` → `NUMBER(p,s)`). */
export function dataTypeName(dt: Node): string {
  switch (dt.data_type) {
    case 'custom':
      return String(dt.name);
    case 'decimal':
      return dt.precision == null ? 'NUMBER' : `NUMBER(${dt.precision},${dt.scale ?? 0})`;
    case 'var_char':
    case 'char':
    case 'text':
    case 'string':
      return 'VARCHAR';
    case 'timestamp':
      return dt.timezone ? 'TIMESTAMP_TZ' : 'TIMESTAMP_NTZ';
    case 'binary':
    case 'var_binary':
    case 'blob':
      return 'BINARY';
    case 'big_int':
    case 'small_int':
    case 'tiny_int':
    case 'int':
      return 'NUMBER';
    case 'double':
    case 'float':
    case 'real':
      return 'FLOAT';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'json':
      return 'VARIANT';
    default:
      return String(dt.data_type).toUpperCase();
  }
}
