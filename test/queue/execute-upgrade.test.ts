/**
 * Upgrading from the BullMQ execute queue (src/queue/execute-upgrade.ts): a
 * worker that starts on an install whose old queue still holds jobs moves them
 * into the lane — waiting and delayed jobs are enqueued, an active job whose
 * old worker is gone (no lock) gets a lapsed lease for the take-over rules, an
 * active job whose old worker still holds its lock is left alone — and
 * removes the old queue when nothing is left to a live worker. Real Redis and
 * a real BullMQ queue written as the previous version wrote it.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { bullPrefix } from '../../src/queue/bull-prefix.ts';
import { ExecuteLane } from '../../src/queue/execute-lane.ts';
import { adoptOldExecuteJobs } from '../../src/queue/execute-upgrade.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';

const logger = createLogger({ level: 'silent' });
const opened: Redis[] = [];
const prefixes: string[] = [];
const connect = () => {
  const c = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  opened.push(c);
  return c;
};

afterAll(async () => {
  for (const c of opened) c.disconnect();
  for (const p of prefixes) await cleanupPrefix(p);
});

/** The previous version's queue, as it enqueued: job id = query id, payload `{queryId}`. */
async function oldQueue(prefix: string) {
  const queue = new Queue('execute', { connection: connect(), prefix: bullPrefix(prefix) });
  const add = (id: string, delay = 0) => queue.add('execute', { queryId: id }, { jobId: id, ...(delay ? { delay } : {}) });
  return { queue, add };
}

describe('a worker starting on an install upgraded from the BullMQ execute queue', () => {
  it('enqueues waiting and delayed jobs, hands a dead worker’s active job to the take-over rules, and removes the old queue', async () => {
    const prefix = uniquePrefix('upgrade');
    prefixes.push(prefix);
    const { queue, add } = await oldQueue(prefix);
    await add('q-active');
    // An old worker took q-active and died: its lock is gone.
    const old = new Worker('execute', null, { connection: connect(), prefix: bullPrefix(prefix), lockDuration: 30_000 });
    const taken = await old.getNextJob('old-worker-token');
    expect(taken?.id).toBe('q-active');
    await old.close(true);
    await connect().del(`${bullPrefix(prefix)}:execute:q-active:lock`);
    await add('q-waiting');
    await add('q-delayed', 60_000);

    const command = connect();
    const lane = new ExecuteLane(command, prefix);
    const adopted = await adoptOldExecuteJobs({ connection: command, prefix, lane, logger });
    expect(adopted).toEqual({ enqueued: 2, recovered: 1, leftToLiveWorkers: 0 });
    const keys = queryKeys(prefix);
    expect((await command.lrange(keys.ready, 0, -1)).sort()).toEqual(['q-delayed', 'q-waiting']);
    expect(await command.zscore(keys.leases, 'q-active')).toBe('0');
    // The old queue is gone; a second start finds nothing to do.
    expect(await command.exists(`${bullPrefix(prefix)}:execute:meta`)).toBe(0);
    expect(await adoptOldExecuteJobs({ connection: command, prefix, lane, logger })).toEqual({ enqueued: 0, recovered: 0, leftToLiveWorkers: 0 });
    await queue.close();
  });

  it('leaves an active job whose old worker still holds the lock, and keeps the old queue for it', async () => {
    const prefix = uniquePrefix('upgrade-live');
    prefixes.push(prefix);
    const { queue, add } = await oldQueue(prefix);
    await add('q-live');
    const alive = new Worker('execute', null, { connection: connect(), prefix: bullPrefix(prefix), lockDuration: 60_000 });
    expect((await alive.getNextJob('live-token'))?.id).toBe('q-live');
    const command = connect();
    const adopted = await adoptOldExecuteJobs({ connection: command, prefix, lane: new ExecuteLane(command, prefix), logger });
    expect(adopted).toEqual({ enqueued: 0, recovered: 0, leftToLiveWorkers: 1 });
    expect(await command.zscore(queryKeys(prefix).leases, 'q-live')).toBeNull();
    expect(await command.exists(`${bullPrefix(prefix)}:execute:meta`)).toBe(1);
    await alive.close(true);
    await queue.close();
  });
});
