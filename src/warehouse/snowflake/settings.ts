import type { Logger } from '../../log.ts';

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
  /** Connections kept open (AIRLOCK_WAREHOUSE_POOL_SIZE; default {@link WAREHOUSE_DEFAULTS}). */
  poolSize?: number;
  /** Statement timeout when a call gives none (AIRLOCK_STATEMENT_TIMEOUT_MS; default {@link WAREHOUSE_DEFAULTS}). */
  statementTimeoutMs?: number;
  /** How long to wait for a free connection before WAREHOUSE_UNAVAILABLE (default {@link ADAPTER_DEFAULTS}). */
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

/**
 * Defaults of the settings the configuration also carries: config/env.ts uses
 * these same values as the defaults of AIRLOCK_WAREHOUSE_POOL_SIZE and
 * AIRLOCK_STATEMENT_TIMEOUT_MS, so there is one default for each; the pool
 * size is also AIRLOCK_WORKER_CONCURRENCY's (a slot never waits for a
 * connection). 32: at 64 agents on the bench machine, 32 slots gave 0.57–0.62
 * of the direct driver's throughput where 8 gave 0.39–0.48
 * (docs/benchmarks.md); a warehouse queues what it cannot run at once.
 */
export const WAREHOUSE_DEFAULTS = {
  poolSize: 32,
  statementTimeoutMs: 120_000,
} as const;

/**
 * The adapter's own tuning, which no environment variable sets: how long to
 * wait for a free connection, the login retries, the liveness probe interval
 * and the cancel grace.
 */
export const ADAPTER_DEFAULTS = {
  acquireTimeoutMs: 30_000,
  loginRetries: 1,
  livenessProbeMs: 3_000,
  cancelGraceMs: 5_000,
} as const;
