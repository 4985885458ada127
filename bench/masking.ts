/**
 * Masking speed and memory on one core (issue 5 targets: ≥ 3,000,000 cells/s
 * for column rules, ≥ 500,000 cells/s for full detector scans of string cells,
 * ≤ 300 MB peak RSS streaming 1,000,000 rows through maskRows).
 *
 * - column rules: eight rule columns (ssn, email, card, phone, first/last name
 *   hashed, dob, salary) with their default strategies;
 * - full scan: ten columns of realistic string cells (names, cities, statuses,
 *   timestamps, UUIDs, amounts, emails, free-text notes with some embedded PII,
 *   small JSON documents), every one scanned by every detector;
 * - streaming: 1,000,000 rows × 10 columns (6 rules, 4 scanned) generated one
 *   at a time and drained through maskRows, sampling RSS.
 *
 * Only fake values (the emulator's seeded generators). Pure CPU, no services.
 * Alone: `npx tsx bench/masking.ts`.
 */
import { pathToFileURL } from 'node:url';
import { createRng, fakeCardNumber, fakePhone, fakeSsn, type Rng } from '../src/emulator/seed/pii.ts';
import { MaskingReportBuilder } from '../src/masking/report.ts';
import { createMasker } from '../src/masking/strategies.ts';
import { createRowMasker, maskRows, type ColumnPlan } from '../src/masking/transform.ts';

const FIRST = ['Ava', 'Liam', 'Maya', 'Noah', 'Zoe', 'Ethan', 'Iris', 'Omar', 'Lena', 'Hugo', 'Nina', 'Ravi', 'Sofia', 'Tomas', 'Yuki', 'Priya', 'Diego', 'Clara', 'Felix', 'Amara'];
const LAST = ['Okafor', 'Lindqvist', 'Tanaka', 'Moreau', 'Kowalski', 'Haddad', 'Novak', 'Reyes', 'Brennan', 'Iyer', 'Schultz', 'Costa', 'Nakamura', 'Adeyemi', 'Varga', 'Delgado', 'Fischer', 'Ahmed', 'Larsen', 'Quinn'];
const CITIES = ['Springfield', 'Riverton', 'Lakewood', 'Fairview', 'Oak Ridge', 'Maple Falls', 'Brookside', 'Cedar Point'];
const STATUSES = ['shipped', 'pending', 'refunded', 'cancelled', 'delivered'];
const NOTES = [
  'Customer asked about delivery window, promised a callback tomorrow.',
  'Refund approved after review; see ticket 48213 for the thread.',
  'Left a voicemail, no answer. Try again next week.',
  'Address confirmed, package rerouted to the north depot.',
  'Upgraded to the enterprise plan at renewal, invoice 2024-0917.',
];

