/**
 * `dbFile` persistence: the main file plus one sibling file per Snowflake
 * database, re-attached on the next start.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, destroy, emulator, exec } from './wire-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), `emu-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dbFile', () => {
  it('keeps databases and tables across restarts', async () => {
    const dbFile = join(dir, 'emu.duckdb');
    const first = await emulator({ dbFile, database: 'KEEP', init: async (_db, { createDatabase }) => createDatabase('KEEP') });
    const c1 = await connect(first, { database: 'KEEP' });
    await exec(c1, 'CREATE TABLE KEPT (N INTEGER)');
    await exec(c1, 'INSERT INTO KEPT (N) VALUES (41), (42)');
    await destroy(c1);
    await first.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.duckdb')).sort()).toEqual(['emu.KEEP.duckdb', 'emu.duckdb']);

    const second = await emulator({ dbFile, database: 'KEEP' });
    try {
      const c2 = await connect(second, { database: 'KEEP' });
      expect((await exec(c2, 'SELECT N FROM KEPT ORDER BY N')).rows).toEqual([{ N: 41 }, { N: 42 }]);
      await destroy(c2);
    } finally {
      await second.close();
    }
  });
});
