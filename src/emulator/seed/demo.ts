/**
 * TEMPORARY stub, to be replaced by the seed helper. Signature is the contract.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export interface SeedOptions {
  /** Create a Snowflake database (DuckDB catalog) if missing; provided by the engine. */
  createDatabase(name: string): Promise<void>;
  /** Row counts; defaults are the demo sizes. */
  customers?: number;
  orders?: number;
  employees?: number;
}

/** Seed the deterministic demo data set. */
export async function seedDemo(_conn: DuckDBConnection, _options: SeedOptions): Promise<void> {}