const hex = (rng: Rng, n: number) => Array.from({ length: n }, () => '0123456789abcdef'[rng.int(0, 15)]).join('');
const uuid = (rng: Rng) => `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`;
const email = (rng: Rng) => `${rng.pick(FIRST).toLowerCase()}.${rng.pick(LAST).toLowerCase()}${rng.int(1, 999)}@example.com`;
const dob = (rng: Rng) => `${rng.int(1950, 2004)}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
const ts = (rng: Rng) => `2024-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}T${String(rng.int(0, 23)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}:00Z`;

function note(rng: Rng): string {
  const base = rng.pick(NOTES);
  const r = rng.next();
  if (r < 0.05) return `${base} Card on file ${fakeCardNumber(rng).replace(/(\d{4})(?=\d)/g, '$1 ')}.`;
  if (r < 0.1) return `${base} Reach them at ${email(rng)} or ${fakePhone(rng)}.`;
  if (r < 0.12) return `${base} SSN given as ${fakeSsn(rng)}.`;
  return base;
}

/** Ten realistic string cells, most of them harmless. */
function scanRow(rng: Rng, i: number): unknown[] {
  return [
    `${rng.pick(FIRST)} ${rng.pick(LAST)}`,
    rng.pick(CITIES),
    rng.pick(STATUSES),
    ts(rng),
    uuid(rng),
    `${rng.int(1, 9999)}.${String(rng.int(0, 99)).padStart(2, '0')}`,
    email(rng),
    note(rng),
    `{"sku":"SKU-${rng.int(1000, 9999)}","qty":${rng.int(1, 5)},"tags":["${rng.pick(STATUSES)}"]}`,
    `ORD-${String(i).padStart(8, '0')}`,
  ];
}

const RULE_PLAN: ColumnPlan[] = [
  { index: 0, name: 'SSN', rule: { type: 'ssn', strategy: 'partial', source: 'ANALYTICS.PUBLIC.CUSTOMERS.SSN' }, scan: true },
  { index: 1, name: 'EMAIL', rule: { type: 'email', strategy: 'partial', source: 'ANALYTICS.PUBLIC.CUSTOMERS.EMAIL' }, scan: true },
  { index: 2, name: 'CARD_NUMBER', rule: { type: 'card', strategy: 'partial', source: 'ANALYTICS.PUBLIC.CUSTOMERS.CARD_NUMBER' }, scan: true },
  { index: 3, name: 'PHONE', rule: { type: 'phone', strategy: 'partial', source: 'ANALYTICS.PUBLIC.CUSTOMERS.PHONE' }, scan: true },
  { index: 4, name: 'FIRST_NAME', rule: { type: 'name', strategy: 'hash', source: 'ANALYTICS.PUBLIC.CUSTOMERS.FIRST_NAME' }, scan: true },
  { index: 5, name: 'LAST_NAME', rule: { type: 'name', strategy: 'hash', source: 'ANALYTICS.PUBLIC.CUSTOMERS.LAST_NAME' }, scan: true },
  { index: 6, name: 'DOB', rule: { type: 'dob', strategy: 'generalize', source: 'ANALYTICS.PUBLIC.CUSTOMERS.DOB' }, scan: true },
  { index: 7, name: 'SALARY', rule: { type: 'salary', strategy: 'generalize', source: 'HR.CORE.EMPLOYEES.SALARY' }, scan: true },
];

function ruleRow(rng: Rng): unknown[] {
  return [fakeSsn(rng), email(rng), fakeCardNumber(rng), fakePhone(rng), rng.pick(FIRST), rng.pick(LAST), dob(rng), rng.int(30_000, 250_000)];
}

async function* fromArray(rows: unknown[][], times: number): AsyncGenerator<unknown[]> {
  for (let t = 0; t < times; t++) for (const r of rows) yield r;
}

async function drain(it: AsyncIterable<unknown[]>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

/** Cells per second of maskRows over pre-built rows (so generating values is not timed). */
async function cellsPerSecond(rows: unknown[][], plan: ColumnPlan[], passes: number, cellsPerRow: number): Promise<number> {
  const masker = createMasker({ hashKey: Buffer.alloc(32, 1) });
  await drain(maskRows(fromArray(rows, 1), plan, { masker })); // warm-up: JIT, regexes, token cache
  const t0 = performance.now();
  const n = await drain(maskRows(fromArray(rows, passes), plan, { masker }));
  return (n * cellsPerRow) / ((performance.now() - t0) / 1000);
}

/** The same through the synchronous row masker alone: the masking cost without the async iteration around it. */
function syncCellsPerSecond(rows: unknown[][], plan: ColumnPlan[], passes: number, cellsPerRow: number): number {
  const { mask } = createRowMasker(plan, { masker: { hashKey: Buffer.alloc(32, 1) } });
  for (const r of rows) mask(r);
  const t0 = performance.now();
  for (let p = 0; p < passes; p++) for (const r of rows) mask(r);
  return (rows.length * passes * cellsPerRow) / ((performance.now() - t0) / 1000);
}

export interface MaskingBenchResult {
  /** Through maskRows over an async row source (what the worker runs). */
  ruleCellsPerSecond: number;
  scanCellsPerSecond: number;
  /** Through the synchronous row masker alone. */
  ruleCoreCellsPerSecond: number;
  scanCoreCellsPerSecond: number;
  stream: { rows: number; cells: number; seconds: number; peakRssMb: number; startRssMb: number };
  targets: { rules: boolean; scan: boolean; rss: boolean };
  /** Markdown lines ready to print. */
  report: string[];
}

/** Measure masking; `rows` sets the streaming size (default 1,000,000). */
export async function benchMasking(options: { rows?: number; log?: (line: string) => void } = {}): Promise<MaskingBenchResult> {
  const log = options.log ?? (() => {});
  const streamRows = options.rows ?? Number(process.env.BENCH_MASKING_ROWS ?? 1_000_000);
  const rng = createRng(5);

  log(`bench: masking, streaming ${streamRows.toLocaleString('en-US')} rows…`);
  const streamPlan: ColumnPlan[] = [
    ...RULE_PLAN.slice(0, 6),
    ...[0, 3, 7, 8].map((c, k) => ({ index: 6 + k, name: `S${c}`, scan: true })),
  ];
  async function* generate(): AsyncGenerator<unknown[]> {
    const g = createRng(11);
    for (let i = 0; i < streamRows; i++) {
      const r = ruleRow(g);
      const s = scanRow(g, i);
      yield [r[0], r[1], r[2], r[3], r[4], r[5], s[0], s[3], s[7], s[8]];
    }
  }
  globalThis.gc?.();
  const startRss = process.memoryUsage.rss();
  let peak = startRss;
  const report = new MaskingReportBuilder();
  const t0 = performance.now();
  let n = 0;
  for await (const _ of maskRows(generate(), streamPlan, { masker: { hashKey: Buffer.alloc(32, 2) }, report })) {
    if (++n % 10_000 === 0) peak = Math.max(peak, process.memoryUsage.rss());
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  const seconds = (performance.now() - t0) / 1000;
  const mb = (b: number) => Math.round(b / 1048576);
  const stream = { rows: n, cells: n * streamPlan.length, seconds, peakRssMb: mb(peak), startRssMb: mb(startRss) };

  log('bench: masking, column rules…');
  const ruleRows = Array.from({ length: 50_000 }, () => ruleRow(rng));
  const ruleCellsPerSecond = await cellsPerSecond(ruleRows, RULE_PLAN, 10, RULE_PLAN.length);
  const ruleCoreCellsPerSecond = syncCellsPerSecond(ruleRows, RULE_PLAN, 10, RULE_PLAN.length);

  log('bench: masking, full detector scan…');
  const scanRows = Array.from({ length: 50_000 }, (_, i) => scanRow(rng, i));
  const scanPlan: ColumnPlan[] = Array.from({ length: 10 }, (_, index) => ({ index, name: `C${index}`, scan: true }));
  const scanCellsPerSecond = await cellsPerSecond(scanRows, scanPlan, 4, 10);
  const scanCoreCellsPerSecond = syncCellsPerSecond(scanRows, scanPlan, 4, 10);

  const targets = { rules: ruleCellsPerSecond >= 3_000_000, scan: scanCellsPerSecond >= 500_000, rss: stream.peakRssMb <= 300 };
  const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')} cells/s`;
  const lines = [
    '',
    'Masking (maskRows, one core)',
    '| measure | maskRows (async source) | row masker alone | target |',
    '|---|---|---|---|',
    `| column rules (8 columns: ssn/email/card/phone partial, names hashed, dob/salary generalized) | ${rate(ruleCellsPerSecond)} | ${rate(ruleCoreCellsPerSecond)} | ≥ 3,000,000 ${targets.rules ? 'met' : 'MISSED'} |`,
    `| full detector scan (10 realistic string columns, every detector) | ${rate(scanCellsPerSecond)} | ${rate(scanCoreCellsPerSecond)} | ≥ 500,000 ${targets.scan ? 'met' : 'MISSED'} |`,
    `| streaming ${stream.rows.toLocaleString('en-US')} rows × ${streamPlan.length} columns (6 rules, 4 scanned) from a generator | ${stream.seconds.toFixed(1)} s incl. generating the values, peak RSS ${stream.peakRssMb} MB (start ${stream.startRssMb} MB) | | ≤ 300 MB ${targets.rss ? 'met' : 'MISSED'} |`,
  ];
  return { ruleCellsPerSecond, scanCellsPerSecond, ruleCoreCellsPerSecond, scanCoreCellsPerSecond, stream, targets, report: lines };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchMasking({ log: (l) => process.stderr.write(`${l}\n`) }).then(
    (r) => process.stdout.write(`${r.report.join('\n')}\n`),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
