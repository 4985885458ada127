/**
 * The streaming masking transform: rows in, masked rows out, one at a time.
 * Columns with a rule (from lineage and the policy's `sensitive` catalog) get
 * their strategy; every other string or VARIANT cell is scanned by the
 * detectors. Nothing is buffered, so memory stays flat however many rows the
 * warehouse returns. Pure.
 */
import { MaskingReportBuilder, type ReportEntry } from './report.ts';
import { scanValue, type HitSink } from './scan.ts';
import { createMasker, type Masker, type MaskingConfig, type SensitiveType, type Strategy } from './strategies.ts';

/** Why an output column is masked as a whole. */
export interface ColumnRule {
  type: SensitiveType;
  strategy: Strategy;
  /** Where the rule came from: `ANALYTICS.PUBLIC.CUSTOMERS.SSN`, or `expression of ANALYTICS.PUBLIC.CUSTOMERS.SSN`. */
  source: string;
}

/** How to treat one output column. */
export interface ColumnPlan {
  /** Position in the row. */
  index: number;
  name: string;
  rule?: ColumnRule;
  /** Run the detectors over cells without a rule. False only for types that cannot hold text (see {@link scanByDefault}). */
  scan: boolean;
}

/** Options for {@link maskRows} and {@link createRowMasker}. */
export interface MaskRowsOptions {
  /** A compiled masker, or the config to compile one from. */
  masker: Masker | MaskingConfig;
  /** Receives counts as rows stream; read `build()` when done. */
  report?: MaskingReportBuilder;
}

/**
 * Whether the detectors should look at a column of this warehouse type by
 * default: text, semi-structured and exact numbers (a card number in a
 * NUMBER(16) column arrives as a number). Booleans, dates, times, floats and
 * binary cannot hold the values the detectors look for.
 */
export function scanByDefault(columnType: string): boolean {
  switch (columnType.toLowerCase()) {
    case 'boolean':
    case 'date':
    case 'time':
    case 'timestamp_ntz':
    case 'timestamp_ltz':
    case 'timestamp_tz':
    case 'real':
    case 'binary':
      return false;
    default:
      return true;
  }
}

interface Compiled {
  index: number;
  name: string;
  rule?: ColumnRule;
  /** The rule's strategy with type and strategy fixed (not for `detect`). */
  fn?: (value: unknown) => unknown;
  scan: boolean;
  /** Rule line of the report (cells counted as they are masked). */
  ruleEntry?: ReportEntry;
  /** Detector lines, by `detail|strategy`. */
  hits: Map<string, ReportEntry>;
}

const isMasker = (m: Masker | MaskingConfig): m is Masker => typeof (m as Masker).apply === 'function';

/** Masks one row at a time, synchronously; {@link maskRows} streams through one. */
export interface RowMasker {
  /** The masked row: `row` itself when nothing changed, else a copy (the input is never mutated). */
  mask(row: readonly unknown[]): unknown[];
  readonly report: MaskingReportBuilder;
}

/**
 * Compile a plan into a row masker. Cells at positions the plan does not list
 * are scanned (fail closed).
 */
export function createRowMasker(plan: readonly ColumnPlan[], opts: MaskRowsOptions): RowMasker {
  const masker = isMasker(opts.masker) ? opts.masker : createMasker(opts.masker);
  const report = opts.report ?? new MaskingReportBuilder();
  const byIndex: Compiled[] = [];
  for (const p of plan) {
    const c: Compiled = { index: p.index, name: p.name, scan: p.scan, hits: new Map() };
    if (p.rule) {
      c.rule = p.rule;
      if (p.rule.strategy !== 'detect') c.fn = masker.compile(p.rule.type, p.rule.strategy);
      c.ruleEntry = report.entry(p.index, p.name, 'rule', p.rule.source, p.rule.type, p.rule.strategy);
    }
    byIndex[p.index] = c;
  }
  const compiledFor = (i: number): Compiled => (byIndex[i] ??= { index: i, name: `#${i}`, scan: true, hits: new Map() });

  // One cell's detector hits, deduplicated: a cell counts once per (detail, strategy).
  let cellHits: string[] = [];
  let current: Compiled | undefined;
  const sink: HitSink = (detail, type, strategy) => {
    const key = `${detail}|${strategy}`;
    if (cellHits.includes(key)) return;
    cellHits.push(key);
    const c = current!;
    let e = c.hits.get(key);
    if (!e) {
      e = report.entry(c.index, c.name, 'detector', detail, type, strategy);
      c.hits.set(key, e);
    }
    e.cells++;
  };
  const scan = (c: Compiled, v: unknown, bareSsn: boolean): unknown => {
    current = c;
    if (cellHits.length > 0) cellHits = [];
    report.cellsScanned++;
    return scanValue(v, masker, sink, 0, bareSsn ? { bareSsn } : undefined);
  };

  const mask = (row: readonly unknown[]): unknown[] => {
    let out: unknown[] | undefined;
    const width = Math.max(row.length, byIndex.length);
    for (let i = 0; i < width; i++) {
      const v = row[i];
      if (v === null || v === undefined) continue;
      const c = byIndex[i] ?? compiledFor(i);
      let m: unknown;
      if (c.fn) {
        c.ruleEntry!.cells++;
        m = c.fn(v);
      } else if (c.rule) {
        // `detect`: the rule only says "look inside"; count the cell under the rule when something was masked.
        m = scan(c, v, c.rule.type === 'ssn');
        if (m !== v) c.ruleEntry!.cells++;
      } else if (c.scan) {
        m = scan(c, v, false);
      } else {
        continue;
      }
      if (m !== v) {
        out ??= row.slice();
        out[i] = m;
      }
    }
    report.rows++;
    return out ?? (row as unknown[]);
  };
  return { mask, report };
}

/**
 * Mask a row stream. Each output row is produced as soon as its input row
 * arrives (nothing is buffered); a row is copied only when one of its cells
 * changes, so the input array is never mutated. A plain iterator rather than an
 * async generator: one promise per row instead of a generator's queue, which
 * matters at millions of rows.
 */
export function maskRows(rows: AsyncIterable<unknown[]>, plan: readonly ColumnPlan[], opts: MaskRowsOptions): AsyncIterableIterator<unknown[]> {
  const { mask } = createRowMasker(plan, opts);
  let source: AsyncIterator<unknown[]> | undefined;
  const done: IteratorReturnResult<undefined> = { value: undefined, done: true };
  const iterator: AsyncIterableIterator<unknown[]> = {
    [Symbol.asyncIterator]: () => iterator,
    next: () => {
      source ??= rows[Symbol.asyncIterator]();
      const it = source;
      return it.next().then((r) => {
        if (r.done) return done;
        try {
          return { value: mask(r.value), done: false };
        } catch (err) {
          // A masking failure must not leave the warehouse stream (and its connection) open.
          void Promise.resolve(it.return?.()).catch(() => {});
          throw err;
        }
      });
    },
    return: async () => {
      await source?.return?.();
      return done;
    },
  };
  return iterator;
}
