/**
 * Atomic fail closed at intake (queries/intake.ts) and the intake reconciler
 * (queries/reconciler.ts), against real Redis, the real session log and the
 * real execute lane (queue/execute-lane.ts): a 503 leaves nothing that can run or be approved,
 * an accepted query is found and handed on even when its enqueue or its
 * review's opening failed, and an approval needs the `received` event.
 *
 * Stand-ins, each named where it is used: failures are injected by wrapping
 * the real adapters (an append that refuses, a create whose answer is lost
 * after it landed, an enqueue that refuses), because a real Redis outage would
 * fail every step at once and could not single out the one under test. The
 * process-level outage (Redis killed -9) is test/reliability/.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApprovalService } from '../../src/approvals/service.ts';
import { ApprovalStore } from '../../src/approvals/store.ts';
import type { AuditLog } from '../../src/audit/log.ts';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { AuditSearch } from '../../src/audit/search.ts';
import { AirlockError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/engine.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { Notifier } from '../../src/queries/notifier.ts';
import { IntakeReconciler } from '../../src/queries/reconciler.ts';
import { QueryService } from '../../src/queries/service.ts';
import { NOT_AFTER, QueryStore } from '../../src/queries/store.ts';
import type { QueryRecord, Requester } from '../../src/queries/types.ts';
import { ExecuteLane } from '../../src/queue/execute-lane.ts';
import { APPROVERS } from '../approvals/fixtures.ts';
import { shippedPolicy } from '../support/policies.ts';
import { cleanupPrefix, redisConnections, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';

const prefix = uniquePrefix('intake');
const logger = createLogger({ level: 'silent' });
const agent: Requester = { id: 'agent-i', name: 'agent-i', owner: 'owner@example.com', groups: [] };
const READ = 'select customer_id from analytics.public.customers limit 1';
const REVIEW = 'drop table analytics.public.customers';

const connections = redisConnections();
const { connect } = connections;
let engine: PolicyEngine;
let store: QueryStore;
let notifier: Notifier;
let log: RedisAuditLog;
let queue: ExecuteLane;
let command: Redis;

/** Whether the id waits in the lane's `ready` list (a job exists). */
const inLane = async (id: string) => (await command.lpos(queryKeys(prefix).ready, id)) !== null;
let approvalStore: ApprovalStore;

/** The real session log, with a switch that makes every append refuse (a stand-in for a log that is down). */
function switchableLog(): AuditLog & { down: boolean } {
  const wrapper = {
    down: false,
    append: (event: Parameters<AuditLog['append']>[0]) => (wrapper.down ? Promise.reject(new AirlockError('AUDIT_UNAVAILABLE', 'log down (test)')) : log.append(event)),
    received: (session: string) => log.received(session),
  };
  return wrapper;
}

function service(over: Partial<ConstructorParameters<typeof QueryService>[0]> = {}): QueryService {
  return new QueryService({
    store,
    notifier,
    queue,
    evaluate: (sql) => engine.evaluate(sql),
    logger,
    limits: { maxWaitMs: 2000, maxSqlBytes: 100_000, inlineRows: 100 },
    audit: log,
    approvals: { opened: async (r) => void (await approvalStore.init(r.id)) },
    ...over,
  });
}

function reconciler(over: Partial<ConstructorParameters<typeof IntakeReconciler>[0]> = {}): IntakeReconciler {
  // Grace 0 and a clock a second ahead: every entry is due at once.
  return new IntakeReconciler({ store, queue, logger, audit: log, approvals: { opened: async (r) => void (await approvalStore.init(r.id)) }, now: () => Date.now() + 1000, graceMs: 0, ...over });
}

async function transcript(id: string): Promise<string[]> {
  return (await new AuditSearch(log).transcript(id)).map((e) => e.type);
}

async function intakeIds(): Promise<string[]> {
  return store.intakeDue(Date.now() + 60_000, 1000);
}

beforeAll(async () => {
  engine = createPolicyEngine(await shippedPolicy());
  command = connect();
  store = new QueryStore(command, { prefix, resultTtlSeconds: 60 });
  notifier = new Notifier(connect(), command, prefix);
  log = new RedisAuditLog(command, { prefix });
  queue = new ExecuteLane(connect(), prefix);
  approvalStore = new ApprovalStore(command, { prefix, resultTtlSeconds: 60 });
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await notifier.close();
  connections.disconnectAll();
  await cleanupPrefix(prefix);
});

