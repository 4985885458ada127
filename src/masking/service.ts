/**
 * Result masking as the worker uses it: plan a result's columns from the SQL's
 * lineage and the policy's sensitive catalog, then mask rows as they stream.
 * Pure: the catalog, defaults and masker come in compiled.
 */
import type { CatalogLookup } from '../policy/engine.ts';
import type { Defaults } from '../policy/facts.ts';
import { selectLineage, type SelectLineage } from './lineage.ts';
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

/** Statements whose lineage is kept, and the longest one kept (agents repeat short reads; a long one is parsed each time). */
const LINEAGE_CACHE_ENTRIES = 1000;
const LINEAGE_CACHE_MAX_SQL = 4096;

/**
 * The lineage of a statement depends only on its text and the defaults, so it
 * is parsed once per text (node-sql-parser costs ~0.5–1 ms a statement; the
 * policy engine caches its decisions the same way). Bounded: at most
 * {@link LINEAGE_CACHE_ENTRIES} texts of at most {@link LINEAGE_CACHE_MAX_SQL}
 * characters, oldest dropped first. Entries are never mutated (alignLineage
 * only reads them).
 */
function lineageCache(defaults: Defaults): (sql: string) => SelectLineage {
  const cache = new Map<string, SelectLineage>();
  return (sql) => {
    const hit = cache.get(sql);
    if (hit) return hit;
    const lineage = selectLineage(sql, defaults);
    if (sql.length <= LINEAGE_CACHE_MAX_SQL) {
      if (cache.size >= LINEAGE_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(sql, lineage);
    }
    return lineage;
  };
}

export function createResultMasker(input: {
  defaults: Defaults;
  catalog: CatalogLookup;
  config: MaskingConfig;
  /**
   * The lineage of a large statement traced elsewhere (the worker's analysis
   * threads), or undefined to trace it here. Its rejection falls back to
   * tracing here: the same plan, never a looser one.
   */
  offloadLineage?: (sql: string) => Promise<SelectLineage> | undefined;
}): ResultMasker {
  const lineageOf = lineageCache(input.defaults);
  return {
    begin(sql, columns, rows) {
      // One masker per result: its token cache holds values only for the life of this job.
      const masker = createMasker(input.config);
      const report = new MaskingReportBuilder();
      const planWith = (lineage: SelectLineage) => planColumns({ sql, columns, defaults: input.defaults, catalog: input.catalog, masker, lineage });
      const remote = input.offloadLineage?.(sql);
      if (!remote) return { rows: maskRows(rows, planWith(lineageOf(sql)), { masker, report }), report: () => report.build() };
      // The plan waits for the lineage; no row leaves before it is planned.
      async function* planned(): AsyncIterable<unknown[]> {
        const lineage = await remote!.catch(() => lineageOf(sql));
        yield* maskRows(rows, planWith(lineage), { masker, report });
      }
      return { rows: planned(), report: () => report.build() };
    },
    text: (message) => maskText(message, createMasker(input.config)),
  };
}
