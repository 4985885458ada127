/** Query records for tests that write through the real QueryStore. */
import { randomUUID } from 'node:crypto';
import type { Decision } from '../../src/policy/decision.ts';
import type { QueryRecord, Requester } from '../../src/queries/types.ts';

/** An allow decision for one complete SELECT. */
export const ALLOWED_SELECT: Decision = {
  action: 'allow',
  risk: 'low',
  reasons: [],
  approvals: { required: 0, groups: [] },
  statements: [{ kind: 'select', tables: [], columns: [], complete: true }],
  fingerprint: 'f'.repeat(64),
  complete: true,
};

/** A queued, allowed `select 1` of `requester`, with a fresh id. */
export function queuedRead(requester: Requester, overrides: Partial<QueryRecord> = {}): QueryRecord {
  const now = new Date().toISOString();
  return { id: randomUUID(), status: 'queued', sql: 'select 1', requester, decision: ALLOWED_SELECT, createdAt: now, updatedAt: now, readOnly: true, ...overrides };
}
