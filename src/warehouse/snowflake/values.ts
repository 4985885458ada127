/**
 * The port's row and column shapes from the driver's values and column metadata.
 */
import type { RowStatement } from 'snowflake-sdk';
import type { ColumnMeta } from '../port.ts';

/** Convert one driver value to a JSON-safe value. */
export function toJsonValue(value: unknown, column: ColumnMeta): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'fixed': {
      // fetchAsString keeps exact decimals; return a number only when it is exact.
      const s = String(value);
      if (column.scale === 0 || column.scale === null || column.scale === undefined) {
        const n = Number(s);
        return Number.isSafeInteger(n) ? n : s;
      }
      return s;
    }
    case 'real': {
      // NaN and ±Infinity have no JSON form: keep them as the warehouse's text.
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : String(value);
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 'true' || value === '1' || value === 1;
    case 'binary':
      return Buffer.isBuffer(value) ? value.toString('hex').toUpperCase() : String(value);
    case 'variant':
    case 'object':
    case 'array':
    case 'map':
      if (typeof value === 'string') {
        try {
          return JSON.parse(value);
        } catch {
          return value;
        }
      }
      return value;
    default:
      if (value instanceof Date) return value.toISOString();
      if (typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return (value as { toJSON(): unknown }).toJSON();
      }
      return typeof value === 'string' || typeof value === 'number' ? value : String(value);
  }
}

/** The port's column metadata of a finished statement. */
export function columnsOf(stmt: RowStatement): ColumnMeta[] {
  const cols = stmt.getColumns() ?? [];
  return cols.map((c) => ({
    name: c.getName(),
    type: c.getType(),
    nullable: c.isNullable(),
    precision: c.getPrecision() ?? null,
    scale: c.getScale() ?? null,
  }));
}
