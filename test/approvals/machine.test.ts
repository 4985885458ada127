/**
 * The pure approval machine, as tables: every rule of DESIGN §1/§6 maps to an
 * exact outcome, status and vote list.
 */
import { describe, expect, it } from 'vitest';
import {
  applyVote,
  approvalError,
  eligibility,
  initialApproval,
  needsUsergroups,
  type ApprovalState,
  type Vote,
  type VoteKind,
} from '../../src/approvals/machine.ts';
import { AirlockError } from '../../src/errors.ts';
import type { QueryStatus } from '../../src/queries/types.ts';
import { APPROVERS, FINGERPRINT, OWNER, voter } from './fixtures.ts';

const created = new Date('2030-01-01T00:00:00.000Z');
const during = new Date('2030-01-01T00:10:00.000Z');
const expiry = new Date('2030-01-01T01:00:00.000Z');

function state(required: number, votes: Vote[] = []): ApprovalState {
  return { ...initialApproval({ approvals: { required, groups: ['data-owners'], expiresInSeconds: 3600 }, fingerprint: FINGERPRINT }, created), votes };
}

const approveBy = (n: number): Vote => ({ voter: voter(n), vote: 'approve', at: created.toISOString() });

describe('initialApproval', () => {
  it('starts with no votes and expires expiresInSeconds after creation', () => {
    expect(state(2)).toEqual({ required: 2, groups: ['data-owners'], fingerprint: FINGERPRINT, expiresAt: expiry.toISOString(), votes: [] });
  });

  it('defaults to one hour and never requires fewer than one approval', () => {
    const s = initialApproval({ approvals: { required: 0, groups: [] }, fingerprint: FINGERPRINT }, created);
    expect(s.required).toBe(1);
    expect(s.expiresAt).toBe(expiry.toISOString());
  });
});

describe('applyVote', () => {
  const cases: Array<{
    name: string;
    status?: QueryStatus;
    state: ApprovalState;
    vote?: VoteKind;
    by?: number;
    reason?: string;
    fingerprint?: string;
    now?: Date;
    outcome: string;
    next: QueryStatus;
    votes: number;
  }> = [
    { name: 'quorum 1: one approval approves', state: state(1), outcome: 'approved', next: 'approved', votes: 1 },
    { name: 'quorum 2: first approval is recorded', state: state(2), outcome: 'recorded', next: 'pending_approval', votes: 1 },
    { name: 'quorum 2: second approval approves', state: state(2, [approveBy(3)]), outcome: 'approved', next: 'approved', votes: 2 },
    { name: 'a deny is final, even after approvals', state: state(3, [approveBy(3), approveBy(4)]), vote: 'deny', reason: 'not on prod', outcome: 'rejected', next: 'rejected', votes: 3 },
    { name: 'a second approve by the same user is a duplicate', state: state(2, [approveBy(2)]), outcome: 'duplicate', next: 'pending_approval', votes: 1 },
    { name: 'a deny after an approve by the same user is a duplicate', state: state(2, [approveBy(2)]), vote: 'deny', reason: 'changed my mind', outcome: 'duplicate', next: 'pending_approval', votes: 1 },
    { name: 'a vote at expiresAt expires the request', state: state(2), now: expiry, outcome: 'expired', next: 'expired', votes: 0 },
    { name: 'a vote on another fingerprint counts for nothing', state: state(1), fingerprint: 'b'.repeat(64), outcome: 'fingerprint_mismatch', next: 'pending_approval', votes: 0 },
    { name: 'a vote after cancel is not_pending', status: 'cancelled', state: state(1), outcome: 'not_pending', next: 'cancelled', votes: 0 },
    { name: 'a vote after approval is not_pending', status: 'queued', state: state(1, [approveBy(3)]), outcome: 'not_pending', next: 'queued', votes: 1 },
    { name: 'a vote on an expired request is not_pending', status: 'expired', state: state(1), now: expiry, outcome: 'not_pending', next: 'expired', votes: 0 },
  ];

  it.each(cases)('$name', (c) => {
    const before = c.state;
    const r = applyVote(c.status ?? 'pending_approval', before, {
      voter: voter(c.by ?? 2),
      vote: c.vote ?? 'approve',
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
      fingerprint: c.fingerprint ?? FINGERPRINT,
      now: c.now ?? during,
    });
    expect(r.outcome).toBe(c.outcome);
    expect(r.status).toBe(c.next);
    expect(r.state.votes).toHaveLength(c.votes);
    // Outcomes that change nothing hand back the very same state (the store writes nothing then).
    if (['duplicate', 'not_pending', 'fingerprint_mismatch', 'expired'].includes(c.outcome)) expect(r.state).toBe(before);
    else expect(r.state).not.toBe(before);
  });

  it('records who voted, how, when and why', () => {
    const r = applyVote('pending_approval', state(2), { voter: voter(7), vote: 'deny', reason: '  drops prod data ', fingerprint: FINGERPRINT, now: during });
    expect(r.state.votes).toEqual([{ voter: voter(7), vote: 'deny', reason: 'drops prod data', at: during.toISOString() }]);
    expect(approvalError(r.status, r.state)).toEqual({
      code: 'APPROVAL_REJECTED',
      message: 'Rejected by user7: drops prod data',
      details: { reason: 'drops prod data', by: 'U007', name: 'user7', at: during.toISOString() },
    });
  });

  it.each([undefined, '', '   '])('refuses a deny with reason %j (VALIDATION_FAILED)', (reason) => {
    try {
      applyVote('pending_approval', state(1), { voter: voter(2), vote: 'deny', ...(reason !== undefined ? { reason } : {}), fingerprint: FINGERPRINT, now: during });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AirlockError);
      expect((err as AirlockError).code).toBe('VALIDATION_FAILED');
    }
  });

  it('says how far an expired request got', () => {
    expect(approvalError('expired', state(2, [approveBy(3)]))).toEqual({
      code: 'APPROVAL_EXPIRED',
      message: `Nobody approved the query before ${expiry.toISOString()} (1 of 2 approvals).`,
      details: { expiresAt: expiry.toISOString(), approvals: 1, required: 2 },
    });
    expect(approvalError('approved', state(1))).toBeUndefined();
  });
});

