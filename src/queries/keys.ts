/**
 * Redis key names of queries and their approvals, all under `{prefix}` (like
 * `audit/keys.ts` and BullMQ's `QueueKeys`): the one place that knows how a
 * query's record, result, idempotency claim, pending index, channels, claims
 * and modal bindings are named. Keys are internal; renaming one needs a
 * migration note in docs/deployment.md, since a deploy must read what the
 * previous version wrote.
 */
import { createHash } from 'node:crypto';

export interface QueryKeys {
  /** Hash: a query record (`base` JSON plus one JSON field per mutable part). */
  record(id: string): string;
  /** `SCAN` pattern matching every record key (and their `:rows` keys; ids never contain `:`). */
  recordPattern: string;
  /** List of result pages, each a JSON array of rows. */
  rows(id: string): string;
  /** Hash `{columns, rowCount}` of a stored result. */
  rowsMeta(id: string): string;
  /** String `id` claimed by an agent's idempotency key (hashed: the key is agent-chosen text). */
  idempotency(agentId: string, key: string): string;
  /** Sorted set of the ids in `pending_approval`, scored by creation time (ms). */
  pending: string;
  /**
   * Sorted set of accepted queries whose first steps after the create (enqueue,
   * or opening the review) are not confirmed yet, scored by creation time (ms);
   * the worker's reconciler finishes what a crash or an outage left undone.
   */
  intake: string;
  /**
   * The execute lane (`queue/execute-lane.ts`): a list of query ids ready to
   * run, pushed on the left and taken from the right (recovered and retried
   * ids go on the right, so they are taken next).
   */
  ready: string;
  /**
   * Sorted set id → lease expiry (ms, Redis time) of the queries a worker
   * runs now; the worker renews it while the statement runs, and a lapsed
   * lease means the worker died (the sweeper puts the id back in `ready`).
   */
  leases: string;
  /**
   * Sorted set id → "must have started by" (ms, Redis time): armed by every
   * enqueue and by a transient failure's backoff, removed by the start step;
   * the sweeper pushes what is due and not waiting in `ready`.
   */
  delayed: string;
  /** Pub/sub channel: "query X changed" (every compare-and-set publishes on it). */
  events: string;
  /**
   * Pub/sub channel: "query X reached a terminal status" — what long-polls wait
   * for. Always `events` + `:finished` (the compare-and-set script derives it so).
   */
  finished: string;
  /** Pub/sub channel: "cancel query X" (reaches whichever worker runs X). */
  cancel: string;
  /** Short exclusive claim on one step (`what`) of one query. */
  claim(id: string, what: string): string;
  /** Binding of a deny modal (Slack view id) to its query, card and user. */
  modal(viewId: string): string;
  /** String: the lock a Slack worker holds while it posts a query's card (`card`) or thread summary (`summary`). */
  slackLock(id: string, what: 'card' | 'summary'): string;
  /** String: the agent asked to cancel this running query; a worker taking it over from a dead one cancels instead of running it again. */
  cancelRequest(id: string): string;
}

/** The key names of an install whose keys start with `prefix`. */
export function queryKeys(prefix: string): QueryKeys {
  const record = (id: string) => `${prefix}:q:${id}`;
  return {
    record,
    recordPattern: `${record('')}*`,
    rows: (id) => `${record(id)}:rows`,
    rowsMeta: (id) => `${record(id)}:rows:meta`,
    idempotency: (agentId, key) => `${prefix}:idem:${createHash('sha256').update(`${agentId}\u0000${key}`).digest('hex')}`,
    pending: `${prefix}:queries:pending`,
    intake: `${prefix}:queries:intake`,
    ready: `${prefix}:exec:ready`,
    leases: `${prefix}:exec:leases`,
    delayed: `${prefix}:exec:delayed`,
    events: `${prefix}:query-events`,
    finished: `${prefix}:query-events:finished`,
    cancel: `${prefix}:query-cancel`,
    claim: (id, what) => `${prefix}:approval-claim:${what}:${id}`,
    modal: (viewId) => `${prefix}:approval-modal:${viewId}`,
    slackLock: (id, what) => `${prefix}:slack:${what}-lock:${id}`,
    cancelRequest: (id) => `${record(id)}:cancel`,
  };
}

/** Redis key of a query record (test helpers read the hash directly). */
export function queryRecordKey(prefix: string, id: string): string {
  return queryKeys(prefix).record(id);
}
