/**
 * Wire bindings (`{"1": {type, value}}`, arrays for array binding) as DuckDB
 * parameter rows.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { rewriteNumberedBinds } from './statement-text.ts';
import { SnowflakeWireError } from '../snowflake-wire/errors.ts';
import type { WireBinding } from '../snowflake-wire/port.ts';

/** DuckDB values for one binding, by the type snowflake-sdk declared. */
function bindValue(type: string | undefined, value: string | null): DuckDBValue {
  if (value === null) return null;
  switch ((type ?? 'TEXT').toUpperCase()) {
    case 'FIXED':
      return /^-?\d+$/.test(value) ? BigInt(value) : Number(value);
    case 'REAL':
      return Number(value);
    case 'BOOLEAN':
      return value === 'true' || value === '1' || value.toUpperCase() === 'TRUE';
    default:
      return value;
  }
}

/**
 * Turn the wire bindings into DuckDB parameter rows: one row normally, one per
 * element for array binding; `[undefined]` when there are no bindings.
 */
export function prepareBindings(
  sql: string,
  bindings: Record<string, WireBinding> | undefined,
): { sql: string; rows: (DuckDBValue[] | undefined)[]; count: number } {
  const entries = Object.entries(bindings ?? {})
    .map(([k, b]) => [Number(k), b] as const)
    .filter(([k]) => Number.isInteger(k) && k > 0)
    .sort(([a], [b]) => a - b);
  if (entries.length === 0) return { sql, rows: [undefined], count: 0 };
  for (let i = 0; i < entries.length; i++) {
    if (entries[i]![0] !== i + 1) throw SnowflakeWireError.of('BIND_MISMATCH', `Bind variable :${i + 1} not set.`);
  }
  const rewritten = rewriteNumberedBinds(sql);
  const isArray = entries.some(([, b]) => Array.isArray(b.value));
  if (!isArray) {
    return { sql: rewritten, rows: [entries.map(([, b]) => bindValue(b.type, b.value as string | null))], count: entries.length };
  }
  const length = Math.max(...entries.map(([, b]) => (Array.isArray(b.value) ? b.value.length : 1)));
  const rows: DuckDBValue[][] = [];
  for (let r = 0; r < length; r++) {
    rows.push(entries.map(([, b]) => bindValue(b.type, Array.isArray(b.value) ? (b.value[r] ?? null) : b.value)));
  }
  return { sql: rewritten, rows, count: entries.length };
}
