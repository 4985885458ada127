/**
 * The expiry job on real BullMQ and Redis: a delayed job per review fires at
 * `expiresAt` and the record becomes `expired`; cancel removes it; a job that
 * fires early (clock skew) waits until the record is due.
 */
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalService } from '../../src/approvals/service.ts';
import { ApprovalStore } from '../../src/approvals/store.ts';
import { createLogger } from '../../src/log.ts';
import { QueryStore } from '../../src/queries/store.ts';
import type { QueryRecord } from '../../src/queries/types.ts';
import { ApprovalsQueue, expiryJobId, startApprovalsWorker } from '../../src/queue/approvals-queue.ts';
import { bullPrefix } from '../../src/queue/bull-prefix.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { APPROVERS, reviewRecord } from './fixtures.ts';

const prefix = uniquePrefix('approvals-expiry');
const connections: Redis[] = [];
const connect = () => {
  const c = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  connections.push(c);
  return c;
};
let queries: QueryStore;
let expiry: ApprovalsQueue;
let service: ApprovalService;
let worker: Worker;
let inspect: Queue;
const handled: string[] = [];

beforeAll(() => {
  const redis = connect();
  queries = new QueryStore(redis, { prefix, resultTtlSeconds: 60 });
  const store = new ApprovalStore(redis, { prefix, resultTtlSeconds: 60 });
  expiry = new ApprovalsQueue(connect(), prefix);
  service = new ApprovalService({
    store,
    queries,
    queue: { enqueue: async () => undefined },
    directory: { usergroupsOf: async () => [] },
    approvers: APPROVERS,
    logger: createLogger({ level: 'silent' }),
    expiry,
  });
  worker = startApprovalsWorker({
    connection: connect(),
    prefix,
    handle: async (id) => {
      handled.push(id);
      return service.expireOrWait(id);
    },
  });
  inspect = new Queue('approvals', { connection: connect(), prefix: bullPrefix(prefix) });
});

afterAll(async () => {
  await worker.close();
  await expiry.close();
  await inspect.close();
  for (const c of connections) c.disconnect();
  await cleanupPrefix(prefix);
});

/** A pending review whose expiry is `inMs` from now. */
async function expiringIn(inMs: number): Promise<QueryRecord> {
  const createdAt = new Date(Date.now() - 3_600_000 + inMs).toISOString();
  const r = reviewRecord({ expiresInSeconds: 3600 }, { createdAt, updatedAt: createdAt });
  await queries.create(r);
  return r;
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('expiry job', () => {
  it('fires at expiresAt and the review becomes expired', async () => {
    const r = await expiringIn(300);
    await service.opened(r);
    expect((await inspect.getJob(expiryJobId(r.id)))?.opts.delay).toBeGreaterThan(0);
    expect((await queries.get(r.id))!.status).toBe('pending_approval');
    const after = await until(() => queries.get(r.id), (x) => x?.status === 'expired');
    expect(after!.status).toBe('expired');
    expect(after!.error?.code).toBe('APPROVAL_EXPIRED');
    expect(Date.parse(after!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(after!.approval!.expiresAt));
  });

  it('schedules once per query', async () => {
    const r = await expiringIn(60_000);
    await service.opened(r);
    await service.opened(r);
    await expiry.schedule(r.id, new Date(Date.now() + 1000));
    const jobs = (await inspect.getDelayed()).filter((j) => j.data.queryId === r.id);
    expect(jobs).toHaveLength(1);
    await expiry.cancel(r.id);
  });

  it('cancel removes the delayed job, so nothing fires', async () => {
    const r = await expiringIn(300);
    await service.opened(r);
    await expiry.cancel(r.id);
    expect(await inspect.getJob(expiryJobId(r.id))).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(handled).not.toContain(r.id);
    // Not expired by the job; reads and votes still expire it lazily.
    expect((await queries.get(r.id))!.status).toBe('pending_approval');
  });

  it('a job that fires before the record is due waits until it is', async () => {
    const r = await expiringIn(700);
    await expiry.schedule(r.id, new Date()); // due now: as if this replica's clock ran ahead
    await until(async () => handled.filter((id) => id === r.id).length, (n) => n >= 1);
    expect((await queries.get(r.id))!.status).toBe('pending_approval');
    const after = await until(() => queries.get(r.id), (x) => x?.status === 'expired');
    expect(after!.status).toBe('expired');
    expect(Date.parse(after!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(after!.approval!.expiresAt));
    expect(handled.filter((id) => id === r.id).length).toBeGreaterThanOrEqual(2);
  });
});
