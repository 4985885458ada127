/**
 * Approval state in Redis: votes, expiry, and the Slack card's address, kept in
 * the `approval` field of the query record hash (see `queries/store.ts`).
 *
 * Why an optimistic compare-and-set in Lua, with the pure machine deciding in
 * between, rather than WATCH/MULTI or the whole rule set in Lua:
 * - the rules stay in one place (`machine.ts`), in TypeScript, unit-tested as a
 *   table; Lua only checks "status and approval are still exactly what I read"
 *   and writes whole fields (re-encoding JSON inside Lua would turn empty arrays
 *   into objects, the same reason QueryStore's Lua never decodes records);
 * - WATCH is per connection, so on a shared ioredis connection concurrent
 *   callers would watch each other's keys; a Lua CAS works on any connection;
 * - it is lock-free: each round at least one contender commits, so N racing
 *   voters finish in at most N rounds, and most clicks after a quorum read
 *   `approved`/`queued` and stop without writing anything.
 * A cancel or expiry through QueryStore.transition changes `status`, so it also
 * invalidates a vote computed from the old snapshot: racing vote, expiry and
 * cancel resolve to exactly one outcome.
 */
import type { Redis } from 'ioredis';
import { AirlockError } from '../errors.ts';
import { queryEventsChannel, queryRecordKey, recordFromHash } from '../queries/store.ts';
import { TERMINAL_STATUSES, type QueryRecord, type QueryStatus } from '../queries/types.ts';
import { isOwnerless } from './identity.ts';
import { applyVote, approvalError, initialApproval, isDue, type ApprovalState, type VoteInput, type VoteOutcome } from './machine.ts';

/**
 * KEYS[1] record; ARGV[1] expected raw `status` field, ARGV[2] expected raw
 * `approval` field ('' = absent), ARGV[3] channel, ARGV[4] id, ARGV[5] TTL
 * ('0' = keep), ARGV[6..] field/value pairs.
 * Returns {1, HGETALL} written, {0} missing, {-1} changed since read.
 */
const CAS_LUA = `
local cur = redis.call('HMGET', KEYS[1], 'status', 'approval')
if not cur[1] then return {0} end
local approval = cur[2] or ''
if cur[1] ~= ARGV[1] or approval ~= ARGV[2] then return {-1} end
for i = 6, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[5] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return {1, redis.call('HGETALL', KEYS[1])}
`;

/** Rounds before giving up; each round lets at least one contender through, so this bounds contention, not correctness. */
const MAX_ROUNDS = 200;

/** Fields this store writes (JSON-encoded, as QueryStore encodes them). */
interface Patch {
  status?: QueryStatus;
  approval?: ApprovalState;
  error?: QueryRecord['error'];
}

type Decide<T> = (record: QueryRecord) => { value: T; patch?: Patch };

