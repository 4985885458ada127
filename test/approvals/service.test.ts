/**
 * ApprovalService against real Redis: eligibility (listed users, user groups,
 * separation of duties, fail-closed directory), quorum → exactly one enqueue,
 * and the expiry backstop.
 *
 * The execute queue here is a counting fake: it stands in for BullMQ because
 * ExecuteQueue's own dedupe is tested elsewhere; what this file proves is that
 * the approval path calls enqueue exactly once, guarded by the approved → queued
 * transition. The Directory and ExpiryScheduler are fakes for the same reason
 * (the Slack adapter and the BullMQ expiry queue have their own tests).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApprovalService, type Directory } from '../../src/approvals/service.ts';
import { ApprovalStore } from '../../src/approvals/store.ts';
import type { AuditEventInput } from '../../src/audit/events.ts';
import type { AuditLog } from '../../src/audit/log.ts';
import { eventOf, RedisAuditLog } from '../../src/audit/redis-log.ts';
import { AirlockError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { QueryStore, type RecordPatch } from '../../src/queries/store.ts';
import type { QueryRecord, QueryStatus } from '../../src/queries/types.ts';
import type { ExpiryScheduler } from '../../src/approvals/ports.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { APPROVERS, FINGERPRINT, OWNER, reviewRecord, voter } from './fixtures.ts';

const prefix = uniquePrefix('approvals-service');
const logger = createLogger({ level: 'silent' });
let redis: Redis;
let queries: QueryStore;
let store: ApprovalStore;

/** Counts enqueues; can be told to fail the next N calls. */
class CountingQueue {
  readonly calls: string[] = [];
  failNext = 0;
  async enqueue(id: string): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new AirlockError('QUEUE_UNAVAILABLE', 'queue down (test)');
    }
    this.calls.push(id);
  }
}

/** Mirrors BullMQ's job-id dedupe: a second schedule is a no-op until cancel removes the pending one. */
class FakeExpiry implements ExpiryScheduler {
  readonly scheduled = new Map<string, Date>();
  readonly cancelled: string[] = [];
  async schedule(id: string, at: Date): Promise<void> {
    if (!this.scheduled.has(id)) this.scheduled.set(id, at);
  }
  async cancel(id: string): Promise<void> {
    this.cancelled.push(id);
    this.scheduled.delete(id);
  }
}

/** U100 is in the SDATA user group; anything can be made to throw. */
class FakeDirectory implements Directory {
  lookups = 0;
  failing = false;
  groups = new Map<string, string[]>([['U100', ['SDATA']], ['U200', ['SOTHER']]]);
  async usergroupsOf(id: string): Promise<string[]> {
    this.lookups++;
    if (this.failing) throw new Error('slack down (test)');
    return this.groups.get(id) ?? [];
  }
}

/** Every record here gets this card; votes say they came from it. */
const CARD = { channel: 'C0CARDS', ts: '1700000000.000100' };
const AT = { origin: { via: 'button' as const, channel: CARD.channel, messageTs: CARD.ts } };

let queue: CountingQueue;
let expiry: FakeExpiry;
let directory: FakeDirectory;
let clock: Date | undefined;
let service: ApprovalService;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  queries = new QueryStore(redis, { prefix, resultTtlSeconds: 60 });
  store = new ApprovalStore(redis, { prefix, resultTtlSeconds: 60 });
});

beforeEach(() => {
  queue = new CountingQueue();
  expiry = new FakeExpiry();
  directory = new FakeDirectory();
  clock = undefined;
  service = new ApprovalService({ store, queries, queue, directory, approvers: APPROVERS, logger, expiry, clock: () => clock ?? new Date() });
});

afterAll(async () => {
  redis.disconnect();
  await cleanupPrefix(prefix);
});

async function opened(...args: Parameters<typeof reviewRecord>): Promise<QueryRecord> {
  const r = reviewRecord(...args);
  await queries.create(r);
  await service.opened(r);
  if (r.status === 'pending_approval') await store.setCard(r.id, { ...CARD, postedAt: new Date().toISOString() });
  return r;
}

async function statusOf(id: string): Promise<QueryStatus | undefined> {
  return (await queries.get(id))?.status;
}

