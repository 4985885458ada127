/**
 * The Snowflake adapter of the Warehouse port, on the official snowflake-sdk.
 *
 * Key-pair auth only in production (the private key is read from
 * SNOWFLAKE_PRIVATE_KEY_PATH at start and again by {@link SnowflakeWarehouse.reloadKey}
 * when the file changes, and never logged); a small pool of connections of
 * our own (`snowflake/pool.ts`); statement timeout, cancel on abort and
 * QUERY_TAG per statement; driver errors become WAREHOUSE_* AirlockErrors at
 * the edge (`snowflake/errors.ts`).
 *
 * The driver retries silently and for minutes (7 login retries; 7 retries with
 * backoff up to 16 s for every statement request, not configurable). So the
 * adapter bounds everything itself: few login retries, a heartbeat watchdog
 * while a statement runs, and a grace period after cancel
 * (`snowflake/statement.ts`).
 */
import type { RowStatement } from 'snowflake-sdk';
import { AirlockError } from '../errors.ts';
import type { ColumnMeta, ExecuteOptions, ExecuteResult, Row, Warehouse } from './port.ts';
import { configureDriver, connectionOptions, keyFingerprint, loadPrivateKey } from './snowflake/driver.ts';
import { cancelledError, mapDriverError } from './snowflake/errors.ts';
import { ConnectionPool } from './snowflake/pool.ts';
import { ADAPTER_DEFAULTS, type SnowflakeSettings, WAREHOUSE_DEFAULTS } from './snowflake/settings.ts';
import { runStatement, type StatementState, type StatementTimings } from './snowflake/statement.ts';
import { columnsOf, toJsonValue } from './snowflake/values.ts';

export type { SnowflakeSettings } from './snowflake/settings.ts';
export { mapDriverError } from './snowflake/errors.ts';

/** A statement's state, plus whether its connection went back to the pool. */
interface ExecutionState extends StatementState {
  released: boolean;
}

/** The Snowflake adapter: the port, plus key rotation without a restart. */
export interface SnowflakeWarehouse extends Warehouse {
  /**
   * Read the key file again; when it holds another key, new connections log in
   * with it and connections made with the old one retire (idle ones now, busy
   * ones when their statement ends). An unreadable or undecryptable file throws
   * WAREHOUSE_AUTH and the key in use stays.
   */
  reloadKey(): Promise<{ changed: boolean; fingerprint: string | undefined }>;
  /** `SHA256:…` of the public half of the key in use, as Snowflake shows it in `RSA_PUBLIC_KEY_FP` (undefined without a key). */
  keyFingerprint(): string | undefined;
  /**
   * Log in to another current database and schema from now on (the policy in
   * force changed where unqualified names resolve): idle connections retire
   * now, busy ones when their statement ends.
   */
  useNamespace(namespace: { database: string; schema: string }): void;
}

/** Create the adapter; connects lazily on first execute. */
export async function createSnowflakeWarehouse(given: SnowflakeSettings): Promise<SnowflakeWarehouse> {
  let settings = given;
  configureDriver(settings.logger);
  const privateKey = await loadPrivateKey(settings);
  if (!privateKey && !settings.password) {
    throw new AirlockError('CONFIG_INVALID', 'Snowflake needs SNOWFLAKE_PRIVATE_KEY_PATH (key-pair auth).', {
      details: { problems: [{ variable: 'SNOWFLAKE_PRIVATE_KEY_PATH', message: 'required' }] },
    });
  }
  let key = privateKey;
  const pool = new ConnectionPool(connectionOptions(settings, key), settings.poolSize ?? WAREHOUSE_DEFAULTS.poolSize, settings.acquireTimeoutMs ?? ADAPTER_DEFAULTS.acquireTimeoutMs);
  const defaults = {
    timeoutMs: settings.statementTimeoutMs ?? WAREHOUSE_DEFAULTS.statementTimeoutMs,
    livenessProbeMs: settings.livenessProbeMs ?? ADAPTER_DEFAULTS.livenessProbeMs,
    cancelGraceMs: settings.cancelGraceMs ?? ADAPTER_DEFAULTS.cancelGraceMs,
  };
  return {
    execute: (sql, opts = {}) => execute(pool, defaults, sql, opts),
    close: () => pool.close(),
    keyFingerprint: () => (key ? keyFingerprint(key) : undefined),
    useNamespace(namespace) {
      if (settings.database === namespace.database && settings.schema === namespace.schema) return;
      settings = { ...settings, database: namespace.database, schema: namespace.schema };
      pool.useOptions(connectionOptions(settings, key));
    },
    async reloadKey() {
      if (!settings.privateKeyPath) return { changed: false, fingerprint: key ? keyFingerprint(key) : undefined };
      const next = await loadPrivateKey({ ...settings, privateKey: undefined });
      if (!next || next === key) return { changed: false, fingerprint: key ? keyFingerprint(key) : undefined };
      key = next;
      pool.useOptions(connectionOptions(settings, key));
      return { changed: true, fingerprint: keyFingerprint(key) };
    },
  };
}

