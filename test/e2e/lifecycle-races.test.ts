/**
 * Races in the query lifecycle, driven against real Redis with the services
 * wired by hand (a stand-in queue and warehouse), so each interleaving is
 * forced rather than hoped for.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AirlockError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { readFileSync } from 'node:fs';
import { createPolicyEngine } from '../../src/policy/engine.ts';
import { parsePolicy } from '../../src/policy/schema.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { Notifier } from '../../src/queries/notifier.ts';
import type { ExecuteJobs } from '../../src/queries/ports.ts';
import { ExecutionService } from '../../src/queries/execution.ts';
import { QueryService } from '../../src/queries/service.ts';
import { QueryStore } from '../../src/queries/store.ts';
import type { QueryRecord, Requester } from '../../src/queries/types.ts';
import type { Warehouse } from '../../src/warehouse/port.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';

const prefix = uniquePrefix('races');
const logger = createLogger({ level: 'silent' });
const agent: Requester = { id: 'agent-a', name: 'agent-a', groups: [] };
const connections: Redis[] = [];
const connect = () => {
  const c = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  connections.push(c);
  return c;
};
let store: QueryStore;
let notifier: Notifier;
const queue: ExecuteJobs = { enqueue: async () => undefined, remove: async () => true };

const parsed = parsePolicy(readFileSync('policies/default.yaml', 'utf8'));
if (!parsed.ok) throw new Error('the shipped policy is invalid');
const engine = createPolicyEngine(parsed.policy);
const evaluatePolicy = (sql: string) => engine.evaluate(sql);

function queries(): QueryService {
  return new QueryService({ store, notifier, queue, evaluate: evaluatePolicy, logger, limits: { maxWaitMs: 5000, maxSqlBytes: 100_000, inlineRows: 100 } });
}

function queuedRecord(sql = 'select 1'): QueryRecord {
  const now = new Date().toISOString();
  return { id: randomUUID(), status: 'queued', sql, requester: agent, decision: evaluatePolicy(sql), createdAt: now, updatedAt: now, readOnly: true };
}

beforeAll(() => {
  const command = connect();
  store = new QueryStore(command, { prefix, resultTtlSeconds: 60 });
  notifier = new Notifier(connect(), command, prefix);
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await notifier.close();
  for (const c of connections) c.disconnect();
  await cleanupPrefix(prefix);
});

describe('idempotency keys', () => {
  it('a create that failed leaves no claim: the retry with the same key runs', async () => {
    const service = queries();
    const key = `retry-${randomUUID()}`;
    vi.spyOn(store, 'createAfter').mockRejectedValueOnce(new AirlockError('STORE_UNAVAILABLE', 'Redis blinked.'));
    await expect(service.submit(agent, { sql: 'select 1', idempotencyKey: key })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const retried = await service.submit(agent, { sql: 'select 1', idempotencyKey: key });
    expect(retried.status).toBe('queued');
  });

  it('racing replays of one key all get the same query', async () => {
    const service = queries();
    const key = `race-${randomUUID()}`;
    const views = await Promise.all(Array.from({ length: 8 }, () => service.submit(agent, { sql: 'select 1', idempotencyKey: key })));
    expect(new Set(views.map((v) => v.id)).size).toBe(1);
  });
});

describe('cancel', () => {
  it('reaches the worker when the query started running after the API read it', async () => {
    const record = queuedRecord();
    await store.create(record);
    await store.transition(record.id, ['queued'], { status: 'running' });
    // A worker that honours cancel signals.
    await notifier.start();
    const off = notifier.on(notifier.channels.cancel, record.id, () => {
      void store.transition(record.id, ['running'], { status: 'cancelled', error: { code: 'WAREHOUSE_CANCELLED', message: 'cancelled' } });
    });
    // The API read the record while it was still queued.
    vi.spyOn(store, 'get').mockResolvedValueOnce(record);
    try {
      const view = await queries().cancel(agent, record.id);
      expect(view.status).toBe('cancelled');
    } finally {
      off();
    }
  });

  it('is not lost when it arrives the moment the worker marks the query running', async () => {
    const record = queuedRecord();
    await store.create(record);
    // The agent cancels as soon as it sees `running`; give pub/sub time to deliver.
    const cancelNow = async (id: string) => {
      await notifier.publishCancel(id);
      await new Promise((r) => setTimeout(r, 100));
    };
    const transition = store.transition.bind(store);
    vi.spyOn(store, 'transition').mockImplementation(async (id, from, patch) => {
      const updated = await transition(id, from, patch);
      if (patch.status === 'running') await cancelNow(id);
      return updated;
    });
    // A first start moves the query to running in one step (store.start): the same moment.
    const start = store.start.bind(store);
    vi.spyOn(store, 'start').mockImplementation(async (id, execution, leaseMs) => {
      const started = await start(id, execution, leaseMs);
      if (started) await cancelNow(id);
      return started;
    });
    const warehouse: Warehouse = {
      execute: async (_sql, options) => {
        if (options?.signal?.aborted) throw new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled.');
        return { queryId: randomUUID(), columns: [], rows: (async function* () {})(), truncated: false };
      },
      close: async () => undefined,
    };
    const execution = new ExecutionService({ store, notifier, warehouse, logger, limits: { statementTimeoutMs: 5000, maxRows: 10 }, leaseMs: 5000 });
    await execution.execute(record.id);
    expect((await store.get(record.id))?.status).toBe('cancelled');
  });
});

describe('shutdown', () => {
  /** A stand-in warehouse whose statement runs until it is aborted, as the driver reports it then. */
  const untilAborted = (started: () => void): Warehouse => ({
    execute: (_sql, options) =>
      new Promise((_resolve, reject) => {
        started();
        options?.signal?.addEventListener('abort', () => reject(new AirlockError('WAREHOUSE_CANCELLED', 'The statement was cancelled.')));
      }),
    close: async () => undefined,
  });

  async function runAndShutDown(record: QueryRecord): Promise<{ thrown: unknown; after: QueryRecord | undefined }> {
    await store.create(record);
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const execution = new ExecutionService({ store, notifier, warehouse: untilAborted(() => started()), logger, limits: { statementTimeoutMs: 60_000, maxRows: 10 }, leaseMs: 5000 });
    const job = execution.execute(record.id).then(
      () => undefined,
      (err: unknown) => err,
    );
    await running;
    execution.abortAll();
    const thrown = await job;
    return { thrown, after: await store.get(record.id) };
  }

  it('a read cut short by the shutdown goes back to the lane (queued, in the delayed set, no lease) so another worker runs it', async () => {
    const record = queuedRecord('select 1');
    const { thrown, after } = await runAndShutDown(record);
    expect(thrown).toBeUndefined();
    expect(after?.status).toBe('queued');
    const keys = queryKeys(prefix);
    const redis = connect();
    const [due, lease] = await Promise.all([redis.zscore(keys.delayed, record.id), redis.zscore(keys.leases, record.id)]);
    expect(lease).toBeNull();
    // Due after the first backoff (500 ms), by Redis's clock.
    const [seconds, micros] = await redis.time();
    expect(Number(due) - (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000))).toBeGreaterThan(0);
    expect(Number(due) - (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000))).toBeLessThanOrEqual(500);
  });

  it('a write cut short by the shutdown is not re-run: it ends cancelled', async () => {
    const write = { ...queuedRecord("update analytics.public.orders set status = 'X' where order_id = 1"), readOnly: false };
    const { thrown, after } = await runAndShutDown(write);
    expect(thrown).toBeUndefined();
    expect(after?.status).toBe('cancelled');
  });
});

describe('notifier', () => {
  it('retries a subscribe that failed instead of failing every later wait', async () => {
    const subscriber = connect();
    const local = new Notifier(subscriber, connect(), `${prefix}-n`);
    vi.spyOn(subscriber, 'subscribe').mockRejectedValueOnce(new Error('Connection is closed.'));
    await expect(local.start()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(local.start()).resolves.toBeUndefined();
    await local.close();
  });
});
