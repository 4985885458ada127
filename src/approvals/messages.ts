/** What a clicker reads (ephemeral) after a vote, one sentence per outcome. */
import type { QueryRecord } from '../queries/types.ts';
import { approvalsSoFar, type VoteOutcome } from './machine.ts';
import { approvalOf } from './store.ts';

/** The ephemeral sentence for an outcome (refusals carry their own from {@link eligibility}). */
export function messageFor(outcome: VoteOutcome, record: QueryRecord): string {
  const state = approvalOf(record);
  const count = `${approvalsSoFar(state)} of ${state.required}`;
  switch (outcome) {
    case 'recorded':
      return `Your approval is recorded: ${count} approvals so far.`;
    case 'approved':
      return `Your approval completed the quorum (${count}); the query is ${record.status === 'queued' ? 'queued to run' : record.status}.`;
    case 'rejected':
      return 'You rejected the query; the agent sees your reason.';
    case 'duplicate':
      return 'You already voted on this query; each person votes once.';
    case 'not_pending':
      return `This query is no longer waiting for approval: it is ${record.status.replace('_', ' ')}.`;
    case 'expired':
      return `This request expired at ${state.expiresAt} before enough approvals (${count}); nothing was recorded.`;
    case 'fingerprint_mismatch':
      return 'The statement you saw is not the one waiting for approval (its fingerprint differs); nothing was recorded. Reload the card.';
    case 'owner':
      return "You own the agent that sent this query, so you cannot vote on it (separation of duties).";
    case 'ineligible':
      return `You are not an approver for this query; it needs approval from: ${state.groups.join(', ') || 'nobody (the policy names no approvers)'}.`;
    case 'unverified':
      return "Airlock could not establish who you are or who owns the agent, so it cannot rule out self-approval; no vote was recorded.";
    case 'out_of_place':
      return "This click did not come from the query's approval card, so it was not counted.";
    case 'unaudited':
      return 'The audit log does not hold this request, so nobody can approve it; no vote was recorded.';
  }
}
