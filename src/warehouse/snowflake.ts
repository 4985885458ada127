/**
 * The Snowflake adapter of the Warehouse port, on the official snowflake-sdk.
 *
 * Key-pair auth only in production (the private key is read once from
 * SNOWFLAKE_PRIVATE_KEY_PATH and never logged); a small pool of connections of
 * our own (generic-pool's factory errors leave `acquire` hanging, which would
 * hang agents when Snowflake is down); statement timeout, cancel on abort and
 * QUERY_TAG per statement; driver errors become WAREHOUSE_* AirlockErrors here,
 * at the edge.
 *
 * The driver retries silently and for minutes (7 login retries; 7 retries with
 * backoff up to 16 s for every statement request, not configurable). So the
 * adapter bounds everything itself: few login retries, a heartbeat watchdog
 * while a statement runs (a heartbeat is never retried, so it notices a dead
 * warehouse in seconds), and a grace period after cancel.
 */
import { readFile } from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import type { Connection, ConnectionOptions, RowStatement } from 'snowflake-sdk';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { redactErrorText } from '../masking/error-text.ts';
import type { ColumnMeta, ExecuteOptions, ExecuteResult, Row, Warehouse } from './port.ts';

/** What the adapter needs from the configuration. */
export interface SnowflakeSettings {
  account: string;
  user: string;
  /** PEM text of the private key; prefer `privateKeyPath` in production. */
  privateKey?: string;
  privateKeyPath?: string;
  privateKeyPassphrase?: string;
  /** Password auth exists for the emulator and tests only. */
  password?: string;
  accessUrl?: string;
  warehouse?: string;
  role?: string;
  database?: string;
  schema?: string;
  poolSize?: number;
  /** Default statement timeout when a call gives none. */
  statementTimeoutMs?: number;
  /** How long to wait for a free connection before WAREHOUSE_UNAVAILABLE. */
  acquireTimeoutMs?: number;
  /** Driver login retries on network errors (default 1; the driver's own default of 7 takes minutes). */
  loginRetries?: number;
  /** A statement still running after this long gets a heartbeat on its session, and again at this interval; a network failure ends it with WAREHOUSE_UNAVAILABLE (default 3000). */
  livenessProbeMs?: number;
  /** After a cancel, how long to wait for the warehouse to confirm before giving up on the connection (default 5000). */
  cancelGraceMs?: number;
  /** Receives the driver's own log lines. The driver is configured once per process: the first adapter's logger wins. */
  logger?: Logger;
}

let driverConfigured = false;

/** Route the driver's own logging to ours (it otherwise writes snowflake.log in cwd and echoes to the console). */
function configureDriver(logger?: Logger): void {
  if (driverConfigured) return;
  driverConfigured = true;
  const log = logger?.child({ component: 'snowflake-sdk' });
  const sink = (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') => (message: string) => {
    if (log) log[level]({ driver: true }, message);
  };
  snowflake.configure({
    logLevel: 'ERROR',
    additionalLogToConsole: false,
    customLogger: { error: sink('error'), warn: sink('warn'), info: sink('debug'), debug: sink('trace'), trace: sink('trace') },
  } as Parameters<typeof snowflake.configure>[0]);
}

