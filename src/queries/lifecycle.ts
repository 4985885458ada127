/**
 * Every status a query may move between (DESIGN §1), as one table. The store's
 * compare-and-set refuses anything else, so a new transition is added here,
 * with its reason, or not at all. docs/api.md's status and transition tables
 * are checked against this file by test/queries/lifecycle.test.ts.
 */
import { AirlockError } from '../errors.ts';
import type { QueryStatus } from './types.ts';

/** One allowed status change and who makes it. */
export interface Transition {
  from: QueryStatus;
  to: QueryStatus;
  /** Who makes it, and when. */
  why: string;
}

/** The statuses a record may be created in: what the policy decided. */
export const INITIAL_STATUSES: ReadonlySet<QueryStatus> = new Set<QueryStatus>(['pending_approval', 'queued', 'denied']);

/** Every allowed transition; a patch that keeps the status (votes, the card, a re-run read's bookkeeping) is not a transition. */
export const TRANSITIONS: readonly Transition[] = [
  { from: 'pending_approval', to: 'approved', why: 'the quorum of approvals was reached' },
  { from: 'pending_approval', to: 'rejected', why: 'an approver denied it' },
  { from: 'pending_approval', to: 'expired', why: 'nobody decided before expiresAt' },
  { from: 'pending_approval', to: 'cancelled', why: 'the agent withdrew it' },
  { from: 'pending_approval', to: 'failed', why: 'a create the agent was told failed (503 STORE_UNAVAILABLE) had landed after all; it is never approvable' },
  { from: 'approved', to: 'queued', why: 'the approval is in the session log; released to the execute queue' },
  { from: 'approved', to: 'cancelled', why: 'the agent withdrew it' },
  { from: 'queued', to: 'running', why: 'a worker took the job' },
  { from: 'queued', to: 'cancelled', why: 'the agent withdrew it' },
  { from: 'queued', to: 'failed', why: 'a create the agent was told failed (503) had landed after all, or the job could not be enqueued within the reconciler\'s window' },
  { from: 'running', to: 'succeeded', why: 'the result is stored' },
  { from: 'running', to: 'failed', why: 'the warehouse or Airlock reported an error, or the session log refused `execution_started`' },
  { from: 'running', to: 'cancelled', why: 'cancelled while it ran (the agent, or a shutdown cutting a write short)' },
  { from: 'running', to: 'queued', why: 'a read hit a transient error; it is retried' },
  { from: 'running', to: 'outcome_unknown', why: 'a worker died while a write ran; never re-run' },
  { from: 'denied', to: 'failed', why: 'a create the agent was told failed (503 STORE_UNAVAILABLE) had landed after all: the agent got 503, not 403' },
];

const allowed = new Set(TRANSITIONS.map((t) => `${t.from}>${t.to}`));

/** True when the table allows `from → to`. */
export function canTransition(from: QueryStatus, to: QueryStatus): boolean {
  return allowed.has(`${from}>${to}`);
}

/**
 * Throw unless every `from → to` is in the table. A refusal is a bug in the
 * caller, not a race (a race is STATE_CONFLICT from the store), hence INTERNAL.
 */
export function assertTransitions(from: readonly QueryStatus[], to: QueryStatus): void {
  // Writing the status a record already has is not a transition.
  const refused = from.filter((f) => f !== to && !canTransition(f, to));
  if (refused.length > 0) {
    throw new AirlockError('INTERNAL', `The query lifecycle does not allow ${refused.map((f) => `${f} → ${to}`).join(', ')}.`, { details: { from: refused, to } });
  }
}

/** Throw unless a record may be created in `status`. */
export function assertInitial(status: QueryStatus): void {
  if (!INITIAL_STATUSES.has(status)) throw new AirlockError('INTERNAL', `A query cannot be created as ${status}.`, { details: { status } });
}
