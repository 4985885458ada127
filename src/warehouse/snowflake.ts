/**
 * The Snowflake adapter of the Warehouse port, on the official snowflake-sdk.
 *
 * Key-pair auth only in production (the private key is read once from
 * SNOWFLAKE_PRIVATE_KEY_PATH and never logged); a small pool of connections of
 * our own (generic-pool's factory errors leave `acquire` hanging, which would
 * hang agents when Snowflake is down); statement timeout, cancel on abort and
 * QUERY_TAG per statement; driver errors become WAREHOUSE_* AirlockErrors here,
 * at the edge.
 */
import { readFile } from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import type { Connection, ConnectionOptions, RowStatement } from 'snowflake-sdk';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
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
  logger?: Logger;
}

let driverConfigured = false;

/** Route the driver's own logging to ours (it otherwise writes a log file in cwd). */
function configureDriver(logger?: Logger): void {
  if (driverConfigured) return;
  driverConfigured = true;
  const log = logger?.child({ component: 'snowflake-sdk' });
  const sink = (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') => (message: string) => {
    if (log) log[level]({ driver: true }, message);
  };
  snowflake.configure({
    logLevel: 'ERROR',
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
const NETWORK_CODES = new Set(['401001', '401002', '401003', '402001', '402002']);
const CANCELLED = '000604';
const TIMED_OUT = '000630';

/** Map anything the driver throws to an Airlock code. */
export function mapDriverError(err: unknown, context: { aborted?: boolean; timedOut?: boolean } = {}): AirlockError {
  if (err instanceof AirlockError) return err;
  const e = err as { code?: unknown; sqlState?: unknown; message?: unknown; data?: { queryId?: string } } | undefined;
  const code = e?.code === undefined || e.code === null ? '' : String(e.code);
  const sqlState = typeof e?.sqlState === 'string' ? e.sqlState : undefined;
  const message = typeof e?.message === 'string' ? e.message : 'unknown warehouse error';
  if (context.timedOut || code === TIMED_OUT) {
    return new AirlockError('WAREHOUSE_TIMEOUT', 'The statement ran past its timeout and was cancelled in the warehouse.', { cause: err });
  }
  if (context.aborted || code === CANCELLED) {
    return new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled.', { cause: err });
  }
  if (AUTH_CODES.has(code)) {
    return new AirlockError('WAREHOUSE_AUTH', `Airlock could not log in to the warehouse (Snowflake ${code}); check the service user and key.`, {
      details: { snowflakeCode: code },
      cause: err,
    });
  }
  if (NETWORK_CODES.has(code) || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|socket hang up/.test(message)) {
    return new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse is unreachable right now; try again shortly.', {
      details: code ? { snowflakeCode: code } : {},
      cause: err,
    });
  }
  if (sqlState) {
    // Snowflake's message is about the caller's SQL (compilation errors etc.): safe and useful to show.
    return new AirlockError('WAREHOUSE_SQL_ERROR', message, { details: { snowflakeCode: code, sqlState }, cause: err });
  }
  return new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse failed unexpectedly; try again shortly.', {
    details: code ? { snowflakeCode: code } : {},
    cause: err,
  });
}

function promisify<T>(run: (cb: (err: unknown, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))));
}

interface PooledConnection {
  conn: Connection;
}

