/**
 * The approval state machine: pure functions from (status, approval state,
 * input, time) to the next status and state. No I/O here (STYLE habit 2): the
 * Redis store runs these functions inside an atomic compare-and-set, so the
 * rules of DESIGN §1 and §6 live in exactly one place and are unit-tested as a
 * table.
 *
 * Rules: one vote per Slack user; any single deny is final (with its reason);
 * `required` approvals from members of any of the listed approver groups
 * approve; nothing is decided after `expiresAt`; every vote binds to the
 * statement fingerprint; the agent's owner never votes.
 */
import { AirlockError } from '../errors.ts';
import { canonicalIdentity, type IdentityAliases } from './identity.ts';
import type { Decision } from '../policy/decision.ts';
import type { PolicyFile } from '../policy/schema.ts';
import type { ApprovalState, QueryStatus, Vote, VoteKind, Voter } from '../queries/types.ts';

/** Expiry when a decision carries none (the policy engine always sets one; this is the fallback). */
export const DEFAULT_APPROVAL_EXPIRY_SECONDS = 3600;

// The review's data lives on the query record (queries/types.ts); re-exported for the presenters and tests that read it from here.
export type { ApprovalState, Vote, VoteKind, Voter } from '../queries/types.ts';

/** What a vote did. Only `recorded`, `approved`, `rejected` and `expired` change anything. */
export type VoteOutcome =
  | 'recorded'
  | 'approved'
  | 'rejected'
  | 'duplicate'
  | 'not_pending'
  | 'expired'
  | 'fingerprint_mismatch'
  | 'ineligible'
  | 'owner'
  /** The voter's identity could not be established (no readable Slack email), or the token named no owner and the install refuses approval then. */
  | 'unverified'
  /** The click did not come from the card posted for this query (another channel or message, or a modal not opened from it). */
  | 'out_of_place'
  /** The session log does not hold the query's `received` event, so nobody may approve it. */
  | 'unaudited';

/** The statuses this machine writes. */
export type ApprovalStatus = Extract<QueryStatus, 'pending_approval' | 'approved' | 'rejected' | 'expired'>;

export interface VoteInput {
  voter: Voter;
  vote: VoteKind;
  reason?: string;
  /** The fingerprint the voter was shown. */
  fingerprint: string;
  now: Date;
}

export interface VoteResult<S extends string> {
  outcome: VoteOutcome;
  status: S | ApprovalStatus;
  state: ApprovalState;
}

/** The error a review ends with, in the shape of `QueryRecord.error`. */
export interface ApprovalError {
  code: 'APPROVAL_REJECTED' | 'APPROVAL_EXPIRED';
  message: string;
  details: Record<string, unknown>;
}

/**
 * The state a review starts in: no votes, expiring `expiresInSeconds` after
 * the query was created. `ownerless`: the token named no owner, so the owner
 * may be any approver; one more approval than the policy asks keeps the
 * policy's count of people who are not the owner (AIRLOCK_OWNERLESS_TOKENS).
 */
export function initialApproval(decision: Pick<Decision, 'approvals' | 'fingerprint'>, createdAt: Date, opts: { ownerless?: boolean } = {}): ApprovalState {
  const seconds = decision.approvals.expiresInSeconds ?? DEFAULT_APPROVAL_EXPIRY_SECONDS;
  return {
    // Fail closed: a review never approves itself with zero votes.
    required: Math.max(1, decision.approvals.required) + (opts.ownerless ? 1 : 0),
    groups: [...decision.approvals.groups],
    fingerprint: decision.fingerprint,
    expiresAt: new Date(createdAt.getTime() + seconds * 1000).toISOString(),
    votes: [],
  };
}

/** True once nobody may decide any more. */
export function isDue(state: Pick<ApprovalState, 'expiresAt'>, now: Date): boolean {
  return now.getTime() >= Date.parse(state.expiresAt);
}

/** Number of approve votes so far. */
export function approvalsSoFar(state: Pick<ApprovalState, 'votes'>): number {
  return state.votes.filter((v) => v.vote === 'approve').length;
}

/** A deny needs a reason: the agent reads it to fix its query. */
export function normalizeReason(vote: VoteKind, reason: string | undefined): string | undefined {
  const trimmed = reason?.trim();
  if (vote === 'deny' && !trimmed) {
    throw new AirlockError('VALIDATION_FAILED', 'A deny needs a reason; the agent reads it to fix its query.');
  }
  return trimmed ? trimmed : undefined;
}

/**
 * Apply one vote. Unchanged `state` (same object) and `status` mean nothing
 * is to be written. Throws VALIDATION_FAILED for a deny without a reason.
 * Eligibility is checked before (see {@link eligibility}): it needs directory
 * lookups that do not belong inside the atomic step.
 */
export function applyVote<S extends string>(status: S, state: ApprovalState, input: VoteInput): VoteResult<S> {
  const reason = normalizeReason(input.vote, input.reason);
  const same = (outcome: VoteOutcome): VoteResult<S> => ({ outcome, status, state });
  if (status !== 'pending_approval') return same('not_pending');
  if (isDue(state, input.now)) return { outcome: 'expired', status: 'expired', state };
  // What was approved is exactly what runs: a vote on another statement text counts for nothing.
  if (input.fingerprint !== state.fingerprint) return same('fingerprint_mismatch');
  // One vote per person: per Slack account, and per identity (a second account with an aliased email is the same person).
  const identity = input.voter.identity;
  if (state.votes.some((v) => v.voter.slackUserId === input.voter.slackUserId || (identity !== undefined && v.voter.identity === identity))) {
    return same('duplicate');
  }
  const vote: Vote = {
    voter: { ...input.voter },
    vote: input.vote,
    ...(reason !== undefined ? { reason } : {}),
    at: input.now.toISOString(),
  };
  const next: ApprovalState = { ...state, votes: [...state.votes, vote] };
  if (input.vote === 'deny') return { outcome: 'rejected', status: 'rejected', state: next };
  if (approvalsSoFar(next) >= state.required) return { outcome: 'approved', status: 'approved', state: next };
  return { outcome: 'recorded', status, state: next };
}

