/**
 * Our own connection pool (generic-pool's factory errors leave `acquire`
 * hanging, which would hang agents when Snowflake is down).
 */
import snowflake from 'snowflake-sdk';
import type { Connection, ConnectionOptions } from 'snowflake-sdk';
import { AirlockError } from '../../errors.ts';
import { cancelledError, mapDriverError } from './errors.ts';

/** A connection lent by the pool. */
export interface PooledConnection {
  conn: Connection;
  /** The options generation it logged in with; an older one retires when released. */
  generation: number;
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
export class ConnectionPool {
  private readonly idle: PooledConnection[] = [];
  private readonly waiters: Waiter[] = [];
  private size = 0;
  private closed = false;
  /** Bumped by {@link useOptions}: connections of an older generation retire. */
  private generation = 0;

  constructor(
    private options: ConnectionOptions,
    private readonly max: number,
    private readonly acquireTimeoutMs: number,
  ) {}

  /** A connection: an idle one, a new one while below `max`, else the next one freed (bounded by the acquire timeout and `signal`). */
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
        const generation = this.generation;
        return { conn: await this.connect(), generation };
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

  /**
   * Log in with `options` from now on (a rotated key): idle connections made
   * with the old ones are closed now, busy ones when they come back, so no
   * statement is cut short and no new one runs on an old login.
   */
  useOptions(options: ConnectionOptions): void {
    this.options = options;
    this.generation++;
    const retired = this.idle.splice(0);
    this.size -= retired.length;
    for (const c of retired) void destroyConnection(c.conn);
  }

  /** Give a connection back; a broken, dead or retired one is destroyed and its slot handed over. */
  release(c: PooledConnection, broken = false): void {
    if (broken || this.closed || c.generation !== this.generation || !c.conn.isUp()) {
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

  /** Refuse new work, fail the waiters, destroy the idle connections. */
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
