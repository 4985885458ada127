/**
 * Statement types: snowflake-sdk's numeric ids, the DML count columns, and
 * the type DuckDB reports mapped to ours.
 */
import { StatementType as DuckStatementType } from '@duckdb/node-api';
import type { StatementType } from './sql/types.ts';

/** snowflake-sdk's statement type ids (see its statement_type.js and JDBC's SFStatementType). */
export const STATEMENT_TYPE_IDS: Record<StatementType, number> = {
  select: 0x1000,
  insert: 0x3100,
  update: 0x3200,
  delete: 0x3300,
  merge: 0x3400,
  set: 0x4100,
  use: 0x4300,
  show: 0x4400,
  describe: 0x4500,
  transaction: 0x5000,
  ddl: 0x6000,
  other: 0x0000,
};

/** The column name of a DML statement's row count, as Snowflake names it. */
export const DML_COLUMN: Partial<Record<StatementType, string>> = {
  insert: 'number of rows inserted',
  update: 'number of rows updated',
  delete: 'number of rows deleted',
  merge: 'number of rows merged',
};

/** Our statement type for the one DuckDB reports. */
export function fromDuckStatementType(t: DuckStatementType): StatementType {
  switch (t) {
    case DuckStatementType.SELECT:
    case DuckStatementType.EXPLAIN:
    case DuckStatementType.PRAGMA:
      return 'select';
    case DuckStatementType.INSERT:
      return 'insert';
    case DuckStatementType.UPDATE:
      return 'update';
    case DuckStatementType.DELETE:
      return 'delete';
    case DuckStatementType.MERGE_INTO:
      return 'merge';
    case DuckStatementType.CREATE:
    case DuckStatementType.CREATE_FUNC:
    case DuckStatementType.DROP:
    case DuckStatementType.ALTER:
    case DuckStatementType.ATTACH:
    case DuckStatementType.DETACH:
      return 'ddl';
    case DuckStatementType.TRANSACTION:
      return 'transaction';
    case DuckStatementType.SET:
    case DuckStatementType.VARIABLE_SET:
      return 'set';
    default:
      return 'other';
  }
}
