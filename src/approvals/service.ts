/**
 * The approval workflow: open a review, take votes, expire it, and release an
 * approved statement to the execute queue exactly once.
 *
 * Directory lookups (Slack user groups) happen before the atomic vote, because
 * they are slow and may fail; a failure refuses the vote (fail closed, DESIGN
 * §6) and nothing is counted. So does a click that did not come from the
 * query's card, and a voter whose identity does not rule out the owner
 * (`identity.ts`); those refusals are written to the session log. The atomic part —
 * recording a vote, reaching quorum, expiring — is ApprovalStore's.
 */
import { appendAfterTheFact, type AuditLog } from '../audit/log.ts';
import { redactText } from '../audit/redact.ts';
import { systemClock, type Clock } from '../clock.ts';
import { AirlockError, isAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { PolicyFile } from '../policy/schema.ts';
import type { QueryStore } from '../queries/store.ts';
import type { QueryRecord } from '../queries/types.ts';
import {
  eligibility,
  isDue,
  needsUsergroups,
  normalizeReason,
  type ApprovalState,
  type VoteKind,
  type VoteOutcome,
  type Voter,
} from './machine.ts';
import type { IdentityAliases } from './identity.ts';
import type { ApprovedJobs, ExpiryScheduler } from './ports.ts';
import { messageFor } from './messages.ts';
import { approvalOf, type ApprovalStore } from './store.ts';

/** Who is who in Slack (the Slack adapter implements it with `usergroups.users.list`; cache briefly). */
export interface Directory {
  /** Slack user group ids the user belongs to. May throw (Slack down): the vote is then refused. */
  usergroupsOf(slackUserId: string): Promise<string[]>;
}

/**
 * Where a vote came from, as Slack's payload says. A vote counts only when it
 * comes from the card Airlock posted for the query: a button on that message
 * (its channel and `ts`), or a deny modal Airlock opened from it for this user.
 */
export type VoteOrigin =
  | { via: 'button'; channel?: string; messageTs?: string }
  | { via: 'modal'; viewId?: string };

/** How a vote is cast. */
export interface VoteOptions {
  origin: VoteOrigin;
  /** Required for a deny. */
  reason?: string;
  /** The fingerprint the card showed; the record's own when absent (the card's button carries only the query id). */
  fingerprintSeen?: string;
}

export interface ApprovalServiceDeps {
  store: ApprovalStore;
  queries: QueryStore;
  queue: ApprovedJobs;
  directory: Directory;
  approvers: PolicyFile['approvers'];
  logger: Logger;
  expiry: ExpiryScheduler;
  /** Address aliases for the owner check (AIRLOCK_IDENTITY_ALIASES). */
  aliases?: IdentityAliases;
  /** What a token without an owner claim means for votes (AIRLOCK_OWNERLESS_TOKENS; default extra_approver). */
  ownerless?: 'extra_approver' | 'refuse_approval' | 'refuse_token';
  /**
   * The session log: votes, rejections and expiries are recorded after the
   * fact; an approval is recorded before its statement is released (fail
   * closed: if the log is unavailable it stays `approved`, and the expiry job
   * releases it later once the log answers).
   */
  audit?: AuditLog;
  /** Injected clock (STYLE habit 8); default: the wall clock. */
  clock?: Clock;
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
  private readonly now: Clock;

  constructor(private readonly deps: ApprovalServiceDeps) {
    this.now = deps.clock ?? systemClock;
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
   * A click that did not come from the query's card (`origin`) is refused as
   * `out_of_place` and recorded in the session log, before anything else.
   */
  async vote(id: string, voter: Voter, vote: VoteKind, opts: VoteOptions): Promise<VoteReply> {
    const { store, queries, logger } = this.deps;
    const { reason, fingerprintSeen } = opts;
    const trimmed = normalizeReason(vote, reason);
    const record = await queries.get(id);
    if (!record) throw new AirlockError('NOT_FOUND', `No query with id ${id}.`);
    const state = approvalOf(record);
    const misplaced = await this.checkOrigin(record, voter, opts.origin);
    if (misplaced) return this.refused(record, voter, vote, misplaced);
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

    if (vote === 'approve' && !(await this.inSessionLog(id))) {
      return this.refused(record, voter, vote, { outcome: 'unaudited', message: messageFor('unaudited', record), detail: 'the session log holds no received event for this query' });
    }
    const verdict = await this.checkEligible(record, state, voter);
    if ('outcome' in verdict) return this.refused(record, voter, vote, verdict);

    const result = await store.vote(id, {
      voter: { ...voter, identity: verdict.identity },
      vote,
      ...(reason !== undefined ? { reason } : {}),
      fingerprint: fingerprintSeen ?? state.fingerprint,
      now,
    });
    logger.info({ queryId: id, voter: voter.slackUserId, vote, outcome: result.outcome }, 'vote');
    if (opts.origin.via === 'modal' && opts.origin.viewId && (result.outcome === 'rejected' || result.outcome === 'recorded')) {
      await store.unbindModal(opts.origin.viewId);
    }
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

  /** True when the session log holds the query's `received` (or cannot be asked: a log without the reader). A log that fails refuses. */
  private async inSessionLog(id: string): Promise<boolean> {
    const audit = this.deps.audit;
    if (!audit?.received) return true;
    try {
      return await audit.received(id);
    } catch (err) {
      this.deps.logger.warn({ queryId: id, err: err instanceof Error ? err.message : String(err) }, 'session log unreachable: approval refused');
      return false;
    }
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

  /**
   * Was the Deny button clicked on this query's card? Call before opening the
   * deny modal: a click from anywhere else opens nothing and is recorded.
   * Undefined when it was; otherwise the refusal. Throws NOT_FOUND.
   */
  async denyClicked(id: string, voter: Voter, origin: VoteOrigin & { via: 'button' }): Promise<VoteReply | undefined> {
    const record = await this.deps.queries.get(id);
    if (!record) throw new AirlockError('NOT_FOUND', `No query with id ${id}.`);
    const misplaced = await this.checkOrigin(record, voter, origin);
    return misplaced ? this.refused(record, voter, 'deny', misplaced) : undefined;
  }

  /**
   * The deny modal `viewId` was opened from the card of query `id` for this
   * user: only a submission of that view, by that user, counts as their deny.
   * Kept until the review expires (at least a minute).
   */
  async modalOpened(id: string, viewId: string, slackUserId: string): Promise<void> {
    const record = await this.deps.queries.get(id);
    const card = record?.approval?.card;
    if (!record || !card) return;
    const ttl = (Date.parse(approvalOf(record).expiresAt) - this.now().getTime()) / 1000 + 60;
    await this.deps.store.bindModal(viewId, { queryId: id, channel: card.channel, ts: card.ts, user: slackUserId }, ttl);
  }

  /** Undefined when the click came from the query's card; otherwise why not (the clicker reads it). */
  private async checkOrigin(record: QueryRecord, voter: Voter, origin: VoteOrigin): Promise<{ outcome: 'out_of_place'; message: string; detail: string } | undefined> {
    const card = record.approval?.card;
    const refuse = (detail: string) => ({
      outcome: 'out_of_place' as const,
      detail,
      message: "This click did not come from the query's approval card, so it was not counted. Vote with the buttons on the card itself.",
    });
    if (!card) return refuse('no card has been posted for this query');
    if (origin.via === 'button') {
      if (origin.channel !== card.channel) return refuse(`clicked in channel ${origin.channel ?? '(none)'}, the card is in ${card.channel}`);
      if (origin.messageTs !== card.ts) return refuse(`clicked on message ${origin.messageTs ?? '(none)'}, the card is ${card.ts}`);
      return undefined;
    }
    const binding = origin.viewId ? await this.deps.store.modalBinding(origin.viewId) : undefined;
    if (!binding) return refuse(`modal ${origin.viewId ?? '(none)'} was not opened by Airlock from a card, or has lapsed`);
    if (binding.queryId !== record.id) return refuse(`modal ${origin.viewId} was opened for query ${binding.queryId}`);
    if (binding.user !== voter.slackUserId) return refuse(`modal ${origin.viewId} was opened by ${binding.user}`);
    if (binding.channel !== card.channel || binding.ts !== card.ts) return refuse(`modal ${origin.viewId} was opened from another message`);
    return undefined;
  }

  /** A refused vote: logged and recorded in the session log (never counted). */
  private async refused(record: QueryRecord, voter: Voter, vote: VoteKind, refusal: { outcome: VoteOutcome; message: string; detail?: string }): Promise<VoteReply> {
    const { logger } = this.deps;
    const level = refusal.outcome === 'ineligible' ? 'info' : 'warn';
    logger[level]({ queryId: record.id, voter: voter.slackUserId, outcome: refusal.outcome, detail: refusal.detail }, 'vote refused');
    await appendAfterTheFact(
      this.deps.audit,
      {
        type: 'vote_refused',
        session: record.id,
        actor: voter.slackUserId,
        data: { voter: { ...voter }, vote, outcome: refusal.outcome, ...(refusal.detail ? { detail: refusal.detail } : {}) },
      },
      logger,
    );
    return { outcome: refusal.outcome, record, message: refusal.message };
  }

  /** The voter's canonical identity when they may vote; otherwise the refusal. */
  private async checkEligible(
    record: QueryRecord,
    state: ApprovalState,
    voter: Voter,
  ): Promise<{ identity: string } | { outcome: 'ineligible' | 'owner' | 'unverified'; message: string }> {
    const { directory, approvers, logger } = this.deps;
    let voterGroups: string[] = [];
    if (state.groups.length > 0 && needsUsergroups(voter.slackUserId, state.groups, approvers)) {
      try {
        voterGroups = await directory.usergroupsOf(voter.slackUserId);
      } catch (err) {
        logger.warn({ queryId: record.id, voter: voter.slackUserId, err }, 'directory lookup failed; vote refused');
        return {
          outcome: 'ineligible',
          message: 'Airlock could not check your approver membership with Slack just now, so no vote was recorded. Try again in a moment.',
        };
      }
    }
    const verdict = eligibility({
      voter: voter.slackUserId,
      voterGroups,
      groups: state.groups,
      approvers,
      ...(voter.email !== undefined ? { voterEmail: voter.email } : {}),
      ...(record.requester.owner !== undefined ? { ownerEmail: record.requester.owner } : {}),
      ...(this.deps.aliases ? { aliases: this.deps.aliases } : {}),
      ownerless: this.deps.ownerless ?? 'extra_approver',
    });
    return verdict.eligible ? { identity: verdict.identity } : { outcome: verdict.outcome, message: verdict.message };
  }

  private reply(outcome: VoteOutcome, record: QueryRecord): VoteReply {
    return { outcome, record, message: messageFor(outcome, record) };
  }
}
