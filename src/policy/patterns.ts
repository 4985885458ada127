/**
 * Name patterns (`DB.SCHEMA.TABLE[.COLUMN]` with `*` in any part) compiled to
 * matchers, and the sensitive catalog compiled from them. Pure.
 *
 * Names are compared upper-cased (see names.ts): over-matching fails closed.
 */
import { joinName, splitName } from './names.ts';
import { patternParts, type ParsedPolicy } from './schema.ts';

/** Whether one name part matches one pattern part. */
export type PartMatcher = (name: string) => boolean;

/** The matcher for one pattern part: `*`, a `"quoted"` part, or a part with `*` wildcards. */
export function partMatcher(part: string): PartMatcher {
  if (part === '*') return () => true;
  const text = part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part;
  // Names are compared upper-cased (see names.ts): over-matching fails closed.
  const upper = text.toUpperCase();
  if (!upper.includes('*')) return (name) => name === upper;
  const re = new RegExp(`^${upper.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (name) => re.test(name);
}

/** A compiled `DB.SCHEMA.TABLE[.COLUMN]` pattern; `concreteTable` when the TABLE part has no wildcard. */
export interface NamePattern {
  source: string;
  parts: PartMatcher[];
  concreteTable: boolean;
}

/** Compile a `DB.SCHEMA.TABLE[.COLUMN]` pattern (validated by schema.ts). */
export function compilePattern(p: string): NamePattern {
  const parts = patternParts(p);
  return { source: p, parts: parts.map(partMatcher), concreteTable: parts[2] !== undefined && !parts[2].includes('*') };
}

/** Resolved names quote parts that hold dots (`ANALYTICS.PUBLIC."A.B C".SSN`), so they split back exactly. */
export const matchesName = (pattern: NamePattern, name: string): boolean => matchesParts(pattern, splitName(name));

/** {@link matchesName} on a name already split (one split serves every pattern it is tried against). */
const matchesParts = (pattern: NamePattern, parts: readonly string[]): boolean =>
  parts.length === pattern.parts.length && pattern.parts.every((m, i) => m(parts[i]!));

/** The `DB.SCHEMA.TABLE` part of a column pattern. */
export const tableOfColumnPattern = (p: NamePattern) => ({ ...p, parts: p.parts.slice(0, 3) });

/** One compiled entry of the policy's sensitive catalog. */
export interface CompiledSensitive {
  pattern: NamePattern;
  type: string;
  level: 'column' | 'table';
  /** The COLUMN part as a name part (for `*` and token matches), when it has no wildcard. */
  columnPart?: string;
}

function columnPartOf(pattern: string): { columnPart?: string } {
  const last = patternParts(pattern)[3];
  if (!last || last.includes('*')) return {};
  const name = last.startsWith('"') ? last.slice(1, -1).replace(/""/g, '"') : last;
  return { columnPart: joinName([name]) };
}

/**
 * The sensitive catalog as lookups, for result masking: the type of a resolved
 * column (DATABASE.SCHEMA.TABLE.COLUMN) or of a table, first matching entry wins.
 */
export interface CatalogLookup {
  /** The type of a resolved column, DATABASE.SCHEMA.TABLE.COLUMN. */
  column(name: string): string | undefined;
  /** The type of a sensitive table, DATABASE.SCHEMA.TABLE. */
  table(name: string): string | undefined;
  /** The type of the first catalogued column the table may have (a pattern with a wildcard table counts). */
  anyColumn(table: string): string | undefined;
}

/** The sensitive catalog as lookups (result masking). */
export function catalogLookup(sensitive: ParsedPolicy['file']['sensitive']): CatalogLookup {
  const entries = compileCatalog(sensitive);
  const columns = entries.filter((e) => e.level === 'column');
  const tables = entries.filter((e) => e.level === 'table');
  const columnTables = columns.map((e) => ({ pattern: tableOfColumnPattern(e.pattern), type: e.type }));
  // The name is split once per lookup, not once per catalog entry (every result's masking plan looks up each output column).
  const first = (list: ReadonlyArray<{ pattern: NamePattern; type: string }>, name: string): string | undefined => {
    const parts = splitName(name);
    return list.find((e) => matchesParts(e.pattern, parts))?.type;
  };
  return {
    column: (name) => first(columns, name),
    table: (name) => first(tables, name),
    anyColumn: (table) => first(columnTables, table),
  };
}

/** The policy's sensitive catalog, compiled, in the file's order (first match wins). */
export function compileCatalog(sensitive: ParsedPolicy['file']['sensitive']): CompiledSensitive[] {
  return sensitive.map((s) =>
    'column' in s
      ? { pattern: compilePattern(s.column), type: s.type, level: 'column' as const, ...columnPartOf(s.column) }
      : { pattern: compilePattern(s.table), type: s.type, level: 'table' as const },
  );
}