describe('a 503 from submit leaves nothing that can run or be approved', () => {
  it('the session log refuses received: AUDIT_UNAVAILABLE, no record, no job, no claim; the retry with the same key runs once', async () => {
    const audit = switchableLog();
    audit.down = true;
    const key = `k-${randomUUID()}`;
    const refused = await service({ audit }).submit(agent, { sql: READ, idempotencyKey: key }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    const id = (refused as AirlockError).details.id as string;
    expect(await store.get(id)).toBeUndefined();
    expect(await inLane(id)).toBe(false);
    expect(await store.claimed(agent.id, key)).toBeUndefined();
    audit.down = false;
    const first = await service({ audit }).submit(agent, { sql: READ, idempotencyKey: key });
    const again = await service({ audit }).submit(agent, { sql: READ, idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect(first.status).toBe('queued');
    expect(await inLane(first.id)).toBe(true);
    expect(await transcript(first.id)).toEqual(['received', 'decided']);
  });

  it('the create is refused: STORE_UNAVAILABLE, no record; the session log closes the request with failed', async () => {
    const down = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    down.on('error', () => undefined);
    const deadStore = new QueryStore(down, { prefix, resultTtlSeconds: 60 });
    const refused = await service({ store: deadStore, abandon: { everyMs: 20, forMs: 200 } })
      .submit(agent, { sql: READ })
      .catch((e: unknown) => e);
    down.disconnect();
    expect(refused).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const id = (refused as AirlockError).details.id as string;
    expect(await store.get(id)).toBeUndefined();
    await until('the request is closed in the session log', async () => ((await transcript(id)).includes('failed') ? true : undefined), 5000);
    expect(await transcript(id)).toEqual(['received', 'decided', 'failed']);
  });

  it.each([
    ['an allowed read', READ],
    ['a review', REVIEW],
  ])('%s whose create landed although its answer was lost ends failed, never enqueued or approvable', async (_, sql) => {
    const real = store.createAfter.bind(store);
    // Stand-in for a reply lost on the wire: the create runs in Redis, the caller sees an error.
    vi.spyOn(store, 'createAfter').mockImplementationOnce(async (...args) => {
      await real(...args);
      throw new AirlockError('STORE_UNAVAILABLE', 'reply lost (test)');
    });
    const refused = await service({ abandon: { everyMs: 20, forMs: 5000 } })
      .submit(agent, { sql })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const id = (refused as AirlockError).details.id as string;
    const failed = await until('the landed record is marked failed', async () => ((await store.get(id))?.status === 'failed' ? store.get(id) : undefined), 5000);
    expect(failed!.error?.code).toBe('STORE_UNAVAILABLE');
    const report = await reconciler().pass();
    expect(report?.dropped).toContain(id);
    expect(await inLane(id)).toBe(false);
    expect(await transcript(id)).toEqual(['received', 'decided', 'failed']);
  });
});

describe('the create rides right behind the append (one round trip), checked inside Redis', () => {
  it('a create for a query the session log does not hold writes nothing', async () => {
    const now = new Date().toISOString();
    const record: QueryRecord = { id: randomUUID(), status: 'queued', sql: READ, requester: agent, decision: engine.evaluate(READ), createdAt: now, updatedAt: now, readOnly: true };
    expect(await store.createAfter(record, undefined, log.sessionKey(record.id))).toBe(NOT_AFTER);
    expect(await store.get(record.id)).toBeUndefined();
    expect(await intakeIds()).not.toContain(record.id);
  });

  it('when another writer moved the chain head, the refused create is made again behind the append: one record, logged once', async () => {
    // Another process appends, so this process's cached head is stale and its first append is refused and re-sent.
    await service().submit(agent, { sql: READ });
    await new RedisAuditLog(connect(), { prefix }).append({ type: 'received', session: `other-${randomUUID()}`, actor: 'agent-x', data: { agent: 'agent-x', groups: [], sql: 'select 1', sqlSha256: 'x', fingerprint: 'x' } });
    const creates = vi.spyOn(store, 'createAfter');
    const view = await service().submit(agent, { sql: READ });
    expect(creates).toHaveBeenCalledTimes(2);
    expect(await creates.mock.results[0]!.value).toBe(NOT_AFTER);
    expect((await store.get(view.id))?.status).toBe('queued');
    expect(await transcript(view.id)).toEqual(['received', 'decided']);
  });

  it('a log whose answer is lost after the append and the create both landed: 503 AUDIT_UNAVAILABLE, and the record ends failed', async () => {
    // Stand-in for an answer lost on the wire: the real log stores the events, the caller sees it refuse.
    const lossy: AuditLog = {
      append: (event) => log.append(event),
      sessionKey: (session) => log.sessionKey(session),
      appendSent: (events) => {
        const real = log.appendSent(events);
        return { sent: real.sent, stored: real.stored.then(() => Promise.reject(new AirlockError('AUDIT_UNAVAILABLE', 'answer lost (test)'))) };
      },
    };
    const refused = await service({ audit: lossy, abandon: { everyMs: 20, forMs: 5000 } })
      .submit(agent, { sql: REVIEW })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    const id = (refused as AirlockError).details.id as string;
    const failed = await until('the landed record is marked failed', async () => ((await store.get(id))?.status === 'failed' ? store.get(id) : undefined), 5000);
    expect(failed!.error?.code).toBe('AUDIT_UNAVAILABLE');
    expect(await transcript(id)).toEqual(['received', 'decided', 'failed']);
  });
});

describe('a retry whose query cannot be read', () => {
  it('answers 503 naming the accepted query it replays (details.accepted), which keeps its course', async () => {
    const key = `k-${randomUUID()}`;
    const first = await service().submit(agent, { sql: READ, idempotencyKey: key });
    vi.spyOn(store, 'get').mockRejectedValueOnce(new AirlockError('STORE_UNAVAILABLE', 'read failed (test)'));
    const refused = await service().submit(agent, { sql: READ, idempotencyKey: key }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'STORE_UNAVAILABLE', details: { id: first.id, accepted: true } });
    expect(await inLane(first.id)).toBe(true);
  });
});

describe('an accepted query is found and handed on', () => {
  it('the job queue refuses: the submit is still accepted (queued), and the reconciler enqueues it once', async () => {
    vi.spyOn(queue, 'enqueue').mockRejectedValueOnce(new AirlockError('QUEUE_UNAVAILABLE', 'queue down (test)'));
    const view = await service().submit(agent, { sql: READ });
    expect(view.status).toBe('queued');
    expect(await inLane(view.id)).toBe(false);
    expect(await intakeIds()).toContain(view.id);
    const report = await reconciler().pass();
    expect(report?.enqueued).toEqual([view.id]);
    expect(await inLane(view.id)).toBe(true);
    expect(await intakeIds()).not.toContain(view.id);
    // Handed on: another pass does not push it again.
    await reconciler().pass();
    expect(await command.lpos(queryKeys(prefix).ready, view.id, 'COUNT', 0)).toHaveLength(1);
  });

  it('a read that fails after the create answers with the record as created, not 503', async () => {
    vi.spyOn(store, 'get').mockRejectedValue(new AirlockError('STORE_UNAVAILABLE', 'read failed (test)'));
    const view = await service().submit(agent, { sql: READ });
    vi.restoreAllMocks();
    expect(view.status).toBe('queued');
    expect(await inLane(view.id)).toBe(true);
  });

  it('a review whose opening failed is accepted as pending_approval and opened by the reconciler', async () => {
    const view = await service({ approvals: { opened: () => Promise.reject(new AirlockError('STORE_UNAVAILABLE', 'down (test)')) } }).submit(agent, { sql: REVIEW });
    expect(view.status).toBe('pending_approval');
    expect((await store.get(view.id))?.approval).toBeUndefined();
    const report = await reconciler().pass();
    expect(report?.opened).toContain(view.id);
    expect((await store.get(view.id))?.approval).toBeDefined();
  });

  it('a queued query nobody could hand on within the window ends failed QUEUE_UNAVAILABLE instead of running late', async () => {
    vi.spyOn(queue, 'enqueue').mockRejectedValueOnce(new AirlockError('QUEUE_UNAVAILABLE', 'queue down (test)'));
    const view = await service().submit(agent, { sql: READ });
    const report = await reconciler({ now: () => Date.now() + 3_600_000 }).pass();
    expect(report?.failed).toContain(view.id);
    const record = await store.get(view.id);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'QUEUE_UNAVAILABLE' } });
    expect(await inLane(view.id)).toBe(false);
  });

  it('after its own Redis failed, the reconciler holds back for the grace period', async () => {
    const r = reconciler({ graceMs: 60_000 });
    vi.spyOn(store, 'intakeDue').mockRejectedValueOnce(new AirlockError('STORE_UNAVAILABLE', 'down (test)'));
    expect(await r.pass()).toBeUndefined();
    // Redis answers again, but the grace period has not passed: nothing is handed on yet.
    expect(await r.pass()).toBeUndefined();
  });
});

