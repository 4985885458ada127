/**
 * A warehouse decorator for end-to-end tests: records every statement that
 * reaches the warehouse, so a test can prove what ran (and what never did).
 */
import type { Warehouse } from '../../src/warehouse/port.ts';

export function recordingWarehouse(executed: string[]): (inner: Warehouse) => Warehouse {
  return (inner) => ({
    execute: (sql, options) => {
      executed.push(sql);
      return inner.execute(sql, options);
    },
    close: () => inner.close(),
  });
}

/**
 * A warehouse decorator that shows a test every raw row (before masking) as it
 * streams: `onRows(sql, columns)` is called once per statement and returns the
 * callback that receives its rows.
 */
export function tappingWarehouse(onRows: (sql: string, columns: string[]) => (row: unknown[]) => void): (inner: Warehouse) => Warehouse {
  return (inner) => ({
    async execute(sql, options) {
      const result = await inner.execute(sql, options);
      const sink = onRows(sql, result.columns.map((c) => c.name));
      const source = result.rows;
      return {
        ...result,
        rows: (async function* () {
          for await (const row of source) {
            sink(row);
            yield row;
          }
        })(),
      };
    },
    close: () => inner.close(),
  });
}

/** One statement's result as the warehouse returned it, before masking. */
export interface RawResult {
  columns: string[];
  rows: unknown[][];
}

/** A warehouse decorator that keeps each statement's raw result in `into`, keyed by its SQL text. */
export function copyingWarehouse(into: Map<string, RawResult>): (inner: Warehouse) => Warehouse {
  return tappingWarehouse((sql, columns) => {
    const copy: RawResult = { columns, rows: [] };
    into.set(sql, copy);
    return (row) => copy.rows.push(row);
  });
}
