/**
 * The masking report of one result: per output column, what masked it (a
 * column rule or a detector), with which strategy, and how many cells. It goes
 * into the API response, the session record and the Slack thread. It names
 * columns, sources and detectors, never values. Pure.
 */
import type { SensitiveType, Strategy } from './strategies.ts';

/** One (column, cause, strategy) line of the report. */
export interface MaskedColumn {
  /** Position of the output column. */
  index: number;
  name: string;
  reason: 'rule' | 'detector';
  /** For a rule, its source (`ANALYTICS.PUBLIC.CUSTOMERS.SSN`, `expression of …`); for a detector its kind (`email`, `card`) or `key:<type>` for a JSON key. */
  detail: string;
  type: SensitiveType;
  strategy: Strategy;
  /** Cells masked this way (a cell with three emails counts once). */
  cells: number;
}

/** The report of one result, as it goes into the API response (`masking`), the session record and the Slack thread. */
export interface MaskingReport {
  /** Lines with at least one cell, ordered by column, rules first. */
  columns: MaskedColumn[];
  /** Cells the detectors looked at. */
  cellsScanned: number;
  /** Rows that passed through. */
  rows: number;
}

/** A live counter for one report line; the transform increments `cells` directly. */
export interface ReportEntry {
  cells: number;
}

/** Accumulates a {@link MaskingReport} while rows stream; read it at any time. */
export class MaskingReportBuilder {
  cellsScanned = 0;
  rows = 0;
  private readonly entries = new Map<string, MaskedColumn>();

  /** The counter for one line (created at zero on first use). */
  entry(index: number, name: string, reason: 'rule' | 'detector', detail: string, type: SensitiveType, strategy: Strategy): ReportEntry {
    const key = `${index}\u0000${reason}\u0000${detail}\u0000${strategy}`;
    let e = this.entries.get(key);
    if (!e) {
      e = { index, name, reason, detail, type, strategy, cells: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  /** A snapshot: lines with cells, by column then rules before detectors then detail. */
  build(): MaskingReport {
    const columns = [...this.entries.values()]
      .filter((e) => e.cells > 0)
      .map((e) => ({ ...e }))
      .sort((a, b) => a.index - b.index || (a.reason === b.reason ? 0 : a.reason === 'rule' ? -1 : 1) || a.detail.localeCompare(b.detail));
    return { columns, cellsScanned: this.cellsScanned, rows: this.rows };
  }
}

/** One line per masked column for humans (Slack thread, CLI): `SSN: partial by rule ANALYTICS.PUBLIC.CUSTOMERS.SSN (1,204 cells)`. */
export function summarizeReport(report: MaskingReport): string[] {
  return report.columns.map(
    (c) => `${c.name}: ${c.strategy} by ${c.reason === 'rule' ? `rule ${c.detail}` : `detector ${c.detail}`} (${c.cells.toLocaleString('en-US')} cells)`,
  );
}
