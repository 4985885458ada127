/**
 * The long-poll's wake-up, against real Redis: the store announces a query on
 * the `finished` channel exactly when it reaches a terminal status (every
 * change still goes to `events`), and a waiting submit, listening since before
 * its job existed, answers with the record and its first result page as the
 * worker left them, reading the record once.
 *
 * Stand-ins: the execute queue accepts jobs without running them and this
 * test plays the worker (running, result stored, succeeded) through the real
 * store, so the moment of each change is the test's to choose.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { Notifier } from '../../src/queries/notifier.ts';
import { QueryService } from '../../src/queries/service.ts';
import { QueryStore } from '../../src/queries/store.ts';
import type { Requester } from '../../src/queries/types.ts';
import { ALLOWED_SELECT, queuedRead } from '../support/records.ts';
import { cleanupPrefix, redisConnections, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';

const prefix = uniquePrefix('wake');
const keys = queryKeys(prefix);
const connections = redisConnections();
const agent: Requester = { id: 'agent-w', name: 'agent-w', groups: [] };
const enqueued: string[] = [];
let store: QueryStore;
let service: QueryService;

beforeAll(() => {
  store = new QueryStore(connections.connect(), { prefix, resultTtlSeconds: 60 });
  service = new QueryService({
    store,
    notifier: new Notifier(connections.connect(), connections.connect(), prefix),
    queue: {
      enqueue: async (id) => {
        enqueued.push(id);
      },
      remove: async () => false,
    },
    evaluate: () => ALLOWED_SELECT,
    logger: createLogger({ level: 'silent' }),
    limits: { maxWaitMs: 10_000, maxSqlBytes: 10_000, inlineRows: 100 },
  });
});

afterAll(async () => {
  connections.disconnectAll();
  await cleanupPrefix(prefix);
});

const queued = () => queuedRead(agent);

/** Messages per channel while `steps` run. */
async function heard(steps: () => Promise<void>): Promise<{ events: string[]; finished: string[] }> {
  const sub = connections.connect();
  const got = { events: [] as string[], finished: [] as string[] };
  sub.on('message', (channel: string, id: string) => (channel === keys.finished ? got.finished : got.events).push(id));
  await sub.subscribe(keys.events, keys.finished);
  await steps();
  // A marker change published after the steps: once it is heard, everything before it was too.
  const marker = queued();
  await store.create(marker);
  await store.transition(marker.id, ['queued'], { status: 'cancelled' });
  await until('the marker to be heard', () => got.finished.includes(marker.id));
  sub.disconnect();
  return { events: got.events.filter((id) => id !== marker.id), finished: got.finished.filter((id) => id !== marker.id) };
}

describe('the finished channel', () => {
  it('announces a terminal status only; every change still goes to events', async () => {
    const r = queued();
    await store.create(r);
    const running = await heard(() => store.transition(r.id, ['queued'], { status: 'running' }).then(() => undefined));
    expect(running).toEqual({ events: [r.id], finished: [] });
    const done = await heard(() => store.transition(r.id, ['running'], { status: 'succeeded' }).then(() => undefined));
    expect(done).toEqual({ events: [r.id], finished: [r.id] });
  });
});

describe('a long-polling submit', () => {
  it('sleeps through running and answers with the stored rows and the record’s truncation once it succeeds', async () => {
    const reads = vi.spyOn(store, 'get');
    const answer = service.submit(agent, { sql: 'select 1', waitMs: 8000 });
    const id = await until('the job to be enqueued', () => enqueued.at(-1));
    let settled = false;
    void answer.then(() => (settled = true));
    await store.transition(id, ['queued'], { status: 'running' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(settled).toBe(false);
    async function* rows() {
      yield [1, 'a'];
      yield [2, 'b'];
    }
    const saved = await store.saveResult(id, [{ name: 'N', type: 'fixed', nullable: false, precision: null, scale: null }, { name: 'S', type: 'text', nullable: true, precision: null, scale: null }], rows());
    const finishedAt = performance.now();
    await store.transition(id, ['running'], {
      status: 'succeeded',
      execution: { startedAt: new Date().toISOString(), rowCount: saved.rowCount, truncated: true, truncatedBy: 'rows', attempts: 1 },
    });
    const view = await answer;
    // Woken by the change, not by the 8 s deadline.
    expect(performance.now() - finishedAt).toBeLessThan(4000);
    expect(view.status).toBe('succeeded');
    expect(view.result).toMatchObject({ rows: [[1, 'a'], [2, 'b']], rowCount: 2, truncated: true, truncatedBy: 'rows' });
    // It listened before the job existed: the record is read once, after the wake-up (with the page).
    expect(reads).toHaveBeenCalledTimes(1);
    reads.mockRestore();
  });

  it('answers at the deadline with the record as it is when nothing finishes', async () => {
    const t0 = performance.now();
    const view = await service.submit(agent, { sql: 'select 1', waitMs: 300 });
    expect(view.status).toBe('queued');
    expect(view.result).toBeUndefined();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });
});
