/**
 * Large results: the first part inline, the rest in gzip chunks the driver
 * downloads from the emulator with only `chunkHeaders`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from 'snowflake-sdk';
import type { Emulator } from '../../src/emulator/server.ts';
import { connect, destroy, emulator, post, rawLogin } from './wire-helpers.ts';

const ROWS = 120_000;
let emu: Emulator;
let conn: Connection;

beforeAll(async () => {
  emu = await emulator({
    database: 'BIGDB',
    resultChunkRows: 8_000,
    init: async (db, { createDatabase }) => {
      await createDatabase('BIGDB');
      await db.run(
        `CREATE TABLE "BIGDB"."PUBLIC"."BIG" AS SELECT range::INTEGER AS N, 'row-' || range AS S, range * 0.5 AS F FROM range(${ROWS})`,
      );
    },
  });
  conn = await connect(emu, { database: 'BIGDB' });
});
afterAll(async () => {
  if (conn) await destroy(conn);
  await emu?.close();
});

describe('chunked results', () => {
  it(`streams ${ROWS} rows through the driver with streamRows()`, async () => {
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    let count = 0;
    let sum = 0;
    const samples = new Map<number, Record<string, unknown>>();
    await new Promise<void>((resolve, reject) => {
      const stmt = conn.execute({ sqlText: 'SELECT N, S, F FROM BIG ORDER BY N', streamResult: true });
      stmt
        .streamRows()
        .on('data', (row: Record<string, unknown>) => {
          const n = row.N as number;
          if (n !== count) reject(new Error(`row ${count} has N=${n}`));
          if (n === 0 || n === 8_000 || n === ROWS - 1) samples.set(n, row);
          count++;
          sum += n;
        })
        .on('error', reject)
        .on('end', () => resolve());
    });
    const ms = performance.now() - t0;
    expect(count).toBe(ROWS);
    expect(sum).toBe((ROWS * (ROWS - 1)) / 2);
    expect(samples.get(0)).toEqual({ N: 0, S: 'row-0', F: 0 });
    expect(samples.get(8_000)).toEqual({ N: 8_000, S: 'row-8000', F: 4_000 });
    expect(samples.get(ROWS - 1)).toEqual({ N: ROWS - 1, S: `row-${ROWS - 1}`, F: (ROWS - 1) / 2 });
    const stored = emu.stats().storedResultBytes;
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.info(`${ROWS} rows in ${ms.toFixed(0)} ms; server keeps ${(stored / 1e6).toFixed(2)} MB compressed; heap +${(heapGrowth / 1e6).toFixed(1)} MB`);
    // Compressed chunks: a small fraction of the ~3.5 MB of row text.
    expect(stored).toBeLessThan(3_000_000);
    expect(heapGrowth).toBeLessThan(300_000_000);
  }, 60_000);

  it('describes chunks with absolute URLs on the emulator and serves them only with the chunk key', async () => {
    const login = await rawLogin(emu);
    const { json } = await post(emu, '/queries/v1/query-request', { sqlText: 'SELECT N FROM BIGDB.PUBLIC.BIG ORDER BY N' }, { token: login.token });
    expect(json.success).toBe(true);
    const data = json.data;
    expect(data.total).toBe(ROWS);
    expect(data.returned).toBe(ROWS);
    expect(data.rowset).toHaveLength(8_000);
    expect(data.chunks).toHaveLength(Math.ceil((ROWS - 8_000) / 8_000));
    const first = data.chunks[0] as { url: string; rowCount: number };
    expect(first.url.startsWith(`${emu.url}/`)).toBe(true);
    expect(first.rowCount).toBe(8_000);

    const denied = await fetch(first.url);
    expect(denied.status).toBe(403);

    const res = await fetch(first.url, { headers: data.chunkHeaders as Record<string, string> });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const text = await res.text(); // fetch gunzips
    expect(text.startsWith('[')).toBe(true);
    const rows = JSON.parse(`[${text}]`) as string[][];
    expect(rows).toHaveLength(8_000);
    expect(rows[0]).toEqual(['8000']);
  });
});