export interface ApprovalStoreOptions {
  prefix: string;
  /** Seconds a record lives after it reaches a terminal status (as QueryStore). */
  resultTtlSeconds: number;
}

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
  readonly channel: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: ApprovalStoreOptions,
  ) {
    // The same channel QueryStore publishes on, so long-polls wake on votes and outcomes.
    this.channel = queryEventsChannel(options.prefix);
    redis.defineCommand('airlockApprovalCas', { numberOfKeys: 1, lua: CAS_LUA });
  }

  /**
   * Record a vote (eligibility already checked by the caller). Throws NOT_FOUND
   * for an unknown (or long expired) query, VALIDATION_FAILED for a deny without a reason.
   */
  async vote(id: string, input: VoteInput): Promise<{ outcome: VoteOutcome; record: QueryRecord }> {
    const done = await this.update<VoteOutcome>(id, (record) => {
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
    const done = await this.update<boolean>(id, (record) => {
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
    const done = await this.update<ApprovalState | undefined>(id, (record) => {
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
      const key = this.claimKey(id, what);
      if ((await this.redis.set(key, 'claimed', 'PX', ttlMs, 'NX')) === 'OK') return 'claimed';
      return (await this.redis.get(key)) === 'done' ? 'done' : 'busy';
    } catch (err) {
      throw new AirlockError('STORE_UNAVAILABLE', 'Redis is unavailable; try again shortly.', { cause: err });
    }
  }

  /** The claimed step happened (kept a week, longer than any review lives). */
  async complete(id: string, what: string): Promise<void> {
    try {
      await this.redis.set(this.claimKey(id, what), 'done', 'EX', 7 * 24 * 3600);
    } catch (err) {
      throw new AirlockError('STORE_UNAVAILABLE', 'Redis is unavailable; try again shortly.', { cause: err });
    }
  }

  /** Give a claim back (the step did not happen), so the next attempt may take it at once. */
  async unclaim(id: string, what: string): Promise<void> {
    await this.redis.del(this.claimKey(id, what)).catch(() => undefined);
  }

  /**
   * Remember that Slack view `viewId` (the deny modal) was opened from this
   * card by this user, until `ttlSeconds` from now; a submission of any other
   * view is refused (see ApprovalService.vote).
   */
  async bindModal(viewId: string, binding: ModalBinding, ttlSeconds: number): Promise<void> {
    await this.guard(() => this.redis.set(this.modalKey(viewId), JSON.stringify(binding), 'EX', Math.max(60, Math.ceil(ttlSeconds))));
  }

  /** The binding of a modal, if it was opened by Airlock and has not lapsed. */
  async modalBinding(viewId: string): Promise<ModalBinding | undefined> {
    const raw = await this.guard(() => this.redis.get(this.modalKey(viewId)));
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
    await this.redis.del(this.modalKey(viewId)).catch(() => undefined);
  }

  private modalKey(viewId: string): string {
    return `${this.options.prefix}:approval-modal:${viewId}`;
  }

  private claimKey(id: string, what: string): string {
    return `${this.options.prefix}:approval-claim:${what}:${id}`;
  }

  /** Remember the thread summary's `ts`; false when one was already recorded. */
  async setSummary(id: string, ts: string): Promise<boolean> {
    return this.setOnce(id, (state) => (state.summaryTs !== undefined ? undefined : { ...state, summaryTs: ts }));
  }

  private async setOnce(id: string, change: (state: ApprovalState) => ApprovalState | undefined): Promise<boolean> {
    const done = await this.update<boolean>(id, (record) => {
      const next = change(approvalOf(record));
      return next ? { value: true, patch: { approval: next } } : { value: false };
    });
    if (!done) throw new AirlockError('NOT_FOUND', `No query with id ${id}.`);
    return done.value;
  }

  /**
   * Read, decide, compare-and-set; retry from a fresh read when the record
   * changed in between. Undefined when the record does not exist.
   */
  private async update<T>(id: string, decide: Decide<T>): Promise<{ value: T; record: QueryRecord } | undefined> {
    const key = queryRecordKey(this.options.prefix, id);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const hash = await this.guard(() => this.redis.hgetall(key));
      const record = recordFromHash(hash);
      if (!record) return undefined;
      const { value, patch } = decide(record);
      if (!patch) return { value, record };
      const fields: Record<string, unknown> = { ...patch, updatedAt: new Date().toISOString() };
      const args: string[] = [];
      for (const [f, v] of Object.entries(fields)) if (v !== undefined) args.push(f, JSON.stringify(v));
      const ttl = patch.status && TERMINAL_STATUSES.has(patch.status) ? this.options.resultTtlSeconds : 0;
      const reply = await this.guard(() =>
        (this.redis as unknown as {
          airlockApprovalCas(key: string, status: string, approval: string, channel: string, id: string, ttl: number, ...fields: string[]): Promise<[number, string[]?]>;
        }).airlockApprovalCas(key, hash.status!, hash.approval ?? '', this.channel, id, ttl, ...args),
      );
      if (reply[0] === 0) return undefined;
      if (reply[0] === 1) {
        const flat = reply[1] ?? [];
        const written: Record<string, string> = {};
        for (let i = 0; i < flat.length; i += 2) written[flat[i]!] = flat[i + 1]!;
        const after = recordFromHash(written);
        if (!after) throw new AirlockError('RESULT_EXPIRED', `Query ${id} expired while it was being updated.`);
        return { value, record: after };
      }
      // Lost the race: someone else wrote first. Back off a little once contention persists.
      if (round >= 3) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, round)));
    }
    throw new AirlockError('STORE_UNAVAILABLE', `Query ${id} is changing too fast to record this; try again.`);
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof AirlockError) throw err;
      throw new AirlockError('STORE_UNAVAILABLE', 'The query store (Redis) is unavailable; try again shortly.', { cause: err });
    }
  }
}

function errorPatch(status: string, state: ApprovalState): Pick<Patch, 'error'> {
  const error = approvalError(status, state);
  return error ? { error } : {};
}
