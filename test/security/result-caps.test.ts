/**
 * Class 5 of the soundness issue (docs/security.md): one row, many rows.
 * `LISTAGG`/`ARRAY_AGG` pack a table into one allowed row, past the row cap.
 * The caps under test bound a result by cells, bytes and bytes per cell; an
 * over-long cell is replaced whole, never returned (or cut) as data.
 */
import { describe, expect, it } from 'vitest';
import { checkEnv, loadConfig } from '../../src/config/env.ts';
import { isAirlockError } from '../../src/errors.ts';
import { capRows, cellSize, DEFAULT_RESULT_CAPS, oversizedMarker, resultNote, type ResultCaps } from '../../src/queries/result-caps.ts';

const ssn = (i: number) => `${String(100 + (i % 800)).padStart(3, '0')}-${String(10 + (i % 89)).padStart(2, '0')}-${String(1000 + i).slice(-4)}`;

async function* source(rows: unknown[][], closed?: { value: boolean }): AsyncGenerator<unknown[]> {
  try {
    for (const r of rows) yield r;
  } finally {
    if (closed) closed.value = true;
  }
}

async function drain(rows: unknown[][], caps: Partial<ResultCaps>, closed?: { value: boolean }) {
  const capped = capRows(source(rows, closed), { ...DEFAULT_RESULT_CAPS, ...caps });
  const out: unknown[][] = [];
  for await (const r of capped.rows) out.push(r);
  return { out, report: capped.report() };
}

describe('per-cell cap: one cell cannot carry a table', () => {
  const packed = Array.from({ length: 50_000 }, (_, i) => ssn(i));

  it.each([
    ['LISTAGG with commas', packed.join(',')],
    ['LISTAGG with newlines', packed.join('\n')],
    ['LISTAGG without delimiter', packed.join('')],
    ['ARRAY_AGG as a parsed array', packed],
    ['OBJECT_AGG as a parsed object', Object.fromEntries(packed.map((v, i) => [`k${i}`, v]))],
    ['ARRAY_AGG of objects', packed.map((v) => ({ v }))],
    ['nested arrays', [[[packed]]]],
    ['ARRAY_AGG as JSON text', JSON.stringify(packed)],
    ['multibyte text just over the cap', 'é'.repeat(8_192)],
  ])('%s is replaced whole by the marker', async (_name, cell) => {
    const { out, report } = await drain([[1, cell]], {});
    expect(out).toHaveLength(1);
    expect(out[0]![0]).toBe(1);
    expect(out[0]![1]).toMatch(/^\[CELL_TOO_LARGE:\d+ bytes\]$/);
    expect(JSON.stringify(out)).not.toContain(packed[0]!.slice(0, 6));
    expect(report.oversizedCells).toBe(1);
    expect(report.truncatedBy).toBeUndefined();
  });

  it('a cell exactly at the cap passes; one byte more does not', async () => {
    const at = 'a'.repeat(100 - 2); // JSON quotes count
    const { out } = await drain([[at], ['a'.repeat(99)]], { maxCellBytes: 100 });
    expect(out[0]![0]).toBe(at);
    expect(out[1]![0]).toBe(oversizedMarker(101));
  });

  it('does not copy a row it leaves alone, and never mutates the input row', async () => {
    const small = [1, 'x'];
    const big = [2, 'y'.repeat(50_000)];
    const { out } = await drain([small, big], {});
    expect(out[0]).toBe(small);
    expect(big[1]).toHaveLength(50_000);
    expect(out[1]).not.toBe(big);
  });

  it('a value without a JSON form (a cycle) is replaced, not returned', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const { out, report } = await drain([[cyclic]], {});
    expect(out[0]![0]).toMatch(/^\[CELL_TOO_LARGE:/);
    expect(report.oversizedCells).toBe(1);
  });
});

