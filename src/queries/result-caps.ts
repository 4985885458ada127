/**
 * Caps on what one allowed read returns, beyond its row count. A row cap alone
 * does not bound a result: `LISTAGG(ssn)` or `ARRAY_AGG(email)` packs a whole
 * table into one row. So the worker also caps the total cells, the total bytes
 * and the bytes of any single cell, on the masked rows as they stream. Pure.
 *
 * - A cell over `maxCellBytes` is **replaced** by a marker
 *   (`[CELL_TOO_LARGE:612345 bytes]`), never cut: a prefix of a delimited list
 *   or of JSON text would still carry many values and would look whole.
 * - An ARRAY, OBJECT or VARIANT cell counts one cell per scalar inside it, so an
 *   array of 50,000 values counts 50,000 cells. A delimited string counts one
 *   cell; the byte caps bound it.
 * - Reading stops before the row that would pass `maxCells` or `maxBytes`; the
 *   result is then truncated, by `cells` or `bytes`.
 */

/** The caps, from AIRLOCK_MAX_RESULT_CELLS, AIRLOCK_MAX_RESULT_BYTES and AIRLOCK_MAX_CELL_BYTES. */
export interface ResultCaps {
  maxCells: number;
  maxBytes: number;
  maxCellBytes: number;
}

/** Defaults of the three caps (docs/configuration.md). */
export const DEFAULT_RESULT_CAPS: Readonly<ResultCaps> = Object.freeze({
  maxCells: 2_000_000,
  maxBytes: 32 * 1024 * 1024,
  maxCellBytes: 16 * 1024,
});

/** Which cap cut a result short. */
export type TruncatedBy = 'rows' | 'cells' | 'bytes';

/** What the caps did to a result; complete once its rows are drained. */
export interface CapReport {
  /** Set when a cap stopped reading. */
  truncatedBy?: 'cells' | 'bytes';
  /** Cells replaced by the marker for being over `maxCellBytes`. */
  oversizedCells: number;
  /** Cells and bytes of the rows passed on. */
  cells: number;
  bytes: number;
}

/** What replaces a cell over the per-cell cap. */
export function oversizedMarker(bytes: number): string {
  return `[CELL_TOO_LARGE:${bytes} bytes]`;
}

/** Scalars inside a JSON value (at least 1), counted without recursion limits by an explicit stack. */
function scalarCount(value: object): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v !== null && typeof v === 'object') {
      const children = Array.isArray(v) ? v : Object.values(v);
      if (children.length === 0) count++;
      else for (const c of children) stack.push(c);
    } else {
      count++;
    }
  }
  return Math.max(1, count);
}

/** A cell's size as stored (JSON bytes) and the cells it counts for. */
export function cellSize(value: unknown): { bytes: number; cells: number } {
  if (value === null || value === undefined) return { bytes: 4, cells: 1 };
  switch (typeof value) {
    case 'string':
      return { bytes: Buffer.byteLength(value, 'utf8') + 2, cells: 1 };
    case 'number':
    case 'boolean':
    case 'bigint':
      return { bytes: String(value).length, cells: 1 };
    case 'object': {
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch {
        json = undefined; // a cycle or a bigint inside: no JSON form, so it is never returned whole
      }
      if (json === undefined) return { bytes: Number.POSITIVE_INFINITY, cells: 1 };
      return { bytes: Buffer.byteLength(json, 'utf8'), cells: scalarCount(value) };
    }
    default:
      return { bytes: Buffer.byteLength(String(value), 'utf8'), cells: 1 };
  }
}

/**
 * Pass rows through the caps: over-long cells replaced, reading stopped before
 * the row that would pass the cell or byte cap (the source is closed then, so
 * the warehouse stream and its connection are released). A row is copied only
 * when a cell in it is replaced.
 */
export function capRows(rows: AsyncIterable<unknown[]>, caps: ResultCaps): { rows: AsyncIterable<unknown[]>; report(): CapReport } {
  const report: CapReport = { oversizedCells: 0, cells: 0, bytes: 0 };
  return {
    report: () => ({ ...report }),
    rows: (async function* () {
      for await (const row of rows) {
        let out: unknown[] | undefined;
        let rowBytes = 2; // the row's brackets
        let rowCells = 0;
        for (let i = 0; i < row.length; i++) {
          let size = cellSize(row[i]);
          if (size.bytes > caps.maxCellBytes) {
            const marker = oversizedMarker(Number.isFinite(size.bytes) ? size.bytes : 0);
            out ??= row.slice();
            out[i] = marker;
            report.oversizedCells++;
            size = cellSize(marker);
          }
          rowBytes += size.bytes + 1;
          rowCells += size.cells;
        }
        if (report.cells + rowCells > caps.maxCells) {
          report.truncatedBy = 'cells';
          return;
        }
        if (report.bytes + rowBytes > caps.maxBytes) {
          report.truncatedBy = 'bytes';
          return;
        }
        report.cells += rowCells;
        report.bytes += rowBytes;
        yield out ?? row;
      }
    })(),
  };
}

/** What the agent reads about a cut or a replaced cell: one sentence each, empty when nothing happened. */
export function resultNote(input: { truncatedBy?: TruncatedBy; rowCount: number; limit?: number; oversizedCells?: number; maxCellBytes?: number }): string | undefined {
  const parts: string[] = [];
  const n = (x: number) => x.toLocaleString('en-US');
  const rows = `${n(input.rowCount)} row${input.rowCount === 1 ? '' : 's'}`;
  const limit = input.limit === undefined ? '' : ` (${n(input.limit)})`;
  switch (input.truncatedBy) {
    case 'rows':
      parts.push(`The result was cut at ${rows}: the row limit${limit} (AIRLOCK_MAX_ROWS, or the policy's max_rows) was reached. Narrow the query (a WHERE or a LIMIT) to see the rest.`);
      break;
    case 'cells':
      parts.push(`The result was cut at ${rows}: the cell limit${limit} (AIRLOCK_MAX_RESULT_CELLS; each value inside an array or object counts) was reached. Select fewer columns or rows.`);
      break;
    case 'bytes':
      parts.push(`The result was cut at ${rows}: the size limit${limit === '' ? '' : ` (${n(input.limit!)} bytes)`} (AIRLOCK_MAX_RESULT_BYTES) was reached. Select fewer or shorter columns, or fewer rows.`);
      break;
    default:
      break;
  }
  if (input.oversizedCells) {
    const max = input.maxCellBytes === undefined ? '' : ` (${n(input.maxCellBytes)} bytes)`;
    parts.push(
      `${n(input.oversizedCells)} cell${input.oversizedCells === 1 ? ' was' : 's were'} larger than AIRLOCK_MAX_CELL_BYTES${max} and replaced by "[CELL_TOO_LARGE:<bytes> bytes]". Return less per cell (SUBSTR, fewer values per LISTAGG or ARRAY_AGG).`,
    );
  }
  return parts.length > 0 ? parts.join(' ') : undefined;
}