describe('opened', () => {
  it('writes the initial state and schedules the expiry at expiresAt, once', async () => {
    const r = await opened({ expiresInSeconds: 120 });
    const at = new Date(Date.parse(r.createdAt) + 120_000);
    expect((await queries.get(r.id))!.approval).toMatchObject({ required: 2, groups: ['data-owners'], expiresAt: at.toISOString(), votes: [] });
    expect(expiry.scheduled.get(r.id)).toEqual(at);
    await service.opened(r);
    expect(expiry.scheduled.size).toBe(1);
  });

  it('does nothing for a query that is not a pending review', async () => {
    const r = reviewRecord({}, { status: 'queued' });
    await queries.create(r);
    await service.opened(r);
    expect(expiry.scheduled.size).toBe(0);
    expect((await queries.get(r.id))!.approval).toBeUndefined();
  });
});

describe('quorum', () => {
  it('two eligible approvers: the first is recorded, the second queues the query and enqueues it once', async () => {
    const r = await opened({ required: 2 });
    const first = await service.vote(r.id, voter(2), 'approve', AT);
    expect(first.outcome).toBe('recorded');
    expect(first.message).toBe('Your approval is recorded: 1 of 2 approvals so far.');
    expect(queue.calls).toEqual([]);
    const second = await service.vote(r.id, voter(100, { slackUserId: 'U100' }), 'approve', AT);
    expect(second.outcome).toBe('approved');
    expect(second.record.status).toBe('queued');
    expect(second.message).toBe('Your approval completed the quorum (2 of 2); the query is queued to run.');
    expect(queue.calls).toEqual([r.id]);
    expect(await statusOf(r.id)).toBe('queued');
  });

  it('50 concurrent clicks from 50 eligible users on required:2: two votes count, one transition, one enqueue', async () => {
    const r = await opened({ required: 2 });
    // Count the approved → queued transitions that actually happen.
    let released = 0;
    const transition = queries.transition.bind(queries);
    const spying = Object.assign(Object.create(Object.getPrototypeOf(queries) as object) as QueryStore, queries, {
      transition: async (id: string, from: QueryStatus[], patch: RecordPatch) => {
        const out = await transition(id, from, patch);
        if (from.includes('approved') && patch.status === 'queued') released++;
        return out;
      },
    });
    const svc = new ApprovalService({ store, queries: spying, queue, directory, approvers: APPROVERS, logger, expiry });
    // U002…U050 are listed by id; U100 is eligible through the SDATA user group.
    const voters = [...Array.from({ length: 49 }, (_, i) => voter(i + 2)), voter(100, { slackUserId: 'U100' })];
    const results = await Promise.all(voters.map((v) => svc.vote(r.id, v, 'approve', AT)));
    const count = (o: string) => results.filter((x) => x.outcome === o).length;
    expect({ recorded: count('recorded'), approved: count('approved'), not_pending: count('not_pending') }).toEqual({ recorded: 1, approved: 1, not_pending: 48 });
    expect(released).toBe(1);
    expect(queue.calls).toEqual([r.id]);
    const final = (await queries.get(r.id))!;
    expect(final.status).toBe('queued');
    expect(final.approval!.votes).toHaveLength(2);
  });

  it('a deny is final: the agent sees the reason, the expiry is cancelled, nothing is enqueued', async () => {
    const r = await opened({ required: 2 });
    await service.vote(r.id, voter(2), 'approve', AT);
    const denied = await service.vote(r.id, voter(3), 'deny', { ...AT, reason: 'Use the staging copy' });
    expect(denied.outcome).toBe('rejected');
    expect(denied.record.error).toMatchObject({ code: 'APPROVAL_REJECTED', message: 'Rejected by user3: Use the staging copy' });
    expect(expiry.cancelled).toEqual([r.id]);
    expect((await service.vote(r.id, voter(4), 'approve', AT)).outcome).toBe('not_pending');
    expect(queue.calls).toEqual([]);
  });

  it('refuses a deny without a reason before anything else (VALIDATION_FAILED)', async () => {
    const r = await opened();
    await expect(service.vote(r.id, voter(2), 'deny', { ...AT, reason: ' ' })).rejects.toSatisfy((e) => e instanceof AirlockError && e.code === 'VALIDATION_FAILED');
    expect((await queries.get(r.id))!.approval!.votes).toEqual([]);
  });

  it('a second click by the same user is a duplicate', async () => {
    const r = await opened({ required: 2 });
    await service.vote(r.id, voter(2), 'approve', AT);
    const again = await service.vote(r.id, voter(2), 'deny', { ...AT, reason: 'second thoughts' });
    expect(again.outcome).toBe('duplicate');
    expect(await statusOf(r.id)).toBe('pending_approval');
  });

  it('a vote on another fingerprint counts for nothing', async () => {
    const r = await opened({ required: 1 });
    const v = await service.vote(r.id, voter(2), 'approve', { ...AT, fingerprintSeen: 'b'.repeat(64) });
    expect(v.outcome).toBe('fingerprint_mismatch');
    expect((await service.vote(r.id, voter(2), 'approve', { ...AT, fingerprintSeen: FINGERPRINT })).outcome).toBe('approved');
  });

  it('after the agent cancels, a click is not_pending', async () => {
    const r = await opened();
    await queries.transition(r.id, ['pending_approval'], { status: 'cancelled' });
    const v = await service.vote(r.id, voter(2), 'approve', AT);
    expect(v.outcome).toBe('not_pending');
    expect(v.message).toBe('This query is no longer waiting for approval: it is cancelled.');
  });

  it('a click after expiresAt expires it, whoever clicks', async () => {
    const r = await opened({ expiresInSeconds: 60 });
    clock = new Date(Date.parse(r.createdAt) + 61_000);
    const v = await service.vote(r.id, voter(999, { slackUserId: 'U999' }), 'approve', AT);
    expect(v.outcome).toBe('expired');
    expect(v.record.status).toBe('expired');
    expect(v.record.error?.code).toBe('APPROVAL_EXPIRED');
    expect(expiry.cancelled).toEqual([r.id]);
  });

  it('an unknown query is NOT_FOUND', async () => {
    await expect(service.vote('no-such-id', voter(2), 'approve', AT)).rejects.toSatisfy((e) => e instanceof AirlockError && e.code === 'NOT_FOUND');
  });
});

