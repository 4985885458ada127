/**
 * The worker's result masker: the lineage it keeps per statement text never
 * lets one statement's plan mask another's result.
 */
import { describe, expect, it } from 'vitest';
import { AnalysisPool } from '../../src/analysis/pool.ts';
import type { SelectLineage } from '../../src/masking/lineage.ts';
import { createResultMasker, type ResultMasker } from '../../src/masking/service.ts';
import { catalogLookup } from '../../src/policy/engine.ts';

const masker = createResultMasker({
  defaults: { database: 'ANALYTICS', schema: 'PUBLIC' },
  catalog: catalogLookup([{ column: '*.*.CUSTOMERS.SSN', type: 'ssn' }]),
  config: { hashKey: Buffer.from('test-hash-key-not-a-secret-0123456789') },
});

async function run(sql: string, rows: unknown[][], by: ResultMasker = masker): Promise<{ rows: unknown[][]; ruled: string[] }> {
  async function* source() {
    for (const r of rows) yield r;
  }
  const masked = by.begin(sql, ['X'], source());
  const out: unknown[][] = [];
  for await (const r of masked.rows) out.push(r);
  return { rows: out, ruled: masked.report().columns.filter((c) => c.reason !== 'detector').map((c) => c.name) };
}

describe('createResultMasker', () => {
  it('plans each statement by its own lineage, however often either runs', async () => {
    // A value no detector recognises as an SSN: only the lineage rule can mask it.
    const value = 'A1B2C3';
    for (let round = 0; round < 3; round++) {
      const ssn = await run('select ssn as x from customers', [[value]]);
      expect(ssn.ruled).toEqual(['X']);
      expect(ssn.rows[0]![0]).not.toBe(value);
      const city = await run('select city as x from customers', [[value]]);
      expect(city.ruled).toEqual([]);
      expect(city.rows[0]![0]).toBe(value);
    }
  });

  it('masks a statement longer than the cache keeps by its lineage too', async () => {
    const padding = ' '.repeat(5000);
    const ssn = await run(`select ssn as x from customers${padding}`, [['A1B2C3']]);
    expect(ssn.ruled).toEqual(['X']);
    expect(ssn.rows[0]![0]).not.toBe('A1B2C3');
  });
});

describe("a large statement's lineage traced on the analysis threads", () => {
  const defaults = { database: 'ANALYTICS', schema: 'PUBLIC' };
  const big = `select ssn as x from customers where customer_id in (${Array.from({ length: 4_000 }, (_, i) => i).join(',')})`;
  const offloaded = (offloadLineage: (sql: string) => Promise<SelectLineage>) =>
    createResultMasker({
      defaults,
      catalog: catalogLookup([{ column: '*.*.CUSTOMERS.SSN', type: 'ssn' }]),
      config: { hashKey: Buffer.from('test-hash-key-not-a-secret-0123456789') },
      offloadLineage,
    });

  it('masks by the lineage a real thread traced; the rows wait for it', async () => {
    const pool = new AnalysisPool({ threads: 1, queueLimit: 2, timeoutMs: 30_000 });
    try {
      const ssn = await run(big, [['A1B2C3']], offloaded((sql) => pool.lineage(sql, defaults)));
      expect(ssn.ruled).toEqual(['X']);
      expect(ssn.rows[0]![0]).not.toBe('A1B2C3');
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('traces in process when the threads refuse: the same plan, never a looser one', async () => {
    const ssn = await run(big, [['A1B2C3']], offloaded(() => Promise.reject(new Error('ANALYSIS_BUSY'))));
    expect(ssn.ruled).toEqual(['X']);
    expect(ssn.rows[0]![0]).not.toBe('A1B2C3');
  });
});

describe('catalogLookup (the masking plan asks it once per output column)', () => {
  const catalog = catalogLookup([
    { column: '*.*.CUSTOMERS.EMAIL', type: 'email' },
    { column: '*.*.*.EMAIL', type: 'pii' },
    { table: 'HR.*.*', type: 'restricted' },
    { column: 'ANALYTICS.PUBLIC."A.B".SSN', type: 'ssn' },
    { column: '*.*.PAY*.SALARY', type: 'salary' },
  ]);

  it('answers with the first entry that matches, in the file order, and only at its level', () => {
    expect(catalog.column('ANALYTICS.PUBLIC.CUSTOMERS.EMAIL')).toBe('email');
    expect(catalog.column('ANALYTICS.PUBLIC.ORDERS.EMAIL')).toBe('pii');
    expect(catalog.column('ANALYTICS.PUBLIC.ORDERS.ID')).toBeUndefined();
    expect(catalog.column('HR.PUBLIC.PEOPLE.NAME')).toBeUndefined();
    expect(catalog.table('HR.PUBLIC.PEOPLE')).toBe('restricted');
    expect(catalog.table('ANALYTICS.PUBLIC.CUSTOMERS')).toBeUndefined();
    expect(catalog.column('ANALYTICS.PUBLIC.PAYROLL.SALARY')).toBe('salary');
  });

  it('splits quoted parts that hold dots, and a name with another number of parts matches nothing', () => {
    expect(catalog.column('ANALYTICS.PUBLIC."A.B".SSN')).toBe('ssn');
    expect(catalog.column('ANALYTICS.PUBLIC.A.B.SSN')).toBeUndefined();
    expect(catalog.column('CUSTOMERS.EMAIL')).toBeUndefined();
  });

  it('anyColumn: the first column entry whose table part the table matches', () => {
    expect(catalog.anyColumn('ANALYTICS.PUBLIC.CUSTOMERS')).toBe('email');
    expect(catalog.anyColumn('ANALYTICS.PUBLIC.ORDERS')).toBe('pii');
    expect(catalog.anyColumn('HR.PUBLIC.PEOPLE')).toBe('pii');
  });
});
