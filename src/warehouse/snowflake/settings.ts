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
