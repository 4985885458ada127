/**
 * Contract between the emulator's wire server (src/emulator/*.ts) and its SQL
 * layer (src/emulator/sql/): the server hands Snowflake SQL to `translate`, runs
 * what comes back on DuckDB, and encodes the result the Snowflake way.
 *
 * Naming: a Snowflake DATABASE.SCHEMA.TABLE is the DuckDB catalog.schema.table
 * of the same (upper-case) names. The server's engine attaches one DuckDB
 * catalog per Snowflake database.
 */

/** The session's current database and schema (Snowflake names, upper case). */
export interface SqlContext {
  database: string;
  schema: string;
}

/** What kind of statement ran; decides `statementTypeId` and DML row counts. */
export type StatementType =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'merge'
  | 'ddl'
  | 'use'
  | 'show'
  | 'describe'
  | 'set'
  | 'transaction'
  | 'other';

/** Where an output column came from, for rowtype `database/schema/table`. */
export interface ColumnOrigin {
  database: string;
  schema: string;
  table: string;
}

/** A Snowflake-style error the server returns with HTTP 200 and `success:false`. */
export interface SnowflakeSqlError {
  /** Snowflake error code, six digits as a string, e.g. '002003'. */
  code: string;
  /** ANSI SQLSTATE, e.g. '42S02'. */
  sqlState: string;
  message: string;
}

/** Column of a synthesized result, typed the Snowflake way. */
export interface SyntheticColumn {
  name: string;
  /** Snowflake rowtype type: fixed, real, text, boolean, date, timestamp_ltz, … */
  type: string;
  precision?: number;
  scale?: number;
}

export type Translation =
  /** Run this DuckDB SQL; columns of the result are named as Snowflake would name them. */
  | {
      kind: 'duckdb';
      sql: string;
      statementType: StatementType;
      /** Per output column, when it is a plain column reference; null otherwise. */
      columnOrigins?: (ColumnOrigin | null)[];
      /**
       * Per output column, a Snowflake rowtype type that overrides the one the
       * DuckDB result type implies (today only `'timestamp_tz'`, which DuckDB
       * cannot tell from TIMESTAMP_LTZ); null where the DuckDB type decides.
       */
      columnTypes?: (string | null)[];
      /**
       * DuckDB statements to run, in order, right after `sql` succeeds (e.g.
       * the column comments that record a declared TIMESTAMP_TZ type).
       */
      followUp?: string[];
    }
  /** A result computed without DuckDB (USE, ALTER SESSION, …); `rows` hold JS values. */
  | {
      kind: 'result';
      statementType: StatementType;
      columns: SyntheticColumn[];
      rows: unknown[][];
      /** New session context after USE DATABASE/SCHEMA. */
      context?: Partial<SqlContext>;
    }
  /** Refuse: a Snowflake error, including "unsupported in the emulator". */
  | { kind: 'error'; error: SnowflakeSqlError };

/** Optional session facts the translator can use; all beyond SqlContext are optional. */
export interface TranslateContext extends SqlContext {
  user?: string;
  role?: string;
  warehouse?: string;
  /**
   * Column names of a table (upper case, in order), if the engine knows them.
   * Lets `columnOrigins` cover `SELECT *`; without it a star gives no origins.
   */
  columnsOf?(database: string, schema: string, table: string): string[] | undefined;
  /**
   * Declared Snowflake type per column of a table (same order as `columnsOf`)
   * where DuckDB's type does not tell it, e.g. `'TIMESTAMP_TZ'`; null elsewhere.
   */
  declaredTypesOf?(database: string, schema: string, table: string): (string | null)[] | undefined;
}

/** Per-statement state of a rewrite. */
export interface RewriteState {
  ctx: TranslateContext;
  /** CTE names (folded) visible anywhere in the statement. */
  ctes: Set<string>;
  /** Placeholder table name → SQL text of the subquery that replaces it. */
  placeholders: Map<string, string>;
  /** Placeholder table name → the table it samples (for columnOrigins). */
  placeholderOrigins: Map<string, { database: string; schema: string; table: string }>;
  /** Builds the SQL for an INFORMATION_SCHEMA view of a database. */
  infoSchema(database: string, view: string): string | undefined;
  /**
   * Names (folded alias or table name) of the FROM sources of each SELECT
   * being rewritten, innermost last; `null` for a source that has no name.
   * `OBJECT_CONSTRUCT(*)` expands over the innermost one.
   */
  scopes?: (string | null)[][];
}
