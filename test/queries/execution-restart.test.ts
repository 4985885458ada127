/**
 * What a worker does with a query whose previous worker died mid-statement
 * (its lease lapsed, the lane's sweeper put the id back; the record still says
 * `running`), what it does with one whose worker is alive (its lease holds),
 * and how `execution.attempts` counts starts. Real Redis and the
 * real store; the warehouse is a stand-in that counts the statements it is
 * given (what matters is whether it is called, not what it returns). The same
 * paths across real processes and a real SIGKILL: test/reliability/crash.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { ExecutionService } from '../../src/queries/execution.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { Notifier } from '../../src/queries/notifier.ts';
import { QueryStore } from '../../src/queries/store.ts';
import type { QueryRecord } from '../../src/queries/types.ts';
import type { Warehouse } from '../../src/warehouse/port.ts';
import { queuedRead } from '../support/records.ts';
import { cleanupPrefix, redisConnections, uniquePrefix } from '../support/redis.ts';

const AGENT = { id: 'agent-r', name: 'agent-r', groups: [] };

const prefix = uniquePrefix('restart');
const connections = redisConnections();
let store: QueryStore;
let notifier: Notifier;

/** Counts statements; fails the first `failing` of them as the warehouse being unreachable. */
function countingWarehouse(failing = 0): Warehouse & { calls: number } {
  const wh = {
    calls: 0,
    execute: async () => {
      wh.calls++;
      if (wh.calls <= failing) throw new AirlockError('WAREHOUSE_UNAVAILABLE', 'unreachable (test)');
      return { queryId: randomUUID(), columns: [], rows: (async function* () {})(), truncated: false };
    },
    close: async () => undefined,
  };
  return wh;
}

function execution(warehouse: Warehouse): ExecutionService {
  return new ExecutionService({ store, notifier, warehouse, logger: createLogger({ level: 'silent' }), limits: { statementTimeoutMs: 5000, maxRows: 10 }, leaseMs: 5000 });
}

/** A queued query, as a submit creates it: a read, or a write. */
async function createQueued(readOnly: boolean): Promise<QueryRecord> {
  const record = queuedRead(AGENT, readOnly ? {} : { sql: 'insert into t values (1)', readOnly: false });
  await store.create(record);
  return record;
}

/** A record as a worker that died mid-statement left it: running, started `attempts` times, its lease lapsed (`leaseMs` 0: gone; else a live worker's). */
async function leftRunning(readOnly: boolean, attempts: number, leaseMs?: number): Promise<QueryRecord> {
  const record = await createQueued(readOnly);
  await store.transition(record.id, ['queued'], { status: 'running', execution: { startedAt: new Date().toISOString(), attempts } }, leaseMs ? { leaseMs } : undefined);
  return record;
}

beforeAll(() => {
  const command = connections.connect();
  store = new QueryStore(command, { prefix, resultTtlSeconds: 60 });
  notifier = new Notifier(connections.connect(), command, prefix);
});

afterAll(async () => {
  await notifier.close();
  connections.disconnectAll();
  await cleanupPrefix(prefix);
});

