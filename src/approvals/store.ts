/**
 * Approval state in Redis: votes, expiry, and the Slack card's address, kept in
 * the `approval` field of the query record hash (see `queries/store.ts`).
 *
 * Why an optimistic read-decide-write ({@link QueryStore.update}: the pure
 * machine decides, one Lua compare-and-set writes only if status and approval
 * are still exactly what it read) rather than WATCH/MULTI or the whole rule
 * set in Lua:
 * - the rules stay in one place (`machine.ts`), in TypeScript, unit-tested as a
 *   table; Lua never re-encodes the record's JSON (that would turn empty
 *   arrays into objects);
 * - WATCH is per connection, so on a shared ioredis connection concurrent
 *   callers would watch each other's keys; a Lua CAS works on any connection;
 * - it is lock-free: each round at least one contender commits, so N racing
 *   voters finish in at most N rounds, and most clicks after a quorum read
 *   `approved`/`queued` and stop without writing anything.
 * A cancel or expiry through QueryStore.transition changes `status`, so it also
 * invalidates a vote computed from the old snapshot: racing vote, expiry and
 * cancel resolve to exactly one outcome. The status change itself, the TTL of
 * a finished record and the pending index are QueryStore's.
 */
import type { Redis } from 'ioredis';
import { AirlockError } from '../errors.ts';
import { queryKeys, type QueryKeys } from '../queries/keys.ts';
import { guardStore, QueryStore, type QueryStoreOptions, type RecordPatch } from '../queries/store.ts';
import type { QueryRecord } from '../queries/types.ts';
import { isOwnerless } from './identity.ts';
import { applyVote, approvalError, initialApproval, isDue, type ApprovalState, type VoteInput, type VoteOutcome } from './machine.ts';

/** As QueryStore's: the same records, the same TTL once they finish. */
export type ApprovalStoreOptions = QueryStoreOptions;

/**
 * The approval's state, or the one a review starts with when none was written
 * yet (one more approval when the token named no owner, see {@link initialApproval}).
 */
export function approvalOf(record: QueryRecord): ApprovalState {
  return record.approval ?? initialApproval(record.decision, new Date(record.createdAt), { ownerless: isOwnerless(record.requester.owner) });
}

/** Where a deny modal was opened from: the query, its card, and the person who clicked Deny. */
export interface ModalBinding {
  queryId: string;
  channel: string;
  ts: string;
  user: string;
}

/** Repository for votes, expiry and card addresses, atomic on the query record. */
export class ApprovalStore {
  /** The channel QueryStore publishes on, so long-polls wake on votes and outcomes. */
  readonly channel: string;
  private readonly records: QueryStore;
  private readonly keys: QueryKeys;

  constructor(
    private readonly redis: Redis,
    options: ApprovalStoreOptions,
  ) {
    this.records = new QueryStore(redis, options);
    this.keys = queryKeys(options.prefix);
    this.channel = this.records.channel;
  }

  /**
   * Record a vote (eligibility already checked by the caller). Throws NOT_FOUND
   * for an unknown (or long expired) query, VALIDATION_FAILED for a deny without a reason.
   */
  async vote(id: string, input: VoteInput): Promise<{ outcome: VoteOutcome; record: QueryRecord }> {
    const done = await this.records.update<VoteOutcome>(id, (record) => {
      const state = approvalOf(record);
      const next = applyVote(record.status, state, input);
      // Only recorded, approved, rejected and expired change anything.
      if (next.status === record.status && next.state === state) return { value: next.outcome };
      return {
        value: next.outcome,
        patch: {
          approval: next.state,
          ...(next.status !== record.status ? { status: next.status } : {}),
          ...errorPatch(next.status, next.state),
        },
      };
    });
    if (!done) throw new AirlockError('NOT_FOUND', `No query with id ${id}.`);
    return { outcome: done.value, record: done.record };
  }

  /**
   * Expire a review that is still pending at `now` past its `expiresAt`.
   * Returns the record only when this call changed it.
   */
  async expire(id: string, now: Date): Promise<QueryRecord | undefined> {
    const done = await this.records.update<boolean>(id, (record) => {
      const state = approvalOf(record);
      if (record.status !== 'pending_approval' || !isDue(state, now)) return { value: false };
      return { value: true, patch: { status: 'expired', approval: state, ...errorPatch('expired', state) } };
    });
    return done?.value ? done.record : undefined;
  }

