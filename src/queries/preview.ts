/**
 * What the session log keeps of a result: the first rows of the masked stream
 * (long cells cut) and the count of cells each detector changed, for
 * `execution_finished`.
 */
import type { JsonValue } from '../audit/events.ts';
import type { MaskingReport } from '../masking/report.ts';

/** Rows of the masked result kept in `execution_finished`, and the longest cell text kept there. */
export const PREVIEW_ROWS = 5;
const PREVIEW_CELL_CHARS = 200;

/** Cells changed per detector kind (`email`, `ssn`, `key:secret`…). */
export function detectorCounts(report: MaskingReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of report.columns) if (c.reason === 'detector') out[c.detail] = (out[c.detail] ?? 0) + c.cells;
  return out;
}

/** Pass rows through, keeping a JSON copy of the first `n` (long text cut) for the session log. */
export function firstRows(rows: AsyncIterable<unknown[]>, n: number): { rows: AsyncIterable<unknown[]>; taken: JsonValue[][] } {
  const taken: JsonValue[][] = [];
  const cut = (text: string): string => (text.length > PREVIEW_CELL_CHARS ? `${text.slice(0, PREVIEW_CELL_CHARS)}…` : text);
  const cell = (v: unknown): JsonValue => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return cut(v);
    if (typeof v === 'boolean') return v;
    // The chain hashes canonical JSON, which has no NaN or Infinity.
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    // VARIANT, OBJECT, ARRAY, dates: their JSON text, cut like any text, so one cell never bloats the event.
    let json: string | undefined;
    try {
      json = JSON.stringify(v);
    } catch {
      json = undefined; // a bigint, a cycle
    }
    if (json === undefined) return cut(String(v));
    return json.length > PREVIEW_CELL_CHARS ? cut(json) : (JSON.parse(json) as JsonValue);
  };
  return {
    taken,
    rows: (async function* () {
      for await (const row of rows) {
        if (taken.length < n) taken.push(row.map(cell));
        yield row;
      }
    })(),
  };
}
