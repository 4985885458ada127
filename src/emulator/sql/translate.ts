/**
 * TEMPORARY pass-through, to be replaced by the SQL layer (owned by the SQL
 * helper). Signature is the contract; see ./types.ts.
 */
import type { SqlContext, Translation } from './types.ts';

/** Translate one Snowflake statement for DuckDB. */
export function translate(sql: string, _ctx: SqlContext): Translation {
  return { kind: 'duckdb', sql, statementType: /^\s*select/i.test(sql) ? 'select' : 'other' };
}

/** Map a DuckDB error message to a Snowflake error. */
export function mapDuckDbError(message: string): { code: string; sqlState: string; message: string } {
  return { code: '002003', sqlState: '42000', message };
}

/** Warm the translator (WASM start-up) so the first query is not slow. */
export async function warmUp(): Promise<void> {}