/** Run `sql` on a pooled connection; the connection goes back when the rows are drained (at once for DML). */
async function execute(pool: ConnectionPool, defaults: StatementTimings, sql: string, opts: ExecuteOptions): Promise<ExecuteResult> {
  const { signal } = opts;
  if (signal?.aborted) throw new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled before it started.');
  const timeoutMs = opts.timeoutMs ?? defaults.timeoutMs;
  const pooled = await pool.acquire(signal);
  const state: ExecutionState = { aborted: false, timedOut: false, released: false, broken: false };
  const release = () => {
    if (state.released) return;
    state.released = true;
    pool.release(pooled, state.broken);
  };
  if (signal?.aborted) {
    release();
    throw cancelledError();
  }

  const parameters: Record<string, unknown> = {
    STATEMENT_TIMEOUT_IN_SECONDS: Math.max(1, Math.ceil(timeoutMs / 1000)),
  };
  if (opts.queryTag) parameters.QUERY_TAG = opts.queryTag;

  let finished: RowStatement;
  try {
    finished = await runStatement(pooled.conn, sql, parameters, { ...defaults, timeoutMs }, signal, state);
  } catch (err) {
    const mapped = mapDriverError(err, { ...state, sql });
    state.broken ||= mapped.code === 'WAREHOUSE_UNAVAILABLE' || mapped.code === 'WAREHOUSE_AUTH';
    release();
    throw mapped;
  }

  const columns = columnsOf(finished);
  // The driver answers -1 for anything but DML (and undefined without a result).
  const updated = finished.getNumUpdatedRows();
  const rowsAffected = updated !== undefined && updated >= 0 ? updated : undefined;
  // DML answers with one inline row: nothing left to fetch, so free the
  // connection now rather than trusting the caller to drain `rows`.
  if (rowsAffected !== undefined) release();
  const result: { -readonly [K in keyof ExecuteResult]: ExecuteResult[K] } = {
    queryId: finished.getQueryId(),
    columns,
    rowsAffected,
    truncated: false,
    rows: streamRows({
      finished,
      columns,
      maxRows: opts.maxRows ?? Number.POSITIVE_INFINITY,
      signal,
      sql,
      state,
      release,
      onTruncated: () => {
        result.truncated = true;
      },
    }),
  };
  return result;
}

/** What {@link streamRows} reads and updates. */
interface RowStream {
  finished: RowStatement;
  columns: ColumnMeta[];
  maxRows: number;
  signal: AbortSignal | undefined;
  sql: string;
  state: ExecutionState;
  release: () => void;
  /** Called when `maxRows` cuts the rows short. */
  onTruncated: () => void;
}

/** The rows as JSON-safe values, up to `maxRows`; releases the connection when done, however it ends. */
async function* streamRows({ finished, columns, maxRows, signal, sql, state, release, onTruncated }: RowStream): AsyncGenerator<Row> {
  let count = 0;
  const stream = finished.streamRows();
  try {
    for await (const raw of stream as AsyncIterable<unknown[]>) {
      if (signal?.aborted) throw cancelledError();
      if (count >= maxRows) {
        onTruncated();
        break;
      }
      count++;
      yield raw.map((v, i) => toJsonValue(v, columns[i]!));
    }
  } catch (err) {
    const mapped = mapDriverError(err, { ...state, sql });
    state.broken ||= mapped.code === 'WAREHOUSE_UNAVAILABLE';
    throw mapped;
  } finally {
    stream.destroy();
    release();
  }
}
