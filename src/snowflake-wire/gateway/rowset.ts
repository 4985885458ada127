/**
 * An Airlock result (masked, stored as JSON values with the warehouse's column
 * metadata) in Snowflake's rowset format: the `rowtype` the driver types its
 * values by, and every cell as a string.
 *
 * A masked column becomes `text` (its values are masks, not numbers or
 * dates). Dates, times and timestamps also travel as `text`: the stored result
 * holds them as the warehouse formatted them, and re-typing that text would
 * mean guessing its format.
 */
import type { ResultColumn } from '../../queries/types.ts';
import type { Cell, WireColumn } from '../port.ts';

/** How one column's stored values become cells. */
export type CellEncoding = 'fixed' | 'real' | 'boolean' | 'json' | 'text';

/** The rowtype and the encodings of a stored result's columns. */
export interface RowsetPlan {
  rowtype: WireColumn[];
  encodings: CellEncoding[];
}

const NATIVE: Record<string, CellEncoding> = {
  fixed: 'fixed',
  real: 'real',
  boolean: 'boolean',
  variant: 'json',
  object: 'json',
  array: 'json',
  text: 'text',
  binary: 'text',
};

function column(name: string, type: string, c: ResultColumn): WireColumn {
  const isFixed = type === 'fixed';
  return {
    name,
    database: '',
    schema: '',
    table: '',
    type,
    precision: isFixed ? (c.precision ?? 38) : null,
    scale: isFixed ? (c.scale ?? 0) : null,
    length: type === 'text' ? 16_777_216 : null,
    byteLength: type === 'text' ? 16_777_216 : null,
    nullable: c.nullable,
    collation: null,
  };
}

/** The plan for a result's columns; `masked` holds the indexes of columns masking changed. */
export function rowsetPlan(columns: readonly ResultColumn[], masked: ReadonlySet<number>): RowsetPlan {
  const encodings: CellEncoding[] = [];
  const rowtype = columns.map((c, i) => {
    const native = masked.has(i) ? undefined : NATIVE[c.type.toLowerCase()];
    encodings.push(native ?? 'text');
    return column(c.name, native ? c.type.toLowerCase() : 'text', c);
  });
  return { rowtype, encodings };
}

/** One stored value as a cell. */
function cell(value: unknown, encoding: CellEncoding): Cell {
  if (value === null || value === undefined) return null;
  switch (encoding) {
    case 'boolean':
      return value === true || value === 'true' || value === 1 || value === '1' ? '1' : '0';
    case 'json':
      return JSON.stringify(value);
    case 'fixed':
    case 'real':
      return String(value);
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

/** Stored rows as rowset rows. */
export function encodeRows(rows: readonly unknown[][], encodings: readonly CellEncoding[]): Cell[][] {
  return rows.map((row) => encodings.map((e, i) => cell(row[i], e)));
}
