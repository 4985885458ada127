/**
 * QueryStore against real Redis: the atomic status transition is what keeps
 * racing workers, replicas and cancels to exactly one outcome.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/errors.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { PAGE_ROWS, QueryStore } from '../../src/queries/store.ts';
import type { QueryRecord } from '../../src/queries/types.ts';
import { queuedRead } from '../support/records.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';

const prefix = uniquePrefix('store');
let redis: Redis;
let store: QueryStore;

/** A queued, allowed read of agent-a (test/support/records.ts). */
const record = (overrides: Partial<QueryRecord> = {}): QueryRecord => queuedRead({ id: 'agent-a', name: 'agent-a', groups: [] }, overrides);

async function* rowsOf(n: number): AsyncGenerator<unknown[]> {
  for (let i = 0; i < n; i++) yield [i, `row ${i}`];
}

function codeOf(err: unknown): string | undefined {
  return err instanceof AirlockError ? err.code : undefined;
}

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  store = new QueryStore(redis, { prefix, resultTtlSeconds: 60 });
});

afterAll(async () => {
  redis.disconnect();
  await cleanupPrefix(prefix);
});

describe('records', () => {
  it('round-trips a record, empty arrays included', async () => {
    const r = record();
    await store.create(r);
    const back = await store.get(r.id);
    expect(back).toEqual(r);
    expect(back!.decision.reasons).toEqual([]);
  });

  it('refuses a second record with the same id, and answers the same create sent again as created', async () => {
    const r = record();
    await store.create(r);
    // A client resending after a dropped connection finds its own record: created, once.
    await expect(store.create(r)).resolves.toBeUndefined();
    await expect(store.create({ ...r, sql: 'select 2' })).rejects.toSatisfy((e) => codeOf(e) === 'STATE_CONFLICT');
  });

  it('moves only from an allowed status and names the current one otherwise', async () => {
    const r = record();
    await store.create(r);
    const running = await store.transition(r.id, ['queued'], { status: 'running' });
    expect(running.status).toBe('running');
    try {
      await store.transition(r.id, ['queued'], { status: 'cancelled' });
      expect.unreachable();
    } catch (err) {
      expect(codeOf(err)).toBe('STATE_CONFLICT');
      expect((err as AirlockError).details.status).toBe('running');
    }
    expect((await store.get(r.id))!.status).toBe('running');
  });

  it('lets exactly one of many racing transitions win', async () => {
    const r = record();
    await store.create(r);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.transition(r.id, ['queued'], { status: i % 2 ? 'running' : 'cancelled' })),
    );
    const won = results.filter((x) => x.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of results.filter((x) => x.status === 'rejected')) {
      expect(codeOf((lost as PromiseRejectedResult).reason)).toBe('STATE_CONFLICT');
    }
  });

  it('starts a queued query that never started in one step, with a lease, and nothing else', async () => {
    const keys = queryKeys(prefix);
    const fresh = record();
    await store.create(fresh);
    expect(await redis.zscore(keys.intake, fresh.id)).not.toBeNull();
    const started = await store.start(fresh.id, { startedAt: new Date().toISOString(), attempts: 1 }, 5000);
    expect(started).toMatchObject({ id: fresh.id, status: 'running', execution: { attempts: 1 }, sql: fresh.sql });
    // The lease runs about 5 s on Redis's clock, and the query has left the intake index (a worker has it).
    const [seconds] = await redis.time();
    const lease = Number(await redis.zscore(keys.leases, fresh.id));
    expect(lease - Number(seconds) * 1000).toBeGreaterThan(3000);
    expect(lease - Number(seconds) * 1000).toBeLessThanOrEqual(6000);
    expect(await redis.zscore(keys.intake, fresh.id)).toBeNull();
    // Started already: running, or queued again after a failure that may be retried (it has an execution).
    expect(await store.start(fresh.id, { startedAt: new Date().toISOString(), attempts: 2 }, 5000)).toBeUndefined();
    await store.transition(fresh.id, ['running'], { status: 'queued' });
    // Leaving running drops the lease.
    expect(await redis.zscore(keys.leases, fresh.id)).toBeNull();
    expect(await store.start(fresh.id, { startedAt: new Date().toISOString(), attempts: 2 }, 5000)).toBeUndefined();
    expect((await store.get(fresh.id))!.execution).toMatchObject({ attempts: 1 });
    const cancelled = record();
    await store.create(cancelled);
    await store.transition(cancelled.id, ['queued'], { status: 'cancelled' });
    expect(await store.start(cancelled.id, { startedAt: new Date().toISOString(), attempts: 1 }, 5000)).toBeUndefined();
    expect(await store.start('no-such-id', { startedAt: new Date().toISOString(), attempts: 1 }, 5000)).toBeUndefined();
  });

  it('keeps the execute lane in step: a take-over needs a lapsed lease, a retry is scheduled, an end clears both', async () => {
    const keys = queryKeys(prefix);
    const r = record();
    await store.create(r);
    await store.start(r.id, { startedAt: new Date().toISOString(), attempts: 1 }, 30_000);
    // A live lease: a take-over is refused, naming the status.
    await expect(store.transition(r.id, ['running'], { execution: { startedAt: new Date().toISOString(), attempts: 2 } }, { leaseMs: 5000, noLease: true })).rejects.toMatchObject({
      code: 'STATE_CONFLICT',
      details: { status: 'running' },
    });
    // Lapsed (the sweeper dropped it): one take-over wins.
    await redis.zrem(keys.leases, r.id);
    const takeOvers = await Promise.allSettled(
      [2, 2].map((attempts) => store.transition(r.id, ['running'], { execution: { startedAt: new Date().toISOString(), attempts } }, { leaseMs: 5000, noLease: true })),
    );
    expect(takeOvers.filter((t) => t.status === 'fulfilled')).toHaveLength(1);
    expect(await redis.zscore(keys.leases, r.id)).not.toBeNull();
    // A transient failure: queued again, due after the backoff, without a lease.
    await store.transition(r.id, ['running'], { status: 'queued' }, { retryAfterMs: 500 });
    expect(await redis.zscore(keys.leases, r.id)).toBeNull();
    expect(await redis.zscore(keys.delayed, r.id)).not.toBeNull();
    // A start by the retry's taker leaves the delayed set; the end of the query leaves the lease.
    await store.transition(r.id, ['queued'], { status: 'running' }, { leaseMs: 5000 });
    expect(await redis.zscore(keys.delayed, r.id)).toBeNull();
    await store.transition(r.id, ['running'], { status: 'failed', error: { code: 'INTERNAL', message: 'x' } });
    expect(await redis.zscore(keys.leases, r.id)).toBeNull();
    // A query cancelled while it waits out a backoff leaves the delayed set too.
    const waiting = record();
    await store.create(waiting);
    await store.start(waiting.id, { startedAt: new Date().toISOString(), attempts: 1 }, 5000);
    await store.transition(waiting.id, ['running'], { status: 'queued' }, { retryAfterMs: 60_000 });
    await store.transition(waiting.id, ['queued'], { status: 'cancelled', error: { code: 'CANCELLED', message: 'x' } });
    expect(await redis.zscore(keys.delayed, waiting.id)).toBeNull();
  });

  it('gives a finished record the result TTL', async () => {
    const r = record();
    await store.create(r);
    await store.transition(r.id, ['queued'], { status: 'failed', error: { code: 'INTERNAL', message: 'x' } });
    const ttl = await redis.ttl(`${prefix}:q:${r.id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('refuses a transition the lifecycle table does not allow, without touching the record', async () => {
    const r = record();
    await store.create(r);
    await expect(store.transition(r.id, ['queued'], { status: 'approved' })).rejects.toSatisfy((e) => codeOf(e) === 'INTERNAL');
    await expect(store.create(record({ status: 'running' }))).rejects.toSatisfy((e) => codeOf(e) === 'INTERNAL');
    expect(await store.get(r.id)).toEqual(r);
  });

  it('stamps updatedAt from its clock, not the wall clock', async () => {
    const at = new Date('2030-05-06T07:08:09.000Z');
    const timed = new QueryStore(redis, { prefix, resultTtlSeconds: 60, clock: () => at });
    const r = record();
    await timed.create(r);
    expect((await timed.transition(r.id, ['queued'], { status: 'running' })).updatedAt).toBe(at.toISOString());
  });

  it('says NOT_FOUND for an unknown id', async () => {
    await expect(store.transition(randomUUID(), ['queued'], { status: 'running' })).rejects.toSatisfy((e) => codeOf(e) === 'NOT_FOUND');
  });
});

describe('pending index', () => {
  // A prefix of its own: the list is per install.
  const own = uniquePrefix('store-pending');
  afterAll(() => cleanupPrefix(own));
  const pendingRecord = (at: string) => record({ status: 'pending_approval', createdAt: at, updatedAt: at });

  it('lists pending reviews newest first, and a decided one leaves the list in the same step', async () => {
    const s = new QueryStore(redis, { prefix: own, resultTtlSeconds: 60 });
    const older = pendingRecord('2026-01-01T00:00:00.000Z');
    const newer = pendingRecord('2026-01-02T00:00:00.000Z');
    const queued = record();
    for (const r of [older, newer, queued]) await s.create(r);
    expect((await s.pending(20)).map((r) => r.id)).toEqual([newer.id, older.id]);
    expect((await s.pending(1)).map((r) => r.id)).toEqual([newer.id]);
    await s.transition(newer.id, ['pending_approval'], { status: 'cancelled' });
    expect(await redis.zscore(queryKeys(own).pending, newer.id)).toBeNull();
    expect((await s.pending(20)).map((r) => r.id)).toEqual([older.id]);
  });

  it('finds pending records written before the index existed, and drops ids whose record is gone', async () => {
    const legacy = uniquePrefix('store-legacy');
    try {
      const writer = new QueryStore(redis, { prefix: legacy, resultTtlSeconds: 60 });
      const old = pendingRecord('2026-01-03T00:00:00.000Z');
      const gone = pendingRecord('2026-01-04T00:00:00.000Z');
      await writer.create(old);
      await writer.create(gone);
      // As the previous version left it: records, no index.
      await redis.del(queryKeys(legacy).pending, queryKeys(legacy).record(gone.id));
      const reader = new QueryStore(redis, { prefix: legacy, resultTtlSeconds: 60 });
      await redis.zadd(queryKeys(legacy).pending, String(Date.parse(gone.createdAt)), gone.id);
      expect((await reader.pending(20)).map((r) => r.id)).toEqual([old.id]);
      expect(await redis.zrange(queryKeys(legacy).pending, '0', '-1')).toEqual([old.id]);
    } finally {
      await cleanupPrefix(legacy);
    }
  });
});

describe('results', () => {
  const columns = [
    { name: 'N', type: 'fixed', nullable: false },
    { name: 'S', type: 'text', nullable: true },
  ];

  it('moves the record with the last page when asked: the patch sees what was stored', async () => {
    const r = record({ status: 'running' });
    await store.create({ ...r, status: 'queued' });
    await store.transition(r.id, ['queued'], { status: 'running' });
    const saved = await store.saveResult(r.id, columns, rowsOf(3), {
      from: ['running'],
      patch: (s) => ({ status: 'succeeded', execution: { startedAt: r.createdAt, rowCount: s.rowCount, resultSha256: s.sha256, attempts: 1 } }),
    });
    expect(saved.record).toMatchObject({ status: 'succeeded', execution: { rowCount: 3, resultSha256: saved.sha256 } });
    expect(await store.get(r.id)).toEqual(saved.record);
    expect((await store.readResult(r.id, 0, 10, false)).rows).toEqual([[0, 'row 0'], [1, 'row 1'], [2, 'row 2']]);
  });

  it('refuses the move like a transition when the record is elsewhere, and leaves the record as it was', async () => {
    const r = record();
    await store.create(r);
    await store.transition(r.id, ['queued'], { status: 'cancelled' });
    const attempt = store.saveResult(r.id, columns, rowsOf(2), { from: ['running'], patch: () => ({ status: 'succeeded' }) });
    await expect(attempt).rejects.toMatchObject({ code: 'STATE_CONFLICT', details: { status: 'cancelled' } });
    expect((await store.get(r.id))!.status).toBe('cancelled');
  });

  it('pages across page boundaries without losing or repeating rows', async () => {
    const id = randomUUID();
    const total = PAGE_ROWS * 2 + 37;
    const saved = await store.saveResult(id, columns, rowsOf(total));
    expect(saved.rowCount).toBe(total);
    const seen: unknown[] = [];
    let offset = 0;
    for (;;) {
      const page = await store.readResult(id, offset, 333, false);
      seen.push(...page.rows.map((r) => r[0]));
      if (!page.nextCursor) break;
      offset += page.rows.length;
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('hashes what it stores: same rows same hash, different rows different hash', async () => {
    const a = await store.saveResult(randomUUID(), columns, rowsOf(10));
    const b = await store.saveResult(randomUUID(), columns, rowsOf(10));
    const c = await store.saveResult(randomUUID(), columns, rowsOf(11));
    expect(a.sha256).toBe(b.sha256);
    expect(c.sha256).not.toBe(a.sha256);
  });

  it('stores an empty result', async () => {
    const id = randomUUID();
    await store.saveResult(id, columns, rowsOf(0));
    const page = await store.readResult(id, 0, 100, false);
    expect(page).toMatchObject({ rows: [], rowCount: 0, columns });
    expect(page.nextCursor).toBeUndefined();
  });

  it('says RESULT_EXPIRED when no result is stored', async () => {
    await expect(store.readResult(randomUUID(), 0, 10, false)).rejects.toSatisfy((e) => codeOf(e) === 'RESULT_EXPIRED');
  });
});
