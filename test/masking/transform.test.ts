/** The streaming transform and its report: rules, detectors, fail-closed defaults, flat memory. */
import { describe, expect, it } from 'vitest';
import { MaskingReportBuilder, summarizeReport } from '../../src/masking/report.ts';
import { createMasker } from '../../src/masking/strategies.ts';
import { createRowMasker, maskRows, scanByDefault, type ColumnPlan } from '../../src/masking/transform.ts';

const config = { hashKey: Buffer.from('test-hash-key-not-a-secret-0123456789') };
const C = 'ANALYTICS.PUBLIC.CUSTOMERS';

async function* from<T>(rows: T[]): AsyncGenerator<T> {
  for (const r of rows) yield r;
}

async function collect(it: AsyncIterable<unknown[]>): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const r of it) out.push(r);
  return out;
}

const PLAN: ColumnPlan[] = [
  { index: 0, name: 'CUSTOMER_ID', scan: true },
  { index: 1, name: 'X', rule: { type: 'ssn', strategy: 'partial', source: `${C}.SSN` }, scan: true },
  { index: 2, name: 'EMAIL', rule: { type: 'email', strategy: 'hash', source: `${C}.EMAIL` }, scan: true },
  { index: 3, name: 'N', rule: { type: 'ssn', strategy: 'redact', source: `expression of ${C}.FIRST_NAME, ${C}.SSN` }, scan: true },
  { index: 4, name: 'NOTES', scan: true },
  { index: 5, name: 'PROFILE', scan: true },
  { index: 6, name: 'ACTIVE', scan: false },
];