describe('cell and byte caps: reading stops before the row that passes them', () => {
  it('an array cell counts each value inside it', () => {
    expect(cellSize([1, 2, 3]).cells).toBe(3);
    expect(cellSize({ a: [1, { b: 2, c: [3, 4] }], d: null }).cells).toBe(5);
    expect(cellSize([]).cells).toBe(1);
    expect(cellSize('a,b,c').cells).toBe(1);
    expect(cellSize(null)).toEqual({ bytes: 4, cells: 1 });
  });

  it('ARRAY_AGG under the per-cell cap still counts against the cell cap', async () => {
    const arrays = Array.from({ length: 10 }, (_, r) => [Array.from({ length: 2_000 }, (_, i) => r * 2000 + i)]);
    const { out, report } = await drain(arrays, { maxCells: 10_000, maxCellBytes: 1_000_000 });
    expect(out).toHaveLength(5);
    expect(report).toMatchObject({ truncatedBy: 'cells', cells: 10_000 });
  });

  it('cuts at the cell cap with plain rows', async () => {
    const rows = Array.from({ length: 1_000 }, (_, i) => [i, `name ${i}`, i % 7]);
    const { out, report } = await drain(rows, { maxCells: 300 });
    expect(out).toHaveLength(100);
    expect(report.truncatedBy).toBe('cells');
  });

  it('cuts at the byte cap, and closes the source', async () => {
    const closed = { value: false };
    const rows = Array.from({ length: 1_000 }, (_, i) => [i, 'x'.repeat(1_000)]);
    const { out, report } = await drain(rows, { maxBytes: 10_240 }, closed);
    expect(out.length).toBeGreaterThan(0);
    expect(out.length).toBeLessThan(11);
    expect(report.truncatedBy).toBe('bytes');
    expect(report.bytes).toBeLessThanOrEqual(10_240);
    expect(closed.value).toBe(true);
  });

  it('many oversized cells still add up to the byte cap (markers are counted)', async () => {
    const rows = Array.from({ length: 10_000 }, () => ['z'.repeat(20_000)]);
    const { out, report } = await drain(rows, { maxBytes: 4_096 });
    expect(out.length).toBeLessThan(200);
    expect(report).toMatchObject({ truncatedBy: 'bytes' });
  });

  it('a result under every cap passes untouched', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => [i, { tags: ['a', 'b'] }, null]);
    const { out, report } = await drain(rows, {});
    expect(out).toEqual(rows);
    expect(report).toMatchObject({ oversizedCells: 0, cells: 200 });
    expect(report.truncatedBy).toBeUndefined();
  });
});

describe('what the agent reads', () => {
  it('names the cap, the limit and what to do', () => {
    expect(resultNote({ truncatedBy: 'cells', rowCount: 5, limit: 10_000 })).toMatch(/cut at 5 rows: the cell limit \(10,000\) \(AIRLOCK_MAX_RESULT_CELLS/);
    expect(resultNote({ truncatedBy: 'bytes', rowCount: 1, limit: 4096 })).toMatch(/cut at 1 row: the size limit \(4,096 bytes\) \(AIRLOCK_MAX_RESULT_BYTES\)/);
    expect(resultNote({ truncatedBy: 'rows', rowCount: 10, limit: 10 })).toMatch(/AIRLOCK_MAX_ROWS/);
    expect(resultNote({ rowCount: 1, oversizedCells: 2, maxCellBytes: 16_384 })).toMatch(/^2 cells were larger than AIRLOCK_MAX_CELL_BYTES \(16,384 bytes\)/);
    expect(resultNote({ rowCount: 3 })).toBeUndefined();
  });
});

describe('configuration', () => {
  it('has sane defaults', () => {
    const c = loadConfig({});
    expect([c.AIRLOCK_MAX_RESULT_CELLS, c.AIRLOCK_MAX_RESULT_BYTES, c.AIRLOCK_MAX_CELL_BYTES]).toEqual([2_000_000, 33_554_432, 16_384]);
  });

  it.each([
    [{ AIRLOCK_MAX_RESULT_CELLS: '0' }, 'AIRLOCK_MAX_RESULT_CELLS'],
    [{ AIRLOCK_MAX_RESULT_CELLS: 'lots' }, 'AIRLOCK_MAX_RESULT_CELLS'],
    [{ AIRLOCK_MAX_RESULT_BYTES: '100' }, 'AIRLOCK_MAX_RESULT_BYTES'],
    [{ AIRLOCK_MAX_CELL_BYTES: '1.5' }, 'AIRLOCK_MAX_CELL_BYTES'],
    [{ AIRLOCK_MAX_CELL_BYTES: '65536', AIRLOCK_MAX_RESULT_BYTES: '4096' }, 'AIRLOCK_MAX_CELL_BYTES'],
  ])('refuses %j with a CONFIG_INVALID naming the variable', (env, variable) => {
    expect(checkEnv(env).problems.map((p) => p.variable)).toContain(variable);
    let caught: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      caught = err;
    }
    expect(isAirlockError(caught, 'CONFIG_INVALID')).toBe(true);
  });
});
