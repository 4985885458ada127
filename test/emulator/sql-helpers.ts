/**
 * Shared fixture for the SQL-layer tests: a real in-memory DuckDB with the
 * emulator's catalogs attached, a small table of known values, and a helper
 * that translates Snowflake SQL and runs it.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mapDuckDbError, translate, type TranslateContext } from '../../src/emulator/sql/translate.ts';
import type { SnowflakeSqlError, Translation } from '../../src/emulator/sql/types.ts';

export interface RunResult {
  translation: Translation;
  columns: string[];
  types: string[];
  rows: unknown[][];
  error?: SnowflakeSqlError;
}

export interface Fixture {
  conn: DuckDBConnection;
  ctx: TranslateContext;
  run(sql: string, ctx?: TranslateContext): Promise<RunResult>;
  close(): void;
}

/** Open DuckDB, attach ANALYTICS and HR, and create ANALYTICS.PUBLIC.T with two known rows. */
export async function openFixture(): Promise<Fixture> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  for (const db of ['ANALYTICS', 'HR']) {
    await conn.run(`ATTACH ':memory:' AS "${db}"`);
    await conn.run(`CREATE SCHEMA "${db}"."PUBLIC"`);
  }
  await conn.run(`CREATE TABLE "ANALYTICS"."PUBLIC"."T" ("A" DECIMAL(38,0), "NAME" VARCHAR, "D" DATE, "TS" TIMESTAMP, "V" JSON, "createdAt" DECIMAL(38,0))`);
  await conn.run(`INSERT INTO "ANALYTICS"."PUBLIC"."T" VALUES
    (1, 'bob', '2024-01-31', '2024-01-31 10:20:30', '{"a":{"b":"gold"},"n":5,"arr":[1,2,3],"tier":"gold","phones":["+1-415-555-0100"]}', 7),
    (2, 'al', NULL, NULL, NULL, 8)`);
  const ctx: TranslateContext = { database: 'ANALYTICS', schema: 'PUBLIC' };
  const run = async (sql: string, c: TranslateContext = ctx): Promise<RunResult> => {
    const translation = translate(sql, c);
    if (translation.kind === 'error') return { translation, columns: [], types: [], rows: [], error: translation.error };
    if (translation.kind === 'result') {
      return { translation, columns: translation.columns.map((x) => x.name), types: [], rows: translation.rows };
    }
    try {
      const r = await conn.runAndReadAll(translation.sql);
      for (const followUp of translation.followUp ?? []) await conn.run(followUp);
      return { translation, columns: r.columnNames(), types: r.columnTypes().map(String), rows: r.getRowsJson() as unknown[][] };
    } catch (e) {
      return { translation, columns: [], types: [], rows: [], error: mapDuckDbError((e as Error).message) };
    }
  };
  return { conn, ctx, run, close: () => conn.closeSync() };
}
