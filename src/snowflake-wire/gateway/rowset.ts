/**
 * An Airlock result (masked, stored as JSON values with the warehouse's column
 * metadata) in Snowflake's rowset format: the `rowtype` the driver types its
 * values by, and every cell as a string.
 *
 * A masked column becomes `text` (its values are masks, not numbers or
 * dates). Dates, times and timestamps keep their type when every stored value
 * has the warehouse's default text shape (`temporal.ts`); a column with any
 * other value travels as `text`, so nothing is guessed.
 */
import type { ResultColumn } from '../../queries/types.ts';
import type { Cell, WireColumn } from '../port.ts';
import { temporalCell, type TemporalType } from './temporal.ts';

/** How one column's stored values become cells. */
export type CellEncoding = 'fixed' | 'real' | 'boolean' | 'json' | 'text' | TemporalType;

const TEMPORAL: ReadonlySet<CellEncoding> = new Set(['date', 'time', 'timestamp_ntz', 'timestamp_ltz', 'timestamp_tz']);

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
  date: 'date',
  time: 'time',
  timestamp_ntz: 'timestamp_ntz',
  timestamp_ltz: 'timestamp_ltz',
  timestamp_tz: 'timestamp_tz',
};

function column(name: string, type: string, c: ResultColumn): WireColumn {
  const isFixed = type === 'fixed';
  // Times and timestamps carry nanoseconds on the wire (scale 9), whatever the warehouse's precision.
  const fractional = type === 'time' || type.startsWith('timestamp');
  return {
    name,
    database: '',
    schema: '',
    table: '',
    type,
    precision: isFixed ? (c.precision ?? 38) : null,
    scale: isFixed ? (c.scale ?? 0) : fractional ? 9 : null,
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

/**
 * The plan with every temporal column whose stored values are not all of the
 * expected shape turned into `text`; `rows` must be every row of the result.
 */
export function settleTemporal(plan: RowsetPlan, rows: Iterable<readonly unknown[]>): RowsetPlan {
  const open = new Set(plan.encodings.flatMap((e, i) => (TEMPORAL.has(e) ? [i] : [])));
  if (open.size === 0) return plan;
  const unreadable = new Set<number>();
  for (const row of rows) {
    for (const i of open) {
      const v = row[i];
      if (v !== null && v !== undefined && (typeof v !== 'string' || temporalCell(v, plan.encodings[i] as TemporalType) === undefined)) unreadable.add(i);
    }
    for (const i of unreadable) open.delete(i);
    if (open.size === 0) break;
  }
  if (unreadable.size === 0) return plan;
  return {
    rowtype: plan.rowtype.map((c, i) => (unreadable.has(i) ? { ...c, type: 'text', scale: null, length: 16_777_216, byteLength: 16_777_216 } : c)),
    encodings: plan.encodings.map((e, i) => (unreadable.has(i) ? 'text' : e)),
  };
}

/** Whether a plan still has temporal columns to settle. */
export function hasTemporal(plan: RowsetPlan): boolean {
  return plan.encodings.some((e) => TEMPORAL.has(e));
}

/** One stored value as a cell. */
function cell(value: unknown, encoding: CellEncoding): Cell {
  if (value === null || value === undefined) return null;
  if (TEMPORAL.has(encoding)) return temporalCell(String(value), encoding as TemporalType) ?? String(value);
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
