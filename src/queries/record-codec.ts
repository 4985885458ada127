/**
 * A query record as a Redis hash: `base` (the JSON of the fields fixed at
 * creation) plus one JSON field per mutable part, so a compare-and-set writes
 * whole fields and never re-encodes JSON inside Lua.
 */
import type { QueryRecord } from './types.ts';

// `approval` (votes, card) is decided by ApprovalStore and written through {@link QueryStore.update}.
export const MUTABLE = ['status', 'updatedAt', 'execution', 'error', 'approval'] as const;
type MutableField = (typeof MUTABLE)[number];
/** The fields a compare-and-set may write. */
export type RecordPatch = Partial<Pick<QueryRecord, MutableField>>;

/** The hash fields of a record. */
export function toHash(record: QueryRecord): Record<string, string> {
  const base: Partial<QueryRecord> = { ...record };
  const fields: Record<string, string> = {};
  for (const f of MUTABLE) {
    if (record[f] !== undefined) fields[f] = JSON.stringify(record[f]);
    delete base[f];
  }
  fields.base = JSON.stringify(base);
  return fields;
}

/** The record of a hash; undefined when the hash is not a whole record (missing or expired). */
export function fromHash(hash: Record<string, string>): QueryRecord | undefined {
  if (!hash.base || !hash.status) return undefined;
  const record = JSON.parse(hash.base) as QueryRecord;
  for (const f of MUTABLE) {
    const v = hash[f];
    if (v !== undefined) (record as unknown as Record<string, unknown>)[f] = JSON.parse(v);
  }
  return record;
}

/** HGETALL's flat `[field, value, …]` reply (as Lua returns it) as an object. */
export function pairs(flat: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
  return hash;
}