/** Minimal pool: connect lazily, reuse, bounded, with a clear error when exhausted. */
class ConnectionPool {
  private readonly idle: PooledConnection[] = [];
  private readonly waiters: Array<{ resolve: (c: PooledConnection) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }> = [];
  private size = 0;
  private closed = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly max: number,
    private readonly acquireTimeoutMs: number,
  ) {}

  async acquire(): Promise<PooledConnection> {
    if (this.closed) throw new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse client is shutting down.');
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      if (c.conn.isUp()) return c;
      this.size--;
    }
    if (this.size < this.max) {
      this.size++;
      try {
        const conn = snowflake.createConnection(this.options);
        await conn.connectAsync();
        return { conn };
      } catch (err) {
        this.size--;
        throw mapDriverError(err);
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.timer === timer);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new AirlockError('WAREHOUSE_UNAVAILABLE', 'All warehouse connections are busy; try again shortly.'));
      }, this.acquireTimeoutMs);
      this.waiters.push({ resolve, reject, timer });
    });
  }

  release(c: PooledConnection, broken = false): void {
    if (broken || this.closed || !c.conn.isUp()) {
      this.size--;
      this.destroy(c);
      // A waiter may now open a fresh connection.
      const w = this.waiters.shift();
      if (w) {
        clearTimeout(w.timer);
        this.acquire().then(w.resolve, w.reject);
      }
      return;
    }
    const w = this.waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve(c);
      return;
    }
    this.idle.push(c);
  }

  private destroy(c: PooledConnection): void {
    if (c.conn.isUp()) c.conn.destroy(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new AirlockError('WAREHOUSE_UNAVAILABLE', 'The warehouse client is shutting down.'));
    }
    const all = this.idle.splice(0);
    await Promise.all(
      all.map((c) => (c.conn.isUp() ? promisify<unknown>((cb) => c.conn.destroy((err, v) => cb(err, v))).catch(() => undefined) : undefined)),
    );
    this.size = 0;
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
    case 'real':
      return typeof value === 'number' ? (Number.isFinite(value) ? value : String(value)) : Number(value);
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

const DML_TYPES: Record<string, true> = { '12544': true, '12800': true, '13056': true, '13312': true };

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
    clientSessionKeepAlive: true,
    application: 'Airlock',
  } as ConnectionOptions;
  const pool = new ConnectionPool(options, settings.poolSize ?? 4, settings.acquireTimeoutMs ?? 30_000);
  const defaultTimeout = settings.statementTimeoutMs ?? 120_000;

  async function execute(sql: string, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
    if (opts.signal?.aborted) throw new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled before it started.');
    const timeoutMs = opts.timeoutMs ?? defaultTimeout;
    const pooled = await pool.acquire();
    const state = { aborted: false, timedOut: false, released: false, broken: false };
    let stmt: RowStatement | undefined;
    const cancel = () => {
      if (stmt) stmt.cancel(() => undefined);
    };
    const onAbort = () => {
      state.aborted = true;
      cancel();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      state.timedOut = true;
      cancel();
    }, timeoutMs);
    const release = () => {
      if (state.released) return;
      state.released = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      pool.release(pooled, state.broken);
    };

    const parameters: Record<string, unknown> = {
      STATEMENT_TIMEOUT_IN_SECONDS: Math.max(1, Math.ceil(timeoutMs / 1000)),
    };
    if (opts.queryTag) parameters.QUERY_TAG = opts.queryTag;

    try {
      stmt = await new Promise<RowStatement>((resolve, reject) => {
        pooled.conn.execute({
          sqlText: sql,
          streamResult: true,
          rowMode: 'array',
          fetchAsString: ['Number'],
          parameters,
          complete: (err, s) => (err ? reject(err) : resolve(s)),
        });
      });
    } catch (err) {
      const mapped = mapDriverError(err, state);
      state.broken = mapped.code === 'WAREHOUSE_UNAVAILABLE' || mapped.code === 'WAREHOUSE_AUTH';
      release();
      throw mapped;
    }

    const finished = stmt;
    const columns = columnsOf(finished);
    const typeId = String((finished as unknown as { getStatementTypeId?: () => number }).getStatementTypeId?.() ?? '');
    const updated = finished.getNumUpdatedRows();
    const rowsAffected = DML_TYPES[typeId] || updated !== undefined ? updated : undefined;
    const maxRows = opts.maxRows ?? Number.POSITIVE_INFINITY;
    const result: { -readonly [K in keyof ExecuteResult]: ExecuteResult[K] } = {
      queryId: finished.getQueryId(),
      columns,
      rowsAffected,
      truncated: false,
      rows: (async function* () {})() as AsyncIterable<Row>,
    };
    result.rows = (async function* (): AsyncGenerator<Row> {
        let count = 0;
        const stream = finished.streamRows();
        try {
          for await (const raw of stream as AsyncIterable<unknown[]>) {
            if (count >= maxRows) {
              result.truncated = true;
              break;
            }
            count++;
            yield raw.map((v, i) => toJsonValue(v, columns[i]!));
          }
        } catch (err) {
          throw mapDriverError(err, state);
        } finally {
          stream.destroy();
          release();
        }
      })();
    return result;
  }

  return {
    execute,
    close: () => pool.close(),
  };
}
