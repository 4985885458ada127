/** The session log's preview of a result: the first rows, passed through unchanged, each cell bounded. */
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/events.ts';
import { firstRows } from '../../src/queries/preview.ts';

async function drain(rows: AsyncIterable<unknown[]>): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const r of rows) out.push(r);
  return out;
}

async function* source(rows: unknown[][]): AsyncIterable<unknown[]> {
  yield* rows;
}

describe('firstRows', () => {
  it('keeps the first n rows and passes every row through as it was', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => [i, `name-${i}`]);
    const tap = firstRows(source(rows), 5);
    expect(await drain(tap.rows)).toEqual(rows);
    expect(tap.taken).toEqual(rows.slice(0, 5));
  });

  it('bounds every cell: long text, big VARIANT objects and arrays are cut to 200 characters of JSON', async () => {
    const big = { a: 'y'.repeat(5000), nested: [1, 2, 3] };
    const tap = firstRows(source([['x'.repeat(1000), big, Array.from({ length: 1000 }, (_, i) => i), { small: true }]]), 5);
    await drain(tap.rows);
    const [text, obj, arr, small] = tap.taken[0]!;
    expect(text).toBe(`${'x'.repeat(200)}…`);
    expect(obj).toBe(`${JSON.stringify(big).slice(0, 200)}…`);
    expect(typeof arr).toBe('string');
    expect((arr as string).length).toBe(201);
    expect(small).toEqual({ small: true });
  });

  it('turns what canonical JSON cannot hash into text, so the event can still be chained', async () => {
    const when = new Date('2026-11-23T10:00:00Z');
    const tap = firstRows(source([[Number.NaN, Number.POSITIVE_INFINITY, 12n, when, undefined, null, true]]), 5);
    await drain(tap.rows);
    expect(tap.taken[0]).toEqual(['NaN', 'Infinity', '12', '2026-11-23T10:00:00.000Z', null, null, true]);
    expect(() => canonicalJson(tap.taken)).not.toThrow();
  });
});