describe('eligibility', () => {
  const base = { voterGroups: [] as string[], groups: ['data-owners'], approvers: APPROVERS, voterEmail: 'voter@example.com', ownerEmail: OWNER.email! };
  const cases: Array<{ name: string; input: Partial<Parameters<typeof eligibility>[0]> & { voter: string }; expected: 'eligible' | 'ineligible' | 'owner' | 'unverified'; says?: RegExp }> = [
    { name: 'a listed Slack user', input: { voter: 'U002' }, expected: 'eligible' },
    { name: 'a member of a listed user group', input: { voter: 'U999', voterGroups: ['SOTHER', 'SDATA'] }, expected: 'eligible' },
    { name: 'a user in neither', input: { voter: 'U999', voterGroups: ['SOTHER'] }, expected: 'ineligible', says: /needs approval from: data-owners/ },
    { name: 'the owner, even though listed', input: { voter: OWNER.slackUserId, voterEmail: OWNER.email! }, expected: 'owner', says: /separation of duties/ },
    { name: 'the owner, through a user group', input: { voter: 'U999', voterGroups: ['SDATA'], voterEmail: OWNER.email! }, expected: 'owner' },
    { name: 'the owner, by a plus-tagged owner claim', input: { voter: 'U002', voterEmail: 'user1@example.com', ownerEmail: 'User1+agent@Example.COM' }, expected: 'owner' },
    { name: 'a listed user whose Slack email cannot be read', input: { voter: 'U002', voterEmail: undefined }, expected: 'unverified', says: /cannot prove/ },
    { name: 'an ownerless token, by default', input: { voter: 'U002', ownerEmail: undefined }, expected: 'eligible' },
    { name: 'an ownerless token, refuse_approval', input: { voter: 'U002', ownerEmail: undefined, ownerless: 'refuse_approval' }, expected: 'unverified', says: /names no owner/ },
    { name: 'an owner claim that is no address, refuse_approval', input: { voter: 'U002', ownerEmail: 'bob', ownerless: 'refuse_approval' }, expected: 'unverified' },
    { name: 'anyone, when the policy names no groups', input: { voter: 'U002', groups: [] }, expected: 'ineligible', says: /`approvers` section/ },
    { name: 'anyone, when the groups have no members', input: { voter: 'U002', groups: ['nobody'] }, expected: 'ineligible', says: /`approvers` section lists no Slack users/ },
    { name: 'anyone, when the group is not configured', input: { voter: 'U002', groups: ['ghosts'] }, expected: 'ineligible', says: /`approvers` section/ },
  ];

  it.each(cases)('$name → $expected', (c) => {
    const r = eligibility({ ...base, ...c.input });
    if (c.expected === 'eligible') {
      expect(r).toMatchObject({ eligible: true });
      return;
    }
    expect(r.eligible).toBe(false);
    if (r.eligible) return;
    expect(r.outcome).toBe(c.expected);
    if (c.says) expect(r.message).toMatch(c.says);
  });

  it('asks Slack for user groups only when a listed user id does not settle it', () => {
    expect(needsUsergroups('U002', ['data-owners'], APPROVERS)).toBe(false);
    expect(needsUsergroups('U999', ['data-owners'], APPROVERS)).toBe(true);
    expect(needsUsergroups('U999', ['nobody'], APPROVERS)).toBe(false);
  });
});