describe('eligibility', () => {
  async function refused(r: QueryRecord, outcome: string, message: RegExp, v = voter(2)): Promise<void> {
    const reply = await service.vote(r.id, v, 'approve', AT);
    expect(reply.outcome).toBe(outcome);
    expect(reply.message).toMatch(message);
    expect((await queries.get(r.id))!.approval!.votes).toEqual([]);
  }

  it('the owner may not approve, even though listed', async () => {
    await refused(await opened({ required: 1 }), 'owner', /separation of duties/, OWNER);
  });

  it('the owner is recognised by email whatever its case', async () => {
    await refused(await opened({ required: 1 }), 'owner', /separation of duties/, { ...OWNER, email: OWNER.email!.toUpperCase() });
  });

  it('fails closed when the voter email is unknown', async () => {
    await refused(await opened({ required: 1 }), 'unverified', /cannot prove that you are not the agent's owner/, { slackUserId: 'U002' });
  });

  it('a voter whose email differs from the owner claim may vote', async () => {
    const r = await opened({ required: 1 });
    expect((await service.vote(r.id, voter(2), 'approve', AT)).outcome).toBe('approved');
  });

  it('a user in neither the listed users nor the user groups is ineligible', async () => {
    await refused(await opened(), 'ineligible', /needs approval from: data-owners/, voter(200, { slackUserId: 'U200' }));
  });

  it('a Directory failure refuses the vote and records nothing', async () => {
    directory.failing = true;
    await refused(await opened(), 'ineligible', /could not check your approver membership/, voter(100, { slackUserId: 'U100' }));
  });

  it('no approver groups: nobody may vote, the message names the approvers section, Slack is not asked', async () => {
    await refused(await opened({ groups: [] }), 'ineligible', /`approvers` section/);
    expect(directory.lookups).toBe(0);
  });

  it('a listed user does not cost a user-group lookup', async () => {
    directory.lookups = 0;
    const r = await opened({ required: 2 });
    await service.vote(r.id, voter(2), 'approve', AT);
    expect(directory.lookups).toBe(0);
  });
});

describe('release and backstop', () => {
  it('retries a failing enqueue', async () => {
    const r = await opened({ required: 1 });
    queue.failNext = 2;
    const v = await service.vote(r.id, voter(2), 'approve', AT);
    expect(v.record.status).toBe('queued');
    expect(queue.calls).toEqual([r.id]);
  });

  it('an enqueue that keeps failing leaves the query queued; the expiry job enqueues it later', async () => {
    const r = await opened({ required: 1 });
    queue.failNext = 10;
    await service.vote(r.id, voter(2), 'approve', AT);
    expect(queue.calls).toEqual([]);
    expect(await statusOf(r.id)).toBe('queued');
    queue.failNext = 0;
    expect(await service.expire(r.id)).toBeUndefined();
    expect(queue.calls).toEqual([r.id]);
  });

  it('an approval interrupted before release (a crashed replica) is released by the expiry job', async () => {
    const r = await opened({ required: 1 });
    // The vote lands, but the process dies before approved → queued.
    expect((await store.vote(r.id, { voter: voter(2), vote: 'approve', fingerprint: FINGERPRINT, now: new Date() })).outcome).toBe('approved');
    expect(await statusOf(r.id)).toBe('approved');
    await service.expire(r.id);
    expect(await statusOf(r.id)).toBe('queued');
    expect(queue.calls).toEqual([r.id]);
  });

  it('expire: nothing before expiresAt (with when to come back), expired after, once', async () => {
    const r = await opened({ expiresInSeconds: 60 });
    const at = new Date(Date.parse(r.createdAt) + 60_000);
    expect(await service.expireOrWait(r.id)).toEqual({ retryAt: at });
    clock = at;
    const expired = await service.expire(r.id);
    expect(expired?.status).toBe('expired');
    expect(await service.expire(r.id)).toBeUndefined();
    expect(await service.expire('no-such-id')).toBeUndefined();
  });
});

describe('the session log', () => {
  /**
   * The real Redis log behind a switch that makes appends fail: a stand-in for a
   * log outage that leaves the query store up (a real Redis outage takes both).
   */
  class SwitchableAudit implements AuditLog {
    down = false;
    constructor(readonly inner: RedisAuditLog) {}
    async append(event: AuditEventInput) {
      if (this.down) throw new AirlockError('AUDIT_UNAVAILABLE', 'audit down (test)');
      return this.inner.append(event);
    }
  }

  it('records votes, the approval and the rejection; an approval the log does not take is not released until it does', async () => {
    const log = new RedisAuditLog(redis, { prefix: `${prefix}:audit-test` });
    const audit = new SwitchableAudit(log);
    const svc = new ApprovalService({ store, queries, queue, directory, approvers: APPROVERS, logger, expiry, audit, clock: () => clock ?? new Date() });
    const all = async () => {
      const out = [];
      for await (const entry of log.entries()) out.push(eventOf(entry));
      return out;
    };
    const events = async (id: string) => (await all()).filter((e) => e.session === id).map((e) => e.type);

    clock = new Date();
    const a = await opened({ required: 2 });
    await svc.vote(a.id, voter(2), 'approve', AT);
    audit.down = true;
    const second = await svc.vote(a.id, voter(3), 'approve', AT);
    // The quorum is reached, but without `approved` in the log nothing is released.
    expect(second.outcome).toBe('approved');
    expect(await statusOf(a.id)).toBe('approved');
    expect(queue.calls).toEqual([]);
    // The expiry job, due at expiresAt (an hour away), is brought forward to try again in 30 s.
    expect(expiry.cancelled).toContain(a.id);
    expect(expiry.scheduled.get(a.id)).toEqual(new Date(clock!.getTime() + 30_000));
    // The expiry job asks to come back shortly while the log is down…
    const waiting = await svc.expireOrWait(a.id);
    expect(waiting.retryAt).toBeInstanceOf(Date);
    expect(queue.calls).toEqual([]);
    // …and releases the statement once the log takes the approval.
    audit.down = false;
    await svc.expireOrWait(a.id);
    expect(await statusOf(a.id)).toBe('queued');
    expect(queue.calls).toEqual([a.id]);
    // The second vote happened while the log was down: it is the one event missing, and the approval names both approvers.
    expect(await events(a.id)).toEqual(['vote', 'approved']);
    const approved = (await all()).find((e) => e.session === a.id && e.type === 'approved');
    expect(approved?.data).toEqual({ approvers: [voter(2).slackUserId, voter(3).slackUserId] });

    const d = await opened({ required: 1 });
    await svc.vote(d.id, voter(2), 'deny', { ...AT, reason: 'Use the aggregated view instead.' });
    expect(await events(d.id)).toEqual(['vote', 'rejected']);
  });

  it('a quorum click racing the expiry job records `approved` once and releases once', async () => {
    const log = new RedisAuditLog(redis, { prefix: `${prefix}:audit-race` });
    const svc = new ApprovalService({ store, queries, queue, directory, approvers: APPROVERS, logger, expiry, audit: log });
    const r = await opened({ required: 1 });
    // The vote lands; then several releases race (the click's own and expiry jobs on other replicas).
    expect((await store.vote(r.id, { voter: voter(2), vote: 'approve', fingerprint: FINGERPRINT, now: new Date() })).outcome).toBe('approved');
    await Promise.all(Array.from({ length: 8 }, () => svc.expireOrWait(r.id)));
    await svc.expireOrWait(r.id);
    const types: string[] = [];
    for await (const entry of log.entries()) types.push(eventOf(entry).type);
    expect(types).toEqual(['approved']);
    expect(await statusOf(r.id)).toBe('queued');
    expect(queue.calls.filter((id) => id === r.id).length).toBeGreaterThanOrEqual(1);
  });
});
