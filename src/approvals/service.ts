/**
 * The approval workflow: open a review, take votes, expire it, and release an
 * approved statement to the execute queue exactly once.
 *
 * Directory lookups (Slack user groups, owner email → Slack id) happen before
 * the atomic vote, because they are slow and may fail; a failure refuses the
 * vote (fail closed, DESIGN §6) and nothing is recorded. The atomic part —
 * recording a vote, reaching quorum, expiring — is ApprovalStore's.
 */
import { appendAfterTheFact, type AuditLog } from '../audit/log.ts';
import { redactText } from '../audit/redact.ts';
import { AirlockError, isAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { PolicyFile } from '../policy/schema.ts';
import type { QueryStore } from '../queries/store.ts';
import type { QueryRecord } from '../queries/types.ts';
import type { ExpiryScheduler } from '../queue/approvals-queue.ts';
import {
  approvalsSoFar,
  eligibility,
  isDue,
  needsUsergroups,
  normalizeReason,
  type ApprovalState,
  type VoteKind,
  type VoteOutcome,
  type Voter,
} from './machine.ts';
import { approvalOf, type ApprovalStore } from './store.ts';

/** Who is who in Slack (the Slack adapter implements it with `usergroups.users.list`, `users.lookupByEmail`; cache briefly). */
export interface Directory {
  /** Slack user group ids the user belongs to. May throw (Slack down): the vote is then refused. */
  usergroupsOf(slackUserId: string): Promise<string[]>;
  /** The Slack user with this email, if any. May throw. */
  slackIdForEmail(email: string): Promise<string | undefined>;
}

/** The enqueue side of the execute queue (ExecuteQueue fits; declared here so approvals never import queries/service). */
export interface ExecuteEnqueuer {
  enqueue(queryId: string): Promise<void>;
}

export interface ApprovalServiceDeps {
  store: ApprovalStore;
  queries: QueryStore;
  queue: ExecuteEnqueuer;
  directory: Directory;
  approvers: PolicyFile['approvers'];
  logger: Logger;
  expiry: ExpiryScheduler;
  /**
   * The session log: votes, rejections and expiries are recorded after the
   * fact; an approval is recorded before its statement is released (fail
   * closed: if the log is unavailable it stays `approved`, and the expiry job
   * releases it later once the log answers).
   */
  audit?: AuditLog;
  /** Injected clock (STYLE habit 8). */
  now?: () => Date;
}

/** What a click did, with a sentence for the clicker's ephemeral reply. */
export interface VoteReply {
  outcome: VoteOutcome;
  record: QueryRecord;
  message: string;
}

const ENQUEUE_ATTEMPTS = 3;
/** How soon the expiry job tries again to release an approval the session log did not take. */
const RELEASE_RETRY_MS = 30_000;
/** How long the right to record `approved` is held; after a crash between claim and append it lapses. */
const APPROVED_CLAIM_MS = 10 * 60_000;

export class ApprovalService {
  private readonly now: () => Date;

  constructor(private readonly deps: ApprovalServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Call right after a review-decision record is created (QueryService does
   * not write `approval` itself; it may, with `initialApproval`, and this stays
   * correct). Writes the initial approval state if absent and schedules the
   * expiry job. Idempotent. Throws STORE_UNAVAILABLE when Redis is down; a
   * failed schedule is only logged, because votes after `expiresAt` are refused
   * anyway and reads expire the record lazily.
   */
  async opened(record: QueryRecord): Promise<void> {
    const state = await this.deps.store.init(record.id);
    if (!state) return;
    try {
      await this.deps.expiry.schedule(record.id, new Date(state.expiresAt));
    } catch (err) {
      this.deps.logger.warn({ queryId: record.id, err }, 'could not schedule the approval expiry; it expires when next read or voted on');
    }
  }

  /**
   * One click. Throws NOT_FOUND for an unknown query and VALIDATION_FAILED for
   * a deny without a reason; every other result is an outcome with a message.
   * `fingerprintSeen` is the fingerprint the card showed; when absent the
   * record's own is used (the card's button carries only the query id).
   */
  async vote(id: string, voter: Voter, vote: VoteKind, reason?: string, fingerprintSeen?: string): Promise<VoteReply> {
    const { store, queries, logger } = this.deps;
    const trimmed = normalizeReason(vote, reason);
    const record = await queries.get(id);
    if (!record) throw new AirlockError('NOT_FOUND', `No query with id ${id}.`);
    const state = approvalOf(record);
    if (record.status !== 'pending_approval') return this.reply('not_pending', record);
    const now = this.now();
    if (isDue(state, now)) {
      // Nobody decides after expiry, whoever clicks; the click just makes it visible.
      const mine = await store.expire(id, now);
      if (mine) await this.auditExpired(mine);
      const expired = mine ?? (await queries.get(id)) ?? record;
      if (expired.status === 'expired') await this.deps.expiry.cancel(id).catch(() => undefined);
      return this.reply(expired.status === 'expired' ? 'expired' : 'not_pending', expired);
    }

    const refusal = await this.checkEligible(record, state, voter);
    if (refusal) {
      logger.info({ queryId: id, voter: voter.slackUserId, outcome: refusal.outcome }, 'vote refused');
      return { outcome: refusal.outcome, record, message: refusal.message };
    }

    const result = await store.vote(id, {
      voter,
      vote,
      ...(reason !== undefined ? { reason } : {}),
      fingerprint: fingerprintSeen ?? state.fingerprint,
      now,
    });
    logger.info({ queryId: id, voter: voter.slackUserId, vote, outcome: result.outcome }, 'vote');
    // A reason is typed by a person: it goes through the detectors like any free text.
    const given = trimmed === undefined ? undefined : redactText(trimmed);
    if (result.outcome === 'recorded' || result.outcome === 'approved' || result.outcome === 'rejected') {
      await appendAfterTheFact(
        this.deps.audit,
        {
          type: 'vote',
          session: id,
          actor: voter.slackUserId,
          data: { voter: { ...voter }, vote, ...(given ? { reason: given } : {}) },
        },
        logger,
      );
    }
    if (result.outcome === 'rejected') {
      await appendAfterTheFact(
        this.deps.audit,
        { type: 'rejected', session: id, actor: voter.slackUserId, data: { by: voter.slackUserId, ...(given ? { reason: given } : {}) } },
        logger,
      );
    }
    if (result.outcome === 'expired') await this.auditExpired(result.record);
    let after = result.record;
    if (result.outcome === 'approved') after = (await this.release(id)) ?? after;
    if (result.outcome === 'rejected' || result.outcome === 'expired') await this.deps.expiry.cancel(id).catch(() => undefined);
    return this.reply(result.outcome, after);
  }

  /**
   * Expire a review that is due. Returns the record only when this call
   * expired it. Also the backstop for an approval whose release was
   * interrupted (a crash between the vote and the enqueue): an `approved`
   * record is released here, a `queued` one that went through review is
   * enqueued again (a no-op when its job exists: the job id is the query id).
   */
  async expire(id: string): Promise<QueryRecord | undefined> {
    return (await this.expireOrWait(id)).record;
  }

  /** {@link expire} for the expiry job: also says when to come back if the record is not due yet. */
  async expireOrWait(id: string): Promise<{ record?: QueryRecord; retryAt?: Date }> {
    const { store, queries, logger } = this.deps;
    const now = this.now();
    const expired = await store.expire(id, now);
    if (expired) {
      logger.info({ queryId: id }, 'approval expired');
      await this.auditExpired(expired);
      return { record: expired };
    }
    const record = await queries.get(id);
    if (!record) return {};
    if (record.status === 'pending_approval') return { retryAt: new Date(approvalOf(record).expiresAt) };
    if (record.status === 'approved') {
      // Not released (the session log did not take the approval): come back shortly.
      const after = await this.release(id);
      if (after?.status === 'approved') return { retryAt: new Date(now.getTime() + RELEASE_RETRY_MS) };
    }
    else if (record.status === 'queued' && record.approval) await this.enqueue(id);
    return {};
  }

  /** approved → queued, then enqueue; the transition is the guard, so only one caller enqueues. */
  private async release(id: string): Promise<QueryRecord | undefined> {
    const approved = await this.deps.queries.get(id);
    if (approved?.status !== 'approved') return approved;
    if (this.deps.audit) {
      // Fail closed: no statement runs on an approval the session log does not hold.
      // One caller records it (a quorum click racing the expiry job would otherwise both append);
      // the other stops here, and the holder releases or hands the step back.
      const claim = await this.deps.store.claim(id, 'approved', APPROVED_CLAIM_MS);
      if (claim === 'busy') return approved;
      if (claim === 'claimed') {
        const approvers = approvalOf(approved)
          .votes.filter((v) => v.vote === 'approve')
          .map((v) => v.voter.slackUserId);
        try {
          await this.deps.audit.append({ type: 'approved', session: id, actor: 'system', data: { approvers } });
        } catch (err) {
          await this.deps.store.unclaim(id, 'approved');
          this.deps.logger.error({ queryId: id, err }, 'audit log unavailable: the approved query is not released yet; the expiry job retries in 30 s');
          // Bring the expiry job (due at expiresAt) forward, so the release is tried again soon.
          // Inside that job the job is active: cancel and schedule are no-ops and its retryAt decides.
          await this.deps.expiry.cancel(id).catch(() => undefined);
          await this.deps.expiry.schedule(id, new Date(this.now().getTime() + RELEASE_RETRY_MS)).catch(() => undefined);
          return approved;
        }
        await this.deps.store.complete(id, 'approved');
      }
    }
    let record: QueryRecord;
    try {
      record = await this.deps.queries.transition(id, ['approved'], { status: 'queued' });
    } catch (err) {
      // Released by someone else (the expiry backstop) or cancelled in between: nothing to do.
      if (isAirlockError(err, 'STATE_CONFLICT')) return this.deps.queries.get(id);
      throw err;
    }
    await this.enqueue(id);
    return record;
  }

  private async enqueue(id: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.queue.enqueue(id);
        this.deps.logger.info({ queryId: id }, 'approved query enqueued');
        return;
      } catch (err) {
        if (attempt >= ENQUEUE_ATTEMPTS) {
          // The record stays `queued` and approved; the expiry job (still scheduled) enqueues it again.
          this.deps.logger.error({ queryId: id, err }, 'could not enqueue an approved query; the expiry job will retry');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  private async auditExpired(record: QueryRecord): Promise<void> {
    await appendAfterTheFact(this.deps.audit, { type: 'expired', session: record.id, actor: 'system', data: { expiresAt: approvalOf(record).expiresAt } }, this.deps.logger);
  }

  /** Undefined when the voter may vote; otherwise the refusal. */
  private async checkEligible(
    record: QueryRecord,
    state: ApprovalState,
    voter: Voter,
  ): Promise<{ outcome: 'ineligible' | 'owner'; message: string } | undefined> {
    const { directory, approvers, logger } = this.deps;
    const ownerEmail = record.requester.owner;
    let ownerSlackId: string | undefined;
    let voterGroups: string[] = [];
    if (state.groups.length > 0) {
      try {
        const [ownerId, groups] = await Promise.all([
          ownerEmail ? directory.slackIdForEmail(ownerEmail) : Promise.resolve(undefined),
          needsUsergroups(voter.slackUserId, state.groups, approvers) ? directory.usergroupsOf(voter.slackUserId) : Promise.resolve([]),
        ]);
        ownerSlackId = ownerId;
        voterGroups = groups;
      } catch (err) {
        logger.warn({ queryId: record.id, voter: voter.slackUserId, err }, 'directory lookup failed; vote refused');
        return {
          outcome: 'ineligible',
          message: 'Airlock could not check your approver membership with Slack just now, so no vote was recorded. Try again in a moment.',
        };
      }
      if (ownerEmail) {
        // Compare by email too: it still works when the lookup found nobody for the owner's email.
        if (voter.email && voter.email.trim().toLowerCase() === ownerEmail.trim().toLowerCase()) ownerSlackId = voter.slackUserId;
        else if (ownerSlackId === undefined && !voter.email) {
          // Neither side resolves: we cannot rule out that the voter is the owner, so refuse (fail closed).
          return {
            outcome: 'ineligible',
            message:
              "Airlock could not confirm that you are not the agent's owner (the owner's email matches no Slack user and yours is unknown), so no vote was recorded.",
          };
        }
      }
    }
    const verdict = eligibility({
      voter: voter.slackUserId,
      voterGroups,
      groups: state.groups,
      approvers,
      ...(ownerSlackId !== undefined ? { ownerSlackId } : {}),
    });
    return verdict.eligible ? undefined : { outcome: verdict.outcome, message: verdict.message };
  }

  private reply(outcome: VoteOutcome, record: QueryRecord): VoteReply {
    return { outcome, record, message: messageFor(outcome, record) };
  }
}

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
  }
}
