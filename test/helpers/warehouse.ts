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
