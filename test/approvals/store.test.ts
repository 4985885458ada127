/**
 * ApprovalStore against real Redis: the compare-and-set keeps racing votes,
 * expiry and cancel to exactly one outcome, and a card is recorded once.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialApproval } from '../../src/approvals/machine.ts';
import { ApprovalStore } from '../../src/approvals/store.ts';
import { AirlockError } from '../../src/errors.ts';
import { QueryStore } from '../../src/queries/store.ts';
import type { QueryRecord } from '../../src/queries/types.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { FINGERPRINT, reviewRecord, voter } from './fixtures.ts';

const prefix = uniquePrefix('approvals-store');
let redis: Redis;
let queries: QueryStore;
let store: ApprovalStore;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  queries = new QueryStore(redis, { prefix, resultTtlSeconds: 60 });
  store = new ApprovalStore(redis, { prefix, resultTtlSeconds: 60 });
});

afterAll(async () => {
  redis.disconnect();
  await cleanupPrefix(prefix);
});

async function created(...args: Parameters<typeof reviewRecord>): Promise<QueryRecord> {
  const r = reviewRecord(...args);
  await queries.create(r);
  return r;
}

const approve = (n: number, now = new Date()) => ({ voter: voter(n), vote: 'approve' as const, fingerprint: FINGERPRINT, now });

function codeOf(err: unknown): string | undefined {
  return err instanceof AirlockError ? err.code : undefined;
}

describe('records with an approval', () => {
  it('QueryStore round-trips the approval field and keeps it out of the base', async () => {
    const r = reviewRecord();
    r.approval = initialApproval(r.decision, new Date(r.createdAt));
    await queries.create(r);
    expect(await queries.get(r.id)).toEqual(r);
    const base = JSON.parse((await redis.hget(`${prefix}:q:${r.id}`, 'base'))!) as Record<string, unknown>;
    expect(base.approval).toBeUndefined();
  });

  it('init writes the initial state once, only for a pending review', async () => {
    const r = await created();
    const first = await store.init(r.id);
    expect(first).toEqual(initialApproval(r.decision, new Date(r.createdAt)));
    await store.vote(r.id, approve(2));
    expect((await store.init(r.id))!.votes).toHaveLength(1);
    const allowed = await created({}, { status: 'queued' });
    expect(await store.init(allowed.id)).toBeUndefined();
    expect(await store.init('no-such-id')).toBeUndefined();
  });
});

describe('votes', () => {
  it('records a vote on a record that has no approval field yet (derived from the decision)', async () => {
    const r = await created({ required: 2 });
    const { outcome, record } = await store.vote(r.id, approve(2));
    expect(outcome).toBe('recorded');
    expect(record.status).toBe('pending_approval');
    expect(record.approval!.votes.map((v) => v.voter.slackUserId)).toEqual(['U002']);
    expect(await queries.get(r.id)).toEqual(record);
  });

  it('publishes on the query-events channel so long-polls wake', async () => {
    const r = await created({ required: 2 });
    const sub = new Redis(REDIS_URL);
    try {
      const seen: string[] = [];
      await sub.subscribe(`${prefix}:query-events`);
      const got = new Promise<void>((resolve) => sub.on('message', (_c: string, id: string) => {
        seen.push(id);
        resolve();
      }));
      await store.vote(r.id, approve(2));
      await got;
      expect(seen).toEqual([r.id]);
    } finally {
      sub.disconnect();
    }
  });

  it('a deny rejects with the reason, and the finished record gets the result TTL', async () => {
    const r = await created({ required: 2 });
    await store.vote(r.id, approve(2));
    const { outcome, record } = await store.vote(r.id, { ...approve(3), vote: 'deny', reason: 'use the staging copy' });
    expect(outcome).toBe('rejected');
    expect(record.status).toBe('rejected');
    expect(record.error).toMatchObject({ code: 'APPROVAL_REJECTED', details: { reason: 'use the staging copy', by: 'U003' } });
    const ttl = await redis.ttl(`${prefix}:q:${r.id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect((await store.vote(r.id, approve(4))).outcome).toBe('not_pending');
  });

  it('a vote after expiresAt expires the request', async () => {
    const r = await created({ required: 2, expiresInSeconds: 60 });
    const late = new Date(Date.parse(r.createdAt) + 60_000);
    const { outcome, record } = await store.vote(r.id, approve(2, late));
    expect(outcome).toBe('expired');
    expect(record.status).toBe('expired');
    expect(record.error?.code).toBe('APPROVAL_EXPIRED');
    expect(record.approval!.votes).toEqual([]);
  });

  it('an unknown query is NOT_FOUND', async () => {
    await expect(store.vote('no-such-id', approve(2))).rejects.toSatisfy((e) => codeOf(e) === 'NOT_FOUND');
  });

  it('50 concurrent approvals from 50 users on a required:2 request: 2 recorded, one approves, the rest find it decided', async () => {
    const r = await created({ required: 2 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.vote(r.id, approve(i + 1))));
    const count = (o: string) => results.filter((x) => x.outcome === o).length;
    expect({ recorded: count('recorded'), approved: count('approved'), not_pending: count('not_pending') }).toEqual({ recorded: 1, approved: 1, not_pending: 48 });
    const final = (await queries.get(r.id))!;
    expect(final.status).toBe('approved');
    expect(final.approval!.votes).toHaveLength(2);
    // The voters on record are exactly those who were told their vote counted.
    const counted = results.filter((x) => x.outcome === 'recorded' || x.outcome === 'approved');
    expect(new Set(final.approval!.votes.map((v) => v.voter.slackUserId))).toEqual(
      new Set(counted.map((x) => x.record.approval!.votes.at(-1)!.voter.slackUserId)),
    );
  });

  it('the same user clicking 20 times at once (a replayed payload) votes once', async () => {
    const r = await created({ required: 3 });
    const results = await Promise.all(Array.from({ length: 20 }, () => store.vote(r.id, approve(5))));
    expect(results.filter((x) => x.outcome === 'recorded')).toHaveLength(1);
    expect(results.filter((x) => x.outcome === 'duplicate')).toHaveLength(19);
    expect((await queries.get(r.id))!.approval!.votes).toHaveLength(1);
  });

  it('vote racing expire racing cancel: exactly one wins, every time', async () => {
    const winners = { approved: 0, expired: 0, cancelled: 0 };
    for (let round = 0; round < 30; round++) {
      const r = await created({ required: 1, expiresInSeconds: 60 });
      const beforeExpiry = new Date(Date.parse(r.createdAt) + 30_000);
      const afterExpiry = new Date(Date.parse(r.createdAt) + 61_000);
      const [vote, expired, cancel] = await Promise.all([
        store.vote(r.id, approve(2, beforeExpiry)),
        store.expire(r.id, afterExpiry),
        queries
          .transition(r.id, ['pending_approval'], { status: 'cancelled', error: { code: 'CANCELLED', message: 'The agent withdrew the query.' } })
          .then(
            () => true,
            (e: unknown) => (codeOf(e) === 'STATE_CONFLICT' ? false : Promise.reject(e)),
          ),
      ]);
      const wins = [vote.outcome === 'approved', expired !== undefined, cancel];
      expect(wins.filter(Boolean)).toHaveLength(1);
      const final = (await queries.get(r.id))!;
      const expected = wins[0] ? 'approved' : wins[1] ? 'expired' : 'cancelled';
      expect(final.status).toBe(expected);
      winners[expected]++;
      // A losing vote reports the state it lost to and never leaves a stray vote behind.
      if (!wins[0]) {
        expect(vote.outcome).toBe('not_pending');
        expect(final.approval?.votes ?? []).toEqual([]);
      }
    }
    expect(winners.approved + winners.expired + winners.cancelled).toBe(30);
  });
});

describe('expire', () => {
  it('expires only a pending review that is due, once', async () => {
    const r = await created({ expiresInSeconds: 60 });
    expect(await store.expire(r.id, new Date(Date.parse(r.createdAt) + 59_000))).toBeUndefined();
    const due = new Date(Date.parse(r.createdAt) + 60_000);
    const results = await Promise.all([store.expire(r.id, due), store.expire(r.id, due), store.expire(r.id, due)]);
    expect(results.filter((x) => x !== undefined)).toHaveLength(1);
    expect((await queries.get(r.id))!.status).toBe('expired');
    expect(await store.expire('no-such-id', due)).toBeUndefined();
  });
});

describe('card and summary', () => {
  it('records the card once, even when ten replicas race', async () => {
    const r = await created();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.setCard(r.id, { channel: 'C1', ts: `1700000000.00000${i}`, postedAt: new Date().toISOString() })),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const card = (await queries.get(r.id))!.approval!.card!;
    expect(await store.setCard(r.id, { channel: 'C1', ts: '9.9', postedAt: new Date().toISOString() })).toBe(false);
    expect((await queries.get(r.id))!.approval!.card).toEqual(card);
  });

  it('records the summary once and keeps the votes', async () => {
    const r = await created({ required: 2 });
    await store.vote(r.id, approve(2));
    expect(await store.setSummary(r.id, '1.1')).toBe(true);
    expect(await store.setSummary(r.id, '2.2')).toBe(false);
    const approval = (await queries.get(r.id))!.approval!;
    expect(approval.summaryTs).toBe('1.1');
    expect(approval.votes).toHaveLength(1);
    await expect(store.setSummary('no-such-id', '1.1')).rejects.toSatisfy((e) => codeOf(e) === 'NOT_FOUND');
  });
});
