/**
 * A duplicate id in the execute lane taken by the worker process that already
 * runs that query (duplicates happen: a reconciler's push racing a start, a
 * sweep racing a take) leaves the run in hand alone: it stays tracked, its
 * lease stays renewed, a write is not turned `outcome_unknown` while it runs
 * and a read is not run a second time. And under a backlog the sweeper does
 * not push a due id that still waits in `ready`. Real Redis, store, execution
 * and lane worker; the warehouse is a stand-in whose statements hang until
 * released (what matters is how often it is called).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { ExecutionService } from '../../src/queries/execution.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { Notifier } from '../../src/queries/notifier.ts';
import { QueryStore } from '../../src/queries/store.ts';
import { ExecuteLane, startLaneWorker, type LaneWorker } from '../../src/queue/execute-lane.ts';
import type { Warehouse } from '../../src/warehouse/port.ts';
import { queuedRead } from '../support/records.ts';
import { cleanupPrefix, redisConnections, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';

const connections = redisConnections();
const logger = createLogger({ level: 'silent' });
const workers: LaneWorker[] = [];
const notifiers: Notifier[] = [];
const prefixes: string[] = [];

/** One install per test (its own prefix), so workers of other tests never take its ids. */
function install() {
  const prefix = uniquePrefix('lane-dup');
  prefixes.push(prefix);
  const command = connections.connect();
  const store = new QueryStore(command, { prefix, resultTtlSeconds: 60 });
  const notifier = new Notifier(connections.connect(), command, prefix);
  notifiers.push(notifier);
  return { prefix, command, store, notifier, lane: new ExecuteLane(command, prefix), keys: queryKeys(prefix) };
}
type Install = ReturnType<typeof install>;

const LEASE = 600;

/** A warehouse whose statements hang until released; counts calls. */
function hangingWarehouse(): Warehouse & { calls: number; release(): void } {
  const waiting: Array<() => void> = [];
  const wh = {
    calls: 0,
    release: () => { for (const r of waiting.splice(0)) r(); },
    execute: async () => {
      wh.calls++;
      await new Promise<void>((resolve) => waiting.push(resolve));
      return { queryId: randomUUID(), columns: [], rows: (async function* () {})(), truncated: false };
    },
    close: async () => undefined,
  };
  return wh;
}

async function queued({ store }: Install, readOnly: boolean): Promise<string> {
  const record = queuedRead({ id: 'agent-d', name: 'agent-d', groups: [] }, readOnly ? {} : { sql: 'insert into t values (1)', readOnly: false });
  await store.create(record);
  return record.id;
}

function oneWorkerProcess({ store, notifier, prefix }: Install, wh: Warehouse): { worker: LaneWorker } {
  const execution = new ExecutionService({ store, notifier, warehouse: wh, logger, limits: { statementTimeoutMs: 60_000, maxRows: 10 }, leaseMs: LEASE });
  const worker = startLaneWorker({
    blocking: connections.connect(),
    command: connections.connect(),
    prefix,
    concurrency: 2,
    logger,
    handle: async (id) => void (await execution.execute(id)),
    leaseMs: LEASE,
    renewEveryMs: 150,
    sweepEveryMs: 100,
  });
  workers.push(worker);
  return { worker };
}

afterAll(async () => {
  for (const w of workers) await w.close().catch(() => undefined);
  for (const n of notifiers) await n.close();
  connections.disconnectAll();
  for (const p of prefixes) await cleanupPrefix(p);
});

describe('a duplicate id taken by the worker that runs the query', () => {
  it('a running write stays running (never outcome_unknown while it runs)', async () => {
    const at = install();
    const { lane, command, keys, store } = at;
    const wh = hangingWarehouse();
    const { worker } = oneWorkerProcess(at, wh);
    const id = await queued(at, false);
    await lane.enqueue(id);
    await until('the write started', async () => (wh.calls === 1 ? true : undefined), 5000);
    expect(worker.inFlight().has(id)).toBe(true);
    // A duplicate (what the reconciler pushes when it read `queued` just before the start step).
    await lane.enqueue(id);
    await until('the duplicate was taken', async () => ((await command.llen(keys.ready)) === 0 ? true : undefined), 5000);
    await new Promise((r) => setTimeout(r, 100));
    // The skip of the duplicate leaves the run in hand tracked (its lease is renewed).
    const stillTracked = worker.inFlight().has(id);
    // Wait several lease lengths; a live worker's lease must hold.
    await new Promise((r) => setTimeout(r, LEASE * 4));
    const record = await store.get(id);
    wh.release();
    expect({ stillTracked, status: record?.status, warehouseCalls: wh.calls }).toEqual({ stillTracked: true, status: 'running', warehouseCalls: 1 });
  }, 20_000);

  it('a read is not run a second time while its first run is alive', async () => {
    const at = install();
    const { lane, store } = at;
    const wh = hangingWarehouse();
    oneWorkerProcess(at, wh);
    const id = await queued(at, true);
    await lane.enqueue(id);
    await until('the read started', async () => (wh.calls >= 1 ? true : undefined), 5000);
    await lane.enqueue(id);
    await new Promise((r) => setTimeout(r, LEASE * 5));
    const calls = wh.calls;
    const record = await store.get(id);
    wh.release();
    expect({ calls, attempts: record?.execution?.attempts }).toEqual({ calls: 1, attempts: 1 });
  }, 20_000);
});

describe('the sweeper under a backlog', () => {
  it('does not push a due delayed id again while it waits in `ready`: it is there once', async () => {
    const p = uniquePrefix('lane-dup-b');
    const k = queryKeys(p);
    const r = connections.connect();
    // No free slot anywhere: a worker whose two slots hang.
    const hold: Array<() => void> = [];
    const w = startLaneWorker({ blocking: connections.connect(), command: connections.connect(), prefix: p, concurrency: 2, logger, handle: () => new Promise<void>((res) => hold.push(res)), leaseMs: 300, renewEveryMs: 100, sweepEveryMs: 50 });
    workers.push(w);
    await r.lpush(k.ready, 'busy-1', 'busy-2');
    await until('slots full', async () => (w.inFlight().size === 2 ? true : undefined), 5000);
    const [s, us] = await r.time();
    await r.zadd(k.delayed, Number(s) * 1000 + Math.floor(Number(us) / 1000), 'retry-1');
    await new Promise((res) => setTimeout(res, 1000));
    const copies = (await r.lrange(k.ready, 0, -1)).filter((x) => x === 'retry-1').length;
    for (const f of hold.splice(0)) f();
    await w.close();
    await cleanupPrefix(p);
    expect(copies).toBe(1);
  }, 20_000);
});
