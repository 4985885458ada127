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
export const matchesName = (pattern: NamePattern, name: string): boolean => {
  const parts = splitName(name);
  return parts.length === pattern.parts.length && pattern.parts.every((m, i) => m(parts[i]!));
};

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
  return {
    column: (name) => entries.find((e) => e.level === 'column' && matchesName(e.pattern, name))?.type,
    table: (name) => entries.find((e) => e.level === 'table' && matchesName(e.pattern, name))?.type,
    anyColumn: (table) => entries.find((e) => e.level === 'column' && matchesName(tableOfColumnPattern(e.pattern), table))?.type,
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