describe('approval needs the received event', () => {
  const CARD = { channel: 'C0CARDS', ts: '1700000000.000100' };
  const AT = { origin: { via: 'button' as const, channel: CARD.channel, messageTs: CARD.ts } };
  function approvals(): ApprovalService {
    return new ApprovalService({
      store: approvalStore,
      queries: store,
      queue: { enqueue: async () => undefined },
      directory: { usergroupsOf: async () => [] },
      approvers: APPROVERS,
      logger,
      expiry: { schedule: async () => undefined, cancel: async () => undefined },
      audit: log,
    });
  }
  async function withCard(record: QueryRecord): Promise<void> {
    await approvalStore.init(record.id);
    await approvalStore.setCard(record.id, { ...CARD, postedAt: new Date().toISOString() });
  }

  it('a review record whose session log holds no received is refused (unaudited); one submitted through intake is not', async () => {
    const now = new Date().toISOString();
    const bare: QueryRecord = { id: randomUUID(), status: 'pending_approval', sql: REVIEW, requester: agent, decision: engine.evaluate(REVIEW), createdAt: now, updatedAt: now, readOnly: false };
    await store.create(bare);
    await withCard(bare);
    const voter = { slackUserId: 'U002', name: 'user2', email: 'user2@example.com' };
    const refused = await approvals().vote(bare.id, voter, 'approve', AT);
    expect(refused.outcome).toBe('unaudited');
    expect(approvalOf(await store.get(bare.id)).votes).toEqual([]);

    const submitted = await service().submit(agent, { sql: REVIEW });
    await withCard((await store.get(submitted.id))!);
    const counted = await approvals().vote(submitted.id, voter, 'approve', AT);
    expect(counted.outcome).toBe('recorded');
  });
});

function approvalOf(record: QueryRecord | undefined): { votes: unknown[] } {
  return { votes: record?.approval?.votes ?? [] };
}