describe('maskRows', () => {
  it('applies rules to rule columns, detectors to the others, and reports both', async () => {
    const rows = [
      [1, '123-45-6789', 'jane@example.com', 'Jane 123-45-6789', 'card 4111 1111 1111 1111', { email: 'jane@example.com', tier: 'gold' }, true],
      [2, '078-05-1120', 'JANE@example.com', 'Li 078-05-1120', 'no pii here', '{"tier":"silver"}', false],
      [3, null, null, null, 'mail a@example.com and b@example.com', null, null],
    ];
    const report = new MaskingReportBuilder();
    const masker = createMasker(config);
    const out = await collect(maskRows(from(rows), PLAN, { masker, report }));
    const tok = masker.apply('jane@example.com', 'email', 'hash');
    expect(out).toEqual([
      [1, '***-**-6789', tok, '[REDACTED:SSN]', 'card **** **** **** 1111', { email: '***@example.com', tier: 'gold' }, true],
      [2, '***-**-1120', tok, '[REDACTED:SSN]', 'no pii here', '{"tier":"silver"}', false],
      [3, null, null, null, 'mail ***@example.com and ***@example.com', null, null],
    ]);
    // Rows are copied on write; the input stays as it was.
    expect(rows[0]![1]).toBe('123-45-6789');
    expect(report.build()).toEqual({
      columns: [
        { index: 1, name: 'X', reason: 'rule', detail: `${C}.SSN`, type: 'ssn', strategy: 'partial', cells: 2 },
        { index: 2, name: 'EMAIL', reason: 'rule', detail: `${C}.EMAIL`, type: 'email', strategy: 'hash', cells: 2 },
        { index: 3, name: 'N', reason: 'rule', detail: `expression of ${C}.FIRST_NAME, ${C}.SSN`, type: 'ssn', strategy: 'redact', cells: 2 },
        { index: 4, name: 'NOTES', reason: 'detector', detail: 'card', type: 'card', strategy: 'partial', cells: 1 },
        { index: 4, name: 'NOTES', reason: 'detector', detail: 'email', type: 'email', strategy: 'partial', cells: 1 },
        { index: 5, name: 'PROFILE', reason: 'detector', detail: 'key:email', type: 'email', strategy: 'partial', cells: 1 },
      ],
      cellsScanned: 8,
      rows: 3,
    });
    expect(summarizeReport(report.build())[0]).toBe(`X: partial by rule ${C}.SSN (2 cells)`);
  });

  it('returns unchanged rows as the same array', async () => {
    const row = [1, 'Springfield', 'shipped'];
    const [out] = await collect(maskRows(from([row]), [], { masker: config }));
    expect(out).toBe(row);
  });

  it('scans cells at positions the plan does not list (fail closed)', async () => {
    const out = await collect(maskRows(from([[1, 'x', 'jane@example.com']]), [{ index: 0, name: 'ID', scan: true }], { masker: config }));
    expect(out).toEqual([[1, 'x', '***@example.com']]);
  });

  it('detect rules scan the column, with bare nine-digit SSNs when the type is ssn', async () => {
    const plan: ColumnPlan[] = [
      { index: 0, name: 'NOTE', rule: { type: 'free_text', strategy: 'detect', source: `${C}.NOTES` }, scan: true },
      { index: 1, name: 'TAXID', rule: { type: 'ssn', strategy: 'detect', source: `${C}.TAX_ID` }, scan: true },
    ];
    const report = new MaskingReportBuilder();
    const out = await collect(maskRows(from([['call 415-555-0123', '123456789'], ['fine', '12']]), plan, { masker: config, report }));
    expect(out).toEqual([['call ***-***-**23', '***-**-6789'], ['fine', '12']]);
    expect(report.build().columns.map((c) => `${c.name}:${c.reason}:${c.detail}:${c.cells}`)).toEqual([
      `NOTE:rule:${C}.NOTES:1`,
      'NOTE:detector:phone:1',
      `TAXID:rule:${C}.TAX_ID:1`,
      'TAXID:detector:ssn:1',
    ]);
  });

  it('streams: the first masked row comes out before the source has produced the second, over 100,000 rows', async () => {
    let produced = 0;
    let finished = false;
    async function* source(): AsyncGenerator<unknown[]> {
      for (let i = 0; i < 100_000; i++) {
        produced++;
        yield [i, `${String(100 + (i % 800)).padStart(3, '0')}-45-6789`, `note ${i} for user${i}@example.com`];
      }
      finished = true;
    }
    const plan: ColumnPlan[] = [
      { index: 0, name: 'ID', scan: true },
      { index: 1, name: 'SSN', rule: { type: 'ssn', strategy: 'partial', source: `${C}.SSN` }, scan: true },
      { index: 2, name: 'NOTE', scan: true },
    ];
    const report = new MaskingReportBuilder();
    let n = 0;
    let finishedEarly = 0;
    let unmasked = 0;
    const producedAt: number[] = [];
    for await (const row of maskRows(source(), plan, { masker: config, report })) {
      if (n < 3) producedAt.push(produced);
      if (finished) finishedEarly++;
      if (row[1] !== '***-**-6789' || String(row[2]).includes('@example.com') !== true || String(row[2]).includes('user')) unmasked++;
      n++;
    }
    expect(producedAt).toEqual([1, 2, 3]);
    expect(finishedEarly).toBe(0);
    expect(unmasked).toBe(0);
    expect(finished).toBe(true);
    expect(n).toBe(100_000);
    const r = report.build();
    expect(r.rows).toBe(100_000);
    expect(r.columns.map((c) => [c.name, c.cells])).toEqual([['SSN', 100_000], ['NOTE', 100_000]]);
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<unknown[]> {
      try {
        for (let i = 0; ; i++) yield [i];
      } finally {
        closed = true;
      }
    }
    for await (const row of maskRows(source(), [], { masker: config })) if (row[0] === 5) break;
    expect(closed).toBe(true);
  });

  it('propagates a source error', async () => {
    async function* source(): AsyncGenerator<unknown[]> {
      yield [1];
      throw new Error('warehouse went away');
    }
    await expect(collect(maskRows(source(), [], { masker: config }))).rejects.toThrow('warehouse went away');
  });

  it('createRowMasker masks synchronously with the same rules', () => {
    const { mask, report } = createRowMasker(PLAN, { masker: config });
    expect(mask([9, '123-45-6789', null, null, 'x', null, true])).toEqual([9, '***-**-6789', null, null, 'x', null, true]);
    expect(report.build().rows).toBe(1);
  });

  it.each<[string, boolean]>([
    ['text', true],
    ['fixed', true],
    ['variant', true],
    ['object', true],
    ['array', true],
    ['boolean', false],
    ['date', false],
    ['timestamp_ntz', false],
    ['real', false],
    ['binary', false],
  ])('scanByDefault(%s) = %s', (type, scan) => expect(scanByDefault(type)).toBe(scan));
});
