/**
 * Result masking as the worker uses it: plan a result's columns from the SQL's
 * lineage and the policy's sensitive catalog, then mask rows as they stream.
 * Pure: the catalog, defaults and masker come in compiled.
 */
import type { CatalogLookup } from '../policy/engine.ts';
import type { Defaults } from '../policy/facts.ts';
import { planColumns } from './plan.ts';
import { MaskingReportBuilder, type MaskingReport } from './report.ts';
import { maskText } from './scan.ts';
import { createMasker, type MaskingConfig } from './strategies.ts';
import { maskRows } from './transform.ts';

export interface ResultMasking {
  rows: AsyncIterable<unknown[]>;
  /** Counts so far; complete once `rows` is drained. */
  report(): MaskingReport;
}

/** The port the worker holds: mask a result, mask a message. */
export interface ResultMasker {
  begin(sql: string, columns: readonly string[], rows: AsyncIterable<unknown[]>): ResultMasking;
  /** Run the detectors over text that may echo values (warehouse error messages). */
  text(message: string): string;
}

export function createResultMasker(input: {
  defaults: Defaults;
  catalog: CatalogLookup;
  config: MaskingConfig;
}): ResultMasker {
  return {
    begin(sql, columns, rows) {
      // One masker per result: its token cache holds values only for the life of this job.
      const masker = createMasker(input.config);
      const plan = planColumns({ sql, columns, defaults: input.defaults, catalog: input.catalog, masker });
      const report = new MaskingReportBuilder();
      return { rows: maskRows(rows, plan, { masker, report }), report: () => report.build() };
    },
    text: (message) => maskText(message, createMasker(input.config)),
  };
}
