import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';

/** Options of `startEmulator`. */
export interface EmulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Persist to this DuckDB file (+ one sibling file per Snowflake database); in memory when absent. */
  dbFile?: string;
  seed?: 'demo' | 'none';
  /** Lines for people while the demo data is seeded (one per table). */
  onProgress?: (line: string) => void;
  /** Extra set-up after seeding (tests create their tables here, in DuckDB SQL). */
  init?: (conn: DuckDBConnection, helpers: { createDatabase(name: string): Promise<void> }) => Promise<void>;
  account: string;
  user: string;
  password?: string;
  /** RSA public key (PEM) accepted for SNOWFLAKE_JWT key-pair login. */
  publicKeyPem?: string;
  /** A second RSA public key (Snowflake's `RSA_PUBLIC_KEY_2` slot), so a key can be rotated with no gap. */
  publicKeyPem2?: string;
  database?: string;
  schema?: string;
  warehouse?: string;
  role?: string;
  logger?: Logger;
  /** Rows inline in the first response and per downloadable chunk (default 10,000). */
  resultChunkRows?: number;
  /** Session token lifetime (default 3600 s); the driver renews with the master token. */
  sessionTokenValiditySeconds?: number;
  /** Master token lifetime (default 4 h). */
  masterTokenValiditySeconds?: number;
  /** How long a query request is held open before answering "in progress" (default 45 s). */
  queryWaitSeconds?: number;
  /** How long results stay fetchable (default 1 h). */
  resultTtlSeconds?: number;
  /** Compressed bytes of results kept at most (default 512 MiB); the oldest go first. */
  maxResultBytes?: number;
  /** Clock, for token expiry and result TTLs (tests move it). */
  now?: () => number;
}
