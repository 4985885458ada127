/**
 * The masking plan of one result: for each output column, the rule that masks
 * it (from the policy's sensitive catalog through column lineage) or none, in
 * which case value detectors scan its cells. Pure.
 *
 * - An output that is a sensitive column gets that type's strategy.
 * - An output derived from a sensitive column through an expression is
 *   redacted whole: a partial of a concatenation means nothing.
 * - `count(ssn)` reveals no value and gets no rule (detectors still scan).
 * - Unknown lineage: detectors decide.
 */
import type { CatalogLookup } from '../policy/engine.ts';
import type { Defaults } from '../policy/facts.ts';
import { alignLineage, selectLineage, type OutputLineage, type SelectLineage } from './lineage.ts';
import type { Masker, SensitiveType } from './strategies.ts';
import type { ColumnPlan, ColumnRule } from './transform.ts';

type PlannedRule = ColumnRule;

export interface PlanInput {
  sql: string;
  /** Result column names, in order, as the warehouse reported them. */
  columns: readonly string[];
  defaults: Defaults;
  /** Catalog lookups (policy engine's `catalogLookup`). */
  catalog: CatalogLookup;
  masker: Masker;
  /** `selectLineage(sql, defaults)` when the caller already has it (the worker caches it per statement text). */
  lineage?: SelectLineage;
}

const tableOf = (column: string): string => {
  // Names from lineage quote parts that hold dots; the last part is the column.
  const i = column.lastIndexOf('.');
  return i < 0 ? column : column.slice(0, i);
};

function typeOf(source: string, catalog: PlanInput['catalog']): SensitiveType | undefined {
  // `T.*`: a whole row used as a value (`TO_JSON(c)`) holds every column of T.
  if (source.endsWith('.*')) return (catalog.anyColumn(tableOf(source)) ?? catalog.table(tableOf(source))) as SensitiveType | undefined;
  return (catalog.column(source) ?? catalog.table(tableOf(source))) as SensitiveType | undefined;
}

function ruleFor(lineage: OutputLineage | undefined, input: PlanInput): PlannedRule | undefined {
  if (!lineage || lineage.kind === 'count' || lineage.kind === 'constant') return undefined;
  const hits = lineage.sources.map((s) => ({ source: s, type: typeOf(s, input.catalog) })).filter((h): h is { source: string; type: SensitiveType } => h.type !== undefined);
  if (hits.length === 0) return undefined;
  const first = hits[0]!;
  const types = new Set(hits.map((h) => h.type));
  if (lineage.kind === 'direct' && types.size === 1) {
    return { type: first.type, strategy: input.masker.strategyFor(first.type), source: first.source };
  }
  // An expression over sensitive data, or one output that may be one of several sensitive columns.
  const label = hits.map((h) => h.source).join(', ');
  return { type: first.type, strategy: 'redact', source: lineage.kind === 'direct' ? `one of ${label}` : `expression of ${label}` };
}

/** Plan the masking of a result of `sql`. */
export function planColumns(input: PlanInput): ColumnPlan[] {
  const aligned = alignLineage(input.lineage ?? selectLineage(input.sql, input.defaults), input.columns);
  return input.columns.map((name, index) => {
    const rule = ruleFor(aligned[index], input);
    return { index, name, ...(rule ? { rule } : {}), scan: true };
  });
}