/** The `error` a rejected or expired review carries (the agent reads it); undefined for other statuses. */
export function approvalError(status: string, state: ApprovalState): ApprovalError | undefined {
  if (status === 'rejected') {
    const deny = state.votes.find((v) => v.vote === 'deny');
    const who = deny?.voter.name ?? deny?.voter.slackUserId ?? 'an approver';
    return {
      code: 'APPROVAL_REJECTED',
      message: `Rejected by ${who}: ${deny?.reason ?? 'no reason given'}`,
      details: {
        reason: deny?.reason,
        by: deny?.voter.slackUserId,
        ...(deny?.voter.name !== undefined ? { name: deny.voter.name } : {}),
        at: deny?.at,
      },
    };
  }
  if (status === 'expired') {
    return {
      code: 'APPROVAL_EXPIRED',
      message: `Nobody approved the query before ${state.expiresAt} (${approvalsSoFar(state)} of ${state.required} approvals).`,
      details: { expiresAt: state.expiresAt, approvals: approvalsSoFar(state), required: state.required },
    };
  }
  return undefined;
}

export interface EligibilityInput {
  /** The voter's Slack user id. */
  voter: string;
  /** Slack user group ids the voter belongs to (only those configured matter). */
  voterGroups: readonly string[];
  /** Approver groups of the request ({@link ApprovalState.groups}). */
  groups: readonly string[];
  approvers: PolicyFile['approvers'];
  /** The voter's email from Slack (`users.info`); undefined when it could not be read. */
  voterEmail?: string;
  /** The owner claim of the agent's token; undefined when the token named no owner. */
  ownerEmail?: string;
  /** Address aliases (AIRLOCK_IDENTITY_ALIASES). */
  aliases?: IdentityAliases;
  /** What a token without an owner claim means for votes (AIRLOCK_OWNERLESS_TOKENS). */
  ownerless?: 'extra_approver' | 'refuse_approval' | 'refuse_token';
}

export type Eligibility =
  | { eligible: true; identity: string }
  | { eligible: false; outcome: 'ineligible' | 'owner' | 'unverified'; message: string };

/**
 * May this Slack user vote on this request? Fails closed: no groups, or groups
 * with no members, mean nobody may. Then separation of duties: the voter's
 * Slack email must be known (otherwise Airlock cannot prove the voter is not
 * the owner), and its canonical identity must differ from the owner claim's.
 * The owner is refused even when listed; the check covers both kinds of vote,
 * so an owner withdraws a request by having the agent cancel it.
 */
export function eligibility(input: EligibilityInput): Eligibility {
  const { voter, groups, approvers } = input;
  if (groups.length === 0) {
    return {
      eligible: false,
      outcome: 'ineligible',
      message:
        'Nobody can approve this query: the policy names no approver group for it. ' +
        "Define the group in the policy's `approvers` section and list it under the rule's `approvals.from` (or `defaults.approvals.from`).",
    };
  }
  const users = new Set<string>();
  const usergroups = new Set<string>();
  for (const g of groups) {
    for (const u of approvers[g]?.slack_users ?? []) users.add(u);
    for (const s of approvers[g]?.slack_usergroups ?? []) usergroups.add(s);
  }
  const names = groups.join(', ');
  if (users.size === 0 && usergroups.size === 0) {
    return {
      eligible: false,
      outcome: 'ineligible',
      message: `Nobody can approve this query: the policy's \`approvers\` section lists no Slack users or user groups for ${names}.`,
    };
  }
  if (!users.has(voter) && !input.voterGroups.some((s) => usergroups.has(s))) {
    return { eligible: false, outcome: 'ineligible', message: `You are not an approver for this query; it needs approval from: ${names}.` };
  }
  const identity = canonicalIdentity(input.voterEmail, input.aliases);
  if (identity === undefined) {
    return {
      eligible: false,
      outcome: 'unverified',
      message:
        "Airlock could not read your email address from Slack, so it cannot prove that you are not the agent's owner; no vote was recorded. " +
        'Ask your Slack admin to make sure your profile has an email and that the Airlock app has the users:read.email scope.',
    };
  }
  const owner = canonicalIdentity(input.ownerEmail, input.aliases);
  if (owner === undefined) {
    // No owner claim, or one that is not an email address: the owner could be anyone, this voter included.
    if (input.ownerless === 'refuse_approval' || input.ownerless === 'refuse_token') {
      return {
        eligible: false,
        outcome: 'unverified',
        message:
          "The agent's token names no owner email, so Airlock cannot tell whether you own the agent, and this install refuses approval then " +
          '(AIRLOCK_OWNERLESS_TOKENS). Have the agent use a token with an owner claim.',
      };
    }
    return { eligible: true, identity };
  }
  if (owner === identity) {
    return {
      eligible: false,
      outcome: 'owner',
      message: "You own the agent that sent this query, so you cannot vote on it (separation of duties). Another approver has to decide.",
    };
  }
  return { eligible: true, identity };
}

/** True when the voter must be looked up in Slack user groups to decide eligibility. */
export function needsUsergroups(voter: string, groups: readonly string[], approvers: PolicyFile['approvers']): boolean {
  let any = false;
  for (const g of groups) {
    if (approvers[g]?.slack_users.includes(voter)) return false;
    if ((approvers[g]?.slack_usergroups.length ?? 0) > 0) any = true;
  }
  return any;
}