  /**
   * Write the initial approval state of a pending review if it has none.
   * Returns the state (existing or new), or undefined when the query is gone or is not a pending review.
   */
  async init(id: string): Promise<ApprovalState | undefined> {
    const done = await this.records.update<ApprovalState | undefined>(id, (record) => {
      if (record.approval) return { value: record.approval };
      if (record.status !== 'pending_approval') return { value: undefined };
      const state = approvalOf(record);
      return { value: state, patch: { approval: state } };
    });
    return done?.value;
  }

  /**
   * Remember where the card was posted. False when a card was already recorded
   * (the caller posted a duplicate and should delete it). Throws NOT_FOUND for an unknown query.
   */
  async setCard(id: string, card: NonNullable<ApprovalState['card']>): Promise<boolean> {
    return this.setOnce(id, (state) => (state.card ? undefined : { ...state, card: { ...card } }));
  }

  /**
   * A short exclusive claim on one step of one query (`what`), for steps that
   * must happen once but cannot sit inside the compare-and-set (an append to
   * the session log). `claimed`: this caller does the step, then calls
   * {@link complete} or {@link unclaim}; `done`: someone did it; `busy`:
   * someone is doing it. A claim lapses after `ttlMs`, so a caller that died
   * does not block the step for ever.
   */
  async claim(id: string, what: string, ttlMs: number): Promise<'claimed' | 'done' | 'busy'> {
    try {
      const key = this.keys.claim(id, what);
      if ((await this.redis.set(key, 'claimed', 'PX', ttlMs, 'NX')) === 'OK') return 'claimed';
      return (await this.redis.get(key)) === 'done' ? 'done' : 'busy';
    } catch (err) {
      throw new AirlockError('STORE_UNAVAILABLE', 'Redis is unavailable; try again shortly.', { cause: err });
    }
  }

  /** The claimed step happened (kept a week, longer than any review lives). */
  async complete(id: string, what: string): Promise<void> {
    try {
      await this.redis.set(this.keys.claim(id, what), 'done', 'EX', 7 * 24 * 3600);
    } catch (err) {
      throw new AirlockError('STORE_UNAVAILABLE', 'Redis is unavailable; try again shortly.', { cause: err });
    }
  }

  /** Give a claim back (the step did not happen), so the next attempt may take it at once. */
  async unclaim(id: string, what: string): Promise<void> {
    await this.redis.del(this.keys.claim(id, what)).catch(() => undefined);
  }

  /**
   * Remember that Slack view `viewId` (the deny modal) was opened from this
   * card by this user, until `ttlSeconds` from now; a submission of any other
   * view is refused (see ApprovalService.vote).
   */
  async bindModal(viewId: string, binding: ModalBinding, ttlSeconds: number): Promise<void> {
    await guardStore(() => this.redis.set(this.keys.modal(viewId), JSON.stringify(binding), 'EX', Math.max(60, Math.ceil(ttlSeconds))));
  }

  /** The binding of a modal, if it was opened by Airlock and has not lapsed. */
  async modalBinding(viewId: string): Promise<ModalBinding | undefined> {
    const raw = await guardStore(() => this.redis.get(this.keys.modal(viewId)));
    if (!raw) return undefined;
    try {
      const b = JSON.parse(raw) as Partial<ModalBinding>;
      if (typeof b.queryId === 'string' && typeof b.channel === 'string' && typeof b.ts === 'string' && typeof b.user === 'string') {
        return { queryId: b.queryId, channel: b.channel, ts: b.ts, user: b.user };
      }
    } catch {
      // fall through: an unreadable binding binds nothing
    }
    return undefined;
  }

  /** Forget a modal's binding once its deny counted (a replayed submission then binds nothing). */
  async unbindModal(viewId: string): Promise<void> {
    await this.redis.del(this.keys.modal(viewId)).catch(() => undefined);
  }

  /** Remember the thread summary's `ts`; false when one was already recorded. */
  async setSummary(id: string, ts: string): Promise<boolean> {
    return this.setOnce(id, (state) => (state.summaryTs !== undefined ? undefined : { ...state, summaryTs: ts }));
  }

  private async setOnce(id: string, change: (state: ApprovalState) => ApprovalState | undefined): Promise<boolean> {
    const done = await this.records.update<boolean>(id, (record) => {
      const next = change(approvalOf(record));
      return next ? { value: true, patch: { approval: next } } : { value: false };
    });
    if (!done) throw new AirlockError('NOT_FOUND', `No query with id ${id}.`);
    return done.value;
  }

}

function errorPatch(status: string, state: ApprovalState): Pick<RecordPatch, 'error'> {
  const error = approvalError(status, state);
  return error ? { error } : {};
}
