/**
 * The Warehouse port: the only way Airlock runs SQL.
 *
 * Owned by the core; adapters (Snowflake via snowflake-sdk) implement it. Rows
 * arrive as an async iterable so large results stream instead of sitting whole
 * in memory.
 */

/** Column metadata, as the warehouse describes it. */
export interface ColumnMeta {
  name: string;
  /** Snowflake type name in lower case as the driver reports it: fixed, real, text, boolean, date, time, timestamp_ntz, timestamp_ltz, timestamp_tz, binary, variant, object, array. */
  type: string;
  nullable: boolean;
  precision?: number | null;
  scale?: number | null;
  length?: number | null;
  /** Where the column came from, when the warehouse knows (plain column references). */
  database?: string | null;
  schema?: string | null;
  table?: string | null;
}

/**
 * A row as JSON-safe values in column order (arrays, not objects: result
 * columns may share a name). Numbers that a double cannot hold exactly stay
 * strings; dates and timestamps are strings as the warehouse formats them.
 */
export type Row = unknown[];

export interface ExecuteOptions {
  /** Aborting cancels the running statement in the warehouse. */
  signal?: AbortSignal;
  /** Statement timeout in milliseconds. */
  timeoutMs?: number;
  /** Stop reading after this many rows; `truncated` is then true. */
  maxRows?: number;
  /** Recorded as Snowflake QUERY_TAG so the warehouse's history links back to Airlock. */
  queryTag?: string;
}

export interface ExecuteResult {
  /** The warehouse's own id for the statement (Snowflake query id). */
  queryId: string;
  columns: ColumnMeta[];
  /**
   * Rows, streamed. Iterate once, to the end or until you `break`: adapters
   * may hold a connection until then (DML results need no draining).
   */
  rows: AsyncIterable<Row>;
  /** For DML: rows inserted/updated/deleted; undefined otherwise. */
  rowsAffected?: number;
  /** Set after `rows` is drained: true when `maxRows` cut the result short. */
  readonly truncated: boolean;
}

/** Runs statements; errors are AirlockErrors with WAREHOUSE_* codes. */
export interface Warehouse {
  execute(sql: string, options?: ExecuteOptions): Promise<ExecuteResult>;
  /** Release connections. */
  close(): Promise<void>;
}
