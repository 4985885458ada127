/**
 * The execute lane (src/queue/execute-lane.ts) against real Redis: ids reach
 * a worker at once and at most `concurrency` run together; an enqueue is
 * once; the sweeper brings back what is due (a lapsed lease: a dead worker;
 * a delayed retry) and re-arms it; renewals keep only live leases; a slot can
 * be used by the API of the same process; close waits for what runs. The
 * handler is a stand-in that records the ids it is given: what the lane does
 * with an id, not what running a query means (test/queries/execution-restart.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { ExecuteLane, startLaneWorker, type LaneWorker } from '../../src/queue/execute-lane.ts';
import { cleanupPrefix, redisConnections, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';

const connections = redisConnections();
const logger = createLogger({ level: 'silent' });
const prefixes: string[] = [];

function fresh(): { prefix: string; lane: ExecuteLane; keys: ReturnType<typeof queryKeys> } {
  const prefix = uniquePrefix('lane');
  prefixes.push(prefix);
  return { prefix, lane: new ExecuteLane(connections.connect(), prefix), keys: queryKeys(prefix) };
}

/** Redis's clock in ms (the lane's times are Redis's). */
async function redisNow(): Promise<number> {
  const [s, us] = await connections.connect().time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

const workers: LaneWorker[] = [];
function worker(prefix: string, handle: (id: string) => Promise<void>, over: { concurrency?: number; leaseMs?: number; sweepEveryMs?: number; renewEveryMs?: number } = {}): LaneWorker {
  const w = startLaneWorker({ blocking: connections.connect(), command: connections.connect(), prefix, concurrency: over.concurrency ?? 4, logger, handle, ...over });
  workers.push(w);
  return w;
}

beforeAll(() => undefined);

afterAll(async () => {
  for (const w of workers) await w.close();
  connections.disconnectAll();
  for (const p of prefixes) await cleanupPrefix(p);
});

describe('the execute lane', () => {
  it('pushes an id with its pickup backstop, and removes it from ready and delayed', async () => {
    const { lane, keys } = fresh();
    const redis = connections.connect();
    await lane.enqueue('q-1');
    await lane.enqueue('q-2');
    expect(await redis.lrange(keys.ready, 0, -1)).toEqual(['q-2', 'q-1']);
    // The backstop: must have started within PICKUP_MS (10 s) on Redis's clock.
    const due = Number(await redis.zscore(keys.delayed, 'q-1')) - (await redisNow());
    expect(due).toBeGreaterThan(8000);
    expect(due).toBeLessThanOrEqual(10_000);
    await redis.zadd(keys.delayed, 1, 'q-3');
    expect(await lane.remove('q-1')).toBe(true);
    expect(await lane.remove('q-3')).toBe(true);
    expect(await lane.remove('q-9')).toBe(false);
    expect(await redis.zscore(keys.delayed, 'q-1')).toBeNull();
    expect(await lane.depth()).toEqual({ ready: 1, running: 0, delayed: 1 });
  });

  it('hands ids over in the order they came, at most `concurrency` at a time', async () => {
    const { prefix, lane } = fresh();
    const seen: string[] = [];
    let running = 0;
    let most = 0;
    const release: Array<() => void> = [];
    worker(prefix, async (id) => {
      seen.push(id);
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
    }, { concurrency: 2 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await lane.enqueue(id);
    await until('two ids in hand', async () => (seen.length === 2 ? true : undefined), 5000);
    // The third waits in Redis until a slot frees.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual(['a', 'b']);
    while (seen.length < 5 || release.length > 0) {
      release.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(most).toBe(2);
  });

  it('brings back a dead worker’s query (its lease lapsed) and a due retry, re-armed in delayed', async () => {
    const { prefix, keys } = fresh();
    const redis = connections.connect();
    const now = await redisNow();
    // A lease that lapsed a second ago, one that holds for a minute, a retry due now, one due in a minute.
    await redis.zadd(keys.leases, now - 1000, 'dead', now + 60_000, 'alive');
    await redis.zadd(keys.delayed, now - 10, 'due', now + 60_000, 'later');
    const seen: string[] = [];
    worker(prefix, async (id) => void seen.push(id), { sweepEveryMs: 100, leaseMs: 5000 });
    await until('both come back', async () => (seen.length >= 2 ? true : undefined), 5000);
    expect(seen.sort()).toEqual(['dead', 'due']);
    // The lapsed lease is gone (the query is up for a take-over); both are re-armed one pickup (10 s) ahead, as a backstop.
    expect(await redis.zscore(keys.leases, 'dead')).toBeNull();
    expect(await redis.zscore(keys.leases, 'alive')).not.toBeNull();
    const rearmed = Number(await redis.zscore(keys.delayed, 'dead'));
    expect(rearmed - (await redisNow())).toBeGreaterThan(8000);
    expect(await redis.zscore(keys.delayed, 'later')).not.toBeNull();
  });

  it('does not push a due id that still waits in ready (a backlog), only re-arms it', async () => {
    const { prefix, keys } = fresh();
    const redis = connections.connect();
    const hold: Array<() => void> = [];
    let open = false;
    const w = worker(prefix, () => (open ? Promise.resolve() : new Promise<void>((resolve) => hold.push(resolve))), { concurrency: 1, sweepEveryMs: 50 });
    await redis.lpush(keys.ready, 'busy');
    await until('the only slot is taken', async () => (w.inFlight().size === 1 ? true : undefined), 5000);
    await redis.lpush(keys.ready, 'waiting');
    await redis.zadd(keys.delayed, (await redisNow()) - 1, 'waiting');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await redis.lrange(keys.ready, 0, -1)).toEqual(['waiting']);
    expect(Number(await redis.zscore(keys.delayed, 'waiting')) - (await redisNow())).toBeGreaterThan(8000);
    open = true;
    for (const release of hold.splice(0)) release();
  });

  it('renews the leases of the ids in hand, and never brings back one that was dropped', async () => {
    const { prefix, lane, keys } = fresh();
    const redis = connections.connect();
    let finish: () => void = () => undefined;
    worker(prefix, async (id) => {
      // What the store's start step does: the lease, as the query becomes running.
      const t = await redisNow();
      await redis.zadd(keys.leases, t + 400, id);
      await new Promise<void>((resolve) => (finish = resolve));
    }, { leaseMs: 400, renewEveryMs: 100, sweepEveryMs: 100 });
    await lane.enqueue('long');
    await until('the lease is taken', async () => ((await redis.zscore(keys.leases, 'long')) ? true : undefined), 5000);
    // Well past one lease, it is still held: renewed.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await redis.zscore(keys.leases, 'long')).not.toBeNull();
    expect(await redis.llen(keys.ready)).toBe(0);
    // Dropped (the query left running): a renewal does not bring it back.
    await redis.zrem(keys.leases, 'long');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await redis.zscore(keys.leases, 'long')).toBeNull();
    finish();
  });

  it('lends a free slot to the API of the same process, and refuses when every slot is busy', async () => {
    const { prefix, lane } = fresh();
    const seen: string[] = [];
    let release: () => void = () => undefined;
    const w = worker(prefix, async (id) => void seen.push(id), { concurrency: 1 });
    const held = w.tryRun('local-1', () => new Promise<string>((resolve) => (release = () => resolve('done'))));
    expect(held).toBeDefined();
    expect(w.tryRun('local-2', async () => 'x')).toBeUndefined();
    // The lane waits for the slot too.
    await lane.enqueue('queued-1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual([]);
    release();
    expect(await held).toBe('done');
    await until('the queued id runs', async () => (seen.length === 1 ? true : undefined), 5000);
  });

  it('close stops taking ids and waits for the ones in hand', async () => {
    const { prefix, lane, keys } = fresh();
    const redis = connections.connect();
    let finished = false;
    const w = worker(prefix, async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      finished = true;
    });
    await lane.enqueue('in-hand');
    await until('taken', async () => (w.inFlight().size === 1 ? true : undefined), 5000);
    await w.close();
    expect(finished).toBe(true);
    await lane.enqueue('after');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await redis.lrange(keys.ready, 0, -1)).toEqual(['after']);
  });
});