describe('a query whose worker died', () => {
  it('a read runs again, and the restart counts as a start (attempts 2)', async () => {
    const r = await leftRunning(true, 1);
    const wh = countingWarehouse();
    await execution(wh).execute(r.id);
    expect(wh.calls).toBe(1);
    expect(await store.get(r.id)).toMatchObject({ status: 'succeeded', execution: { attempts: 2 } });
  });

  it('a write is never run again: outcome_unknown, attempts stay 1', async () => {
    const r = await leftRunning(false, 1);
    const wh = countingWarehouse();
    await execution(wh).execute(r.id);
    expect(wh.calls).toBe(0);
    expect(await store.get(r.id)).toMatchObject({ status: 'outcome_unknown', error: { code: 'OUTCOME_UNKNOWN' }, execution: { attempts: 1 } });
  });

  it('a read whose workers died three times is not started a fourth time', async () => {
    const r = await leftRunning(true, 3);
    const wh = countingWarehouse();
    await execution(wh).execute(r.id);
    expect(wh.calls).toBe(0);
    expect(await store.get(r.id)).toMatchObject({ status: 'failed', error: { code: 'INTERNAL' } });
  });

  it('a read the agent cancelled while its worker died ends cancelled, not run again; a write still ends outcome_unknown', async () => {
    const read = await leftRunning(true, 1);
    await store.requestCancel(read.id);
    const wh = countingWarehouse();
    await execution(wh).execute(read.id);
    expect(wh.calls).toBe(0);
    expect(await store.get(read.id)).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    const write = await leftRunning(false, 1);
    await store.requestCancel(write.id);
    await execution(wh).execute(write.id);
    expect(wh.calls).toBe(0);
    expect(await store.get(write.id)).toMatchObject({ status: 'outcome_unknown' });
  });

  it('two workers taking the same dead read at once run it once', async () => {
    const r = await leftRunning(true, 1);
    const wh = countingWarehouse();
    await Promise.all([execution(wh).execute(r.id), execution(wh).execute(r.id)]);
    expect(wh.calls).toBe(1);
    expect(await store.get(r.id)).toMatchObject({ status: 'succeeded', execution: { attempts: 2 } });
  });
});

describe('a query whose worker is alive (its lease holds)', () => {
  it('a duplicate id taken from the lane leaves a running read alone', async () => {
    const r = await leftRunning(true, 1, 30_000);
    const wh = countingWarehouse();
    await execution(wh).execute(r.id);
    expect(wh.calls).toBe(0);
    expect(await store.get(r.id)).toMatchObject({ status: 'running', execution: { attempts: 1 } });
  });

  it('a duplicate id taken from the lane leaves a running write alone (no outcome_unknown while it runs)', async () => {
    const r = await leftRunning(false, 1, 30_000);
    const wh = countingWarehouse();
    await execution(wh).execute(r.id);
    expect(wh.calls).toBe(0);
    expect(await store.get(r.id)).toMatchObject({ status: 'running' });
  });
});

describe('attempts count every start', () => {
  it('a read retried after a transient warehouse error counts both starts', async () => {
    const id = (await createQueued(true)).id;
    const wh = countingWarehouse(1);
    await execution(wh).execute(id);
    expect(await store.get(id)).toMatchObject({ status: 'queued', execution: { attempts: 1 } });
    // The retry comes from the lane's delayed set (what the sweeper moves back to `ready`).
    expect(await connections.connect().zscore(queryKeys(prefix).delayed, id)).not.toBeNull();
    await execution(wh).execute(id);
    expect(wh.calls).toBe(2);
    expect(await store.get(id)).toMatchObject({ status: 'succeeded', execution: { attempts: 2 } });
  });
});

describe('a run whose lease lapsed while it was alive (a stalled event loop)', () => {
  it('cannot record its outcome over the run that took the query over', async () => {
    const id = (await createQueued(true)).id;
    let release: () => void = () => undefined;
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const slow: Warehouse = {
      execute: async () => {
        started();
        await new Promise<void>((resolve) => (release = resolve));
        return { queryId: randomUUID(), columns: [], rows: (async function* () {})(), truncated: false };
      },
      close: async () => undefined,
    };
    const zombie = execution(slow).execute(id);
    await running;
    // Its lease lapses (the sweeper drops it) and another worker takes the read over.
    await connections.connect().zrem(queryKeys(prefix).leases, id);
    await store.transition(id, ['running'], { execution: { startedAt: new Date().toISOString(), attempts: 2 } }, { leaseMs: 5000, noLease: true, execution: JSON.stringify((await store.get(id))!.execution) });
    release();
    await zombie;
    // The first run's success (and its failure) were refused: the record is the take-over's.
    expect(await store.get(id)).toMatchObject({ status: 'running', execution: { attempts: 2 } });
  });
});