/** Read and decrypt the key once; a wrong passphrase is a configuration error, not a login loop. */
async function loadPrivateKey(settings: SnowflakeSettings): Promise<string | undefined> {
  let pem = settings.privateKey;
  if (!pem && settings.privateKeyPath) {
    try {
      pem = await readFile(settings.privateKeyPath, 'utf8');
    } catch (err) {
      throw new AirlockError('WAREHOUSE_AUTH', `Cannot read the Snowflake private key file (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, {
        details: { path: settings.privateKeyPath },
      });
    }
  }
  if (!pem) return undefined;
  try {
    const key = createPrivateKey({ key: pem, format: 'pem', passphrase: settings.privateKeyPassphrase });
    return key.export({ format: 'pem', type: 'pkcs8' }).toString();
  } catch {
    throw new AirlockError('WAREHOUSE_AUTH', 'The Snowflake private key cannot be loaded: wrong passphrase or not a PEM private key.');
  }
}

const AUTH_CODES = new Set(['390100', '390101', '390102', '390144', '390145', '390146', '390318', '394304']);
/** Driver network errors, and 407001/407002: the connection is (or was never) up. */
const NETWORK_CODES = new Set(['401001', '401002', '401003', '402001', '402002', '407001', '407002']);
const CANCELLED = '000604';
const TIMED_OUT = '000630';

/**
 * Map anything the driver throws to an Airlock code. A SQL error's text is
 * redacted against the statement (`context.sql`) here, at the edge: the
 * warehouse may quote values from the data in it (docs/masking.md), so the raw
 * text is not kept, not even as `cause`.
 */
export function mapDriverError(err: unknown, context: { aborted?: boolean; timedOut?: boolean; sql?: string } = {}): AirlockError {
  if (err instanceof AirlockError) return err;
  const e = err as { code?: unknown; sqlState?: unknown; message?: unknown; data?: { queryId?: unknown } } | undefined;
  const code = e?.code === undefined || e.code === null ? '' : String(e.code);
  const sqlState = typeof e?.sqlState === 'string' ? e.sqlState : undefined;
  const message = typeof e?.message === 'string' ? e.message : 'unknown warehouse error';
  const queryId = typeof e?.data?.queryId === 'string' ? { queryId: e.data.queryId } : {};
  if (context.timedOut || code === TIMED_OUT) {
    return new AirlockError('WAREHOUSE_TIMEOUT', 'The statement ran past its timeout and was cancelled in the warehouse.', { details: queryId, cause: err });
  }
  if (context.aborted || code === CANCELLED) {
    return new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled.', { details: queryId, cause: err });
  }
  if (AUTH_CODES.has(code)) {
    return new AirlockError('WAREHOUSE_AUTH', `Airlock could not log in to the warehouse (Snowflake ${code}); check the service user and key.`, {
      details: { snowflakeCode: code },
      cause: err,
    });
  }
  if (NETWORK_CODES.has(code) || sqlState?.startsWith('08') || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|socket hang up/.test(message)) {
    return new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse is unreachable right now; try again shortly.', {
      details: code ? { snowflakeCode: code } : {},
      cause: err,
    });
  }
  if (sqlState) {
    // Useful to the caller (compilation errors name its identifiers), but it can echo data: only what the agent sent stays.
    return new AirlockError('WAREHOUSE_SQL_ERROR', redactErrorText(message, { sql: context.sql ?? '' }), {
      details: { snowflakeCode: code, sqlState, ...queryId },
    });
  }
  return new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse failed unexpectedly; try again shortly.', {
    details: code ? { snowflakeCode: code } : {},
    cause: err,
  });
}

function cancelledError(): AirlockError {
  return new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled.');
}

/** `heartbeat` exists on the driver's Connection but is missing from its typings. */
interface HeartbeatConnection {
  heartbeat(callback: (err: unknown) => void): void;
}

interface PooledConnection {
  conn: Connection;
}

interface Waiter {
  resolve: (c: PooledConnection) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** Destroy a driver connection; never waits more than `ms` (logging out of a dead warehouse can hang). */
function destroyConnection(conn: Connection, ms = 5_000): Promise<void> {
  if (!conn.isUp()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    conn.destroy(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Minimal pool: connect lazily, reuse, bounded, with a clear error when exhausted. */
class ConnectionPool {
  private readonly idle: PooledConnection[] = [];
  private readonly waiters: Waiter[] = [];
  private size = 0;
  private closed = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly max: number,
    private readonly acquireTimeoutMs: number,
  ) {}

  async acquire(signal?: AbortSignal): Promise<PooledConnection> {
    if (this.closed) throw new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse client is shutting down.');
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      if (c.conn.isUp()) return c;
      this.size--;
    }
    if (this.size < this.max) {
      this.size++;
      try {
        return { conn: await this.connect() };
      } catch (err) {
        this.size--;
        this.handOver();
        throw mapDriverError(err);
      }
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        timer: setTimeout(() => {
          this.removeWaiter(waiter);
          reject(new AirlockError('WAREHOUSE_UNAVAILABLE', 'All warehouse connections are busy; try again shortly.'));
        }, this.acquireTimeoutMs),
        onAbort: () => {
          this.removeWaiter(waiter);
          reject(cancelledError());
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * `connectAsync()` without a callback resolves even when the login failed
   * (the error only reaches a callback), so use the callback form.
   */
  private connect(): Promise<Connection> {
    const conn = snowflake.createConnection(this.options);
    return new Promise((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve(conn))));
  }

  private removeWaiter(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
    clearTimeout(w.timer);
    w.signal?.removeEventListener('abort', w.onAbort);
  }

  private nextWaiter(): Waiter | undefined {
    const w = this.waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      w.signal?.removeEventListener('abort', w.onAbort);
    }
    return w;
  }

  /** A slot became free: let the next waiter open a fresh connection. */
  private handOver(): void {
    const w = this.nextWaiter();
    if (w) this.acquire(w.signal).then(w.resolve, w.reject);
  }

  release(c: PooledConnection, broken = false): void {
    if (broken || this.closed || !c.conn.isUp()) {
      this.size--;
      void destroyConnection(c.conn);
      if (!this.closed) this.handOver();
      return;
    }
    const w = this.nextWaiter();
    if (w) {
      w.resolve(c);
      return;
    }
    this.idle.push(c);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse client is shutting down.'));
    }
    const all = this.idle.splice(0);
    this.size -= all.length;
    await Promise.all(all.map((c) => destroyConnection(c.conn)));
  }
}

/** Convert one driver value to a JSON-safe value. */
function toJsonValue(value: unknown, column: ColumnMeta): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'fixed': {
      // fetchAsString keeps exact decimals; return a number only when it is exact.
      const s = String(value);
      if (column.scale === 0 || column.scale === null || column.scale === undefined) {
        const n = Number(s);
        return Number.isSafeInteger(n) ? n : s;
      }
      return s;
    }
    case 'real': {
      // NaN and ±Infinity have no JSON form: keep them as the warehouse's text.
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : String(value);
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 'true' || value === '1' || value === 1;
    case 'binary':
      return Buffer.isBuffer(value) ? value.toString('hex').toUpperCase() : String(value);
    case 'variant':
    case 'object':
    case 'array':
    case 'map':
      if (typeof value === 'string') {
        try {
          return JSON.parse(value);
        } catch {
          return value;
        }
      }
      return value;
    default:
      if (value instanceof Date) return value.toISOString();
      if (typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return (value as { toJSON(): unknown }).toJSON();
      }
      return typeof value === 'string' || typeof value === 'number' ? value : String(value);
  }
}

function columnsOf(stmt: RowStatement): ColumnMeta[] {
  const cols = stmt.getColumns() ?? [];
  return cols.map((c) => ({
    name: c.getName(),
    type: c.getType(),
    nullable: c.isNullable(),
    precision: c.getPrecision() ?? null,
    scale: c.getScale() ?? null,
  }));
}

/** Create the adapter; connects lazily on first execute. */
export async function createSnowflakeWarehouse(settings: SnowflakeSettings): Promise<Warehouse> {
  configureDriver(settings.logger);
  const privateKey = await loadPrivateKey(settings);
  if (!privateKey && !settings.password) {
    throw new AirlockError('CONFIG_INVALID', 'Snowflake needs SNOWFLAKE_PRIVATE_KEY_PATH (key-pair auth).', {
      details: { problems: [{ variable: 'SNOWFLAKE_PRIVATE_KEY_PATH', message: 'required' }] },
    });
  }
  const options: ConnectionOptions = {
    account: settings.account,
    username: settings.user,
    ...(privateKey ? { authenticator: 'SNOWFLAKE_JWT', privateKey } : { password: settings.password }),
    ...(settings.accessUrl ? { accessUrl: settings.accessUrl } : {}),
    ...(settings.warehouse ? { warehouse: settings.warehouse } : {}),
    ...(settings.role ? { role: settings.role } : {}),
    ...(settings.database ? { database: settings.database } : {}),
    ...(settings.schema ? { schema: settings.schema } : {}),
    sfRetryMaxLoginRetries: settings.loginRetries ?? 1,
    clientSessionKeepAlive: true,
    application: 'Airlock',
  } as ConnectionOptions;
  const pool = new ConnectionPool(options, settings.poolSize ?? 4, settings.acquireTimeoutMs ?? 30_000);
  const defaultTimeout = settings.statementTimeoutMs ?? 120_000;
  const livenessProbeMs = settings.livenessProbeMs ?? 3_000;
  const cancelGraceMs = settings.cancelGraceMs ?? 5_000;

  async function execute(sql: string, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
    const { signal } = opts;
    if (signal?.aborted) throw new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled before it started.');
    const timeoutMs = opts.timeoutMs ?? defaultTimeout;
    const pooled = await pool.acquire(signal);
    const state = { aborted: false, timedOut: false, released: false, broken: false };
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
      finished = await runStatement(pooled.conn, sql, parameters, timeoutMs, signal, state);
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
    const maxRows = opts.maxRows ?? Number.POSITIVE_INFINITY;
    const result: { -readonly [K in keyof ExecuteResult]: ExecuteResult[K] } = {
      queryId: finished.getQueryId(),
      columns,
      rowsAffected,
      truncated: false,
      rows: streamRows(),
    };
    async function* streamRows(): AsyncGenerator<Row> {
      let count = 0;
      const stream = finished.streamRows();
      try {
        for await (const raw of stream as AsyncIterable<unknown[]>) {
          if (signal?.aborted) throw cancelledError();
          if (count >= maxRows) {
            result.truncated = true;
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
    return result;
  }

  /**
   * Run one statement to completion (rows not yet fetched). Abort and timeout
   * cancel it in the warehouse; if the warehouse does not confirm within
   * `cancelGraceMs`, or a heartbeat finds it unreachable, give up and mark the
   * connection broken instead of waiting out the driver's retries.
   */
  function runStatement(
    conn: Connection,
    sql: string,
    parameters: Record<string, unknown>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    state: { aborted: boolean; timedOut: boolean; broken: boolean },
  ): Promise<RowStatement> {
    return new Promise<RowStatement>((resolve, reject) => {
      let stmt: RowStatement | undefined;
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const giveUp = (err: unknown) =>
        settle(() => {
          state.broken = true;
          reject(err);
        });
      const interrupt = () => {
        stmt?.cancel(() => undefined);
        timers.push(setTimeout(() => giveUp(new Error('cancel not confirmed by the warehouse')), cancelGraceMs));
      };
      const onAbort = () => {
        if (settled || state.aborted || state.timedOut) return;
        state.aborted = true;
        interrupt();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      timers.push(
        setTimeout(() => {
          if (settled || state.aborted) return;
          state.timedOut = true;
          interrupt();
        }, timeoutMs),
      );
      const probe = () => {
        (conn as unknown as HeartbeatConnection).heartbeat((err) => {
          if (settled) return;
          if (err && mapDriverError(err).code === 'WAREHOUSE_UNAVAILABLE') {
            giveUp(err);
            return;
          }
          timers.push(setTimeout(probe, livenessProbeMs));
        });
      };
      timers.push(setTimeout(probe, livenessProbeMs));
      try {
        stmt = conn.execute({
          sqlText: sql,
          streamResult: true,
          rowMode: 'array',
          // Exact numbers, and dates/times as the warehouse formats them (the port's contract).
          fetchAsString: ['Number', 'Date'],
          parameters,
          complete: (err, s) => settle(() => (err ? reject(err) : resolve(s))),
        });
      } catch (err) {
        settle(() => reject(err));
      }
    });
  }

  return {
    execute,
    close: () => pool.close(),
  };
}
