/** Redis key names of the audit log, all under `{prefix}:audit`. */

export interface AuditKeys {
  /** The global append-only stream (one hash chain). */
  stream: string;
  /** Hash `{seq, hash}` of the newest event: what the next append must chain to. */
  head: string;
  /** Hash `{seq, hash}` of the newest event trimmed away; Redis's chain starts right after it. */
  anchor: string;
  /** Hash: export checkpoint `{lastId, lastSeq, lastHash}`, advanced only after a manifest is written. */
  checkpoint: string;
  /** Export lock, so two replicas never export at once. */
  exportLock: string;
  /** Sorted set of every session by start time (ms). */
  all: string;
  /** List of a session's stream ids, in order. */
  session(id: string): string;
  /** Hash summarising a session (agent, owner, status, start, index terms). */
  summary(id: string): string;
  /** Sorted set of sessions for a search term (`agent:x`, `obj:CUSTOMERS.SSN`…), scored by start time. */
  term(term: string): string;
}

export function auditKeys(prefix: string): AuditKeys {
  const base = `${prefix}:audit`;
  return {
    stream: base,
    head: `${base}:head`,
    anchor: `${base}:anchor`,
    checkpoint: `${base}:export`,
    exportLock: `${base}:export:lock`,
    all: `${base}:ix:all`,
    session: (id) => `${base}:s:${id}`,
    summary: (id) => `${base}:sess:${id}`,
    term: (term) => `${base}:ix:${term}`,
  };
}
