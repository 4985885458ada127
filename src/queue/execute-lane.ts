/**
 * The execute lane: how a query that may run reaches a worker. Three Redis
 * structures (queries/keys.ts) and no job-queue library on the way, because
 * the allowed-read path is measured against the bare driver and every hop
 * counts (docs/benchmarks.md):
 *
 * - `ready`, a list of query ids: the API pushes an accepted query's id
 *   ({@link ExecuteLane.enqueue}); a worker blocked on BRPOP takes it at once.
 * - `leases`, id → expiry: the store's start step gives the query a lease in
 *   the same atomic write that makes it `running` (queries/store.ts); the
 *   worker renews the leases of what it runs every {@link LEASE_RENEW_MS}, and
 *   leaving `running` drops it.
 * - `delayed`, id → when: a read that failed transiently waits out its backoff
 *   here, and so does an id the sweeper put back, as a backstop.
 *
 * The sweeper (every worker, every {@link SWEEP_EVERY_MS}) moves what is due
 * to the head of `ready` in one script: delayed ids, and ids whose lease
 * lapsed — a worker that was killed. Whoever takes such an id finds the query
 * `running` without a lease and decides (queries/execution.ts): a read runs
 * again, a write ends `outcome_unknown`, never re-run. So a dead worker's
 * query is picked up within lease + sweep interval (about 6 s).
 *
 * Nothing here decides whether a query runs: the record's compare-and-set
 * does, so a duplicate id in `ready` (a reconciler's push, a sweep racing a
 * start) is skipped by whoever takes it second.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { queryKeys, type QueryKeys } from '../queries/keys.ts';
import type { ExecuteJobs } from '../queries/ports.ts';
import { logQueueErrors } from './error-log.ts';

/**
 * How long a running query's lease lasts without renewal (ms). A worker whose
 * event loop stalls longer than this loses the query to another, so it stays
 * well above the longest synchronous step (masking a page).
 */
export const EXECUTE_LEASE_MS = 5000;
/** How often a worker renews the leases of the queries it runs (ms): three chances per lease. */
export const LEASE_RENEW_MS = 1500;
/** How often each worker moves due delayed ids and lapsed leases back to `ready` (ms). */
export const SWEEP_EVERY_MS = 1000;
/** Ids moved per sweep, at most. */
const SWEEP_BATCH = 100;
/** How far into `ready` an enqueue looks for the id before pushing it again. */
const DEDUPE_SCAN = 100_000;

/** Push once: an id already waiting in `ready` is not pushed again. KEYS[1] ready; ARGV[1] id, ARGV[2] scan bound. */
const ENQUEUE_LUA = `
if redis.call('LPOS', KEYS[1], ARGV[1], 'MAXLEN', ARGV[2]) then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[1])
return 1
`;

/**
 * KEYS[1] ready, KEYS[2] leases, KEYS[3] delayed; ARGV[1] batch, ARGV[2] lease ms.
 * Due delayed ids and lapsed leases go to the head of `ready` (taken next).
 * A lapsed lease is dropped (the query is up for a take-over); each moved id
 * is (re)armed in `delayed` one lease from now, so an id lost between a
 * worker's BRPOP and its start step comes round again. Returns the count moved.
 */
const SWEEP_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local moved = 0
for _, key in ipairs({KEYS[2], KEYS[3]}) do
  local ids = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
  for _, id in ipairs(ids) do
    if key == KEYS[2] then redis.call('ZREM', KEYS[2], id) end
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), id)
    redis.call('RPUSH', KEYS[1], id)
    moved = moved + 1
  end
end
return moved
`;

/** KEYS[1] leases; ARGV[1] lease ms, ARGV[2..] ids. Extends the leases that still exist (a dropped one stays dropped). */
const RENEW_LUA = `
local t = redis.call('TIME')
local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i]) end
return #ARGV - 1
`;

type LaneScripts = {
  airlockLaneEnqueue(ready: string, id: string, scan: number): Promise<number>;
  airlockLaneSweep(ready: string, leases: string, delayed: string, batch: number, leaseMs: number): Promise<number>;
  airlockLaneRenew(leases: string, leaseMs: number, ...ids: string[]): Promise<number>;
};

function defineLaneCommands(redis: Redis): LaneScripts {
  redis.defineCommand('airlockLaneEnqueue', { numberOfKeys: 1, lua: ENQUEUE_LUA });
  redis.defineCommand('airlockLaneSweep', { numberOfKeys: 3, lua: SWEEP_LUA });
  redis.defineCommand('airlockLaneRenew', { numberOfKeys: 1, lua: RENEW_LUA });
  return redis as unknown as LaneScripts;
}

/** Producer side: the services' {@link ExecuteJobs}. */
export class ExecuteLane implements ExecuteJobs {
  private readonly keys: QueryKeys;
  private readonly scripts: LaneScripts;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = queryKeys(prefix);
    this.scripts = defineLaneCommands(redis);
  }

  /** Push the id to `ready` unless it already waits there. */
  async enqueue(queryId: string): Promise<void> {
    try {
      await this.scripts.airlockLaneEnqueue(this.keys.ready, queryId, DEDUPE_SCAN);
    } catch (err) {
      throw new AirlockError('QUEUE_UNAVAILABLE', 'The job queue (Redis) is unavailable; try again shortly.', { cause: err });
    }
  }

  /** Take a waiting id out of the lane; true when it was there (best effort: the record decides). */
  async remove(queryId: string): Promise<boolean> {
    try {
      const replies = (await this.redis.multi().lrem(this.keys.ready, 0, queryId).zrem(this.keys.delayed, queryId).exec()) ?? [];
      return replies.some(([, n]) => Number(n) > 0);
    } catch {
      return false;
    }
  }

  /** Ids waiting in `ready`, running under a lease, and waiting in `delayed` (for status and metrics). */
  async depth(): Promise<{ ready: number; running: number; delayed: number }> {
    const replies = ((await this.redis.multi().llen(this.keys.ready).zcard(this.keys.leases).zcard(this.keys.delayed).exec()) ?? []) as Array<[unknown, number]>;
    const [ready, running, delayed] = replies.map(([, n]) => Number(n));
    return { ready: ready ?? 0, running: running ?? 0, delayed: delayed ?? 0 };
  }
}

export interface LaneWorkerOptions {
  /** A connection of its own: it blocks on BRPOP (give it `maxRetriesPerRequest: null`). */
  blocking: Redis;
  /** Renewals and sweeps. */
  command: Redis;
  prefix: string;
  /** Queries run at once by this worker. */
  concurrency: number;
  logger: Logger;
  /** Runs one query; never expected to throw (a throw is logged, and the lease or the intake index brings the query back). */
  handle(queryId: string): Promise<void>;
  leaseMs?: number;
  renewEveryMs?: number;
  sweepEveryMs?: number;
}

/** A started lane worker. */
export interface LaneWorker {
  /** Ids being handled now. */
  inFlight(): ReadonlySet<string>;
  /**
   * Run `task` for query `id` in one of this worker's slots now, as if the id
   * had been taken from `ready` (its lease is renewed while it runs);
   * undefined when every slot is busy or the worker is stopping. The API of
   * the same process uses it to run an accepted query without the round trip
   * through `ready` (docs/benchmarks.md).
   */
  tryRun<T>(id: string, task: () => Promise<T>): Promise<T> | undefined;
  /** Stop taking ids, then wait until every query in hand is done (the caller bounds the wait by cancelling them). */
  close(): Promise<void>;
}

/** Take ids from the lane and run them, at most `concurrency` at once; see the module comment. */
export function startLaneWorker(options: LaneWorkerOptions): LaneWorker {
  const { blocking, command, concurrency, logger, handle } = options;
  const keys = queryKeys(options.prefix);
  const scripts = defineLaneCommands(command);
  const leaseMs = options.leaseMs ?? EXECUTE_LEASE_MS;
  const errors = new EventEmitter();
  logQueueErrors(errors, logger, { component: 'worker', queue: 'execute' });
  const inFlight = new Set<string>();
  const done = new Set<Promise<void>>();
  let stopped = false;
  let slotFreed: (() => void) | undefined;

  const track = <T>(id: string, task: () => Promise<T>): Promise<T> => {
    inFlight.add(id);
    const result = task();
    const p = result
      .then(
        () => undefined,
        (err: unknown) => logger.error({ component: 'worker', queryId: id, err: err instanceof Error ? err.message : String(err) }, 'execute: the query could not be handled; its lease or the reconciler brings it back'),
      )
      .finally(() => {
        inFlight.delete(id);
        done.delete(p);
        slotFreed?.();
      });
    done.add(p);
    return result;
  };
  const run = (id: string) => void track(id, () => handle(id)).catch(() => undefined);

  const takeLoop = async () => {
    while (!stopped) {
      if (inFlight.size >= concurrency) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = undefined;
        continue;
      }
      try {
        // A short block, so a stop is noticed within a second without cutting a BRPOP that took an id.
        const taken = await blocking.brpop(keys.ready, 1);
        if (!taken) continue;
        // The API of this process may have used the last slot while we waited: the id goes back, taken next.
        if (inFlight.size >= concurrency) await command.rpush(keys.ready, taken[1]);
        else run(taken[1]);
      } catch (err) {
        if (stopped) break;
        errors.emit('error', err instanceof Error ? err : new Error(String(err)));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  const loop = takeLoop();

  const renew = setInterval(() => {
    if (inFlight.size === 0) return;
    scripts.airlockLaneRenew(keys.leases, leaseMs, ...inFlight).catch((err: unknown) => errors.emit('error', err));
  }, options.renewEveryMs ?? LEASE_RENEW_MS);
  const sweep = setInterval(() => {
    scripts.airlockLaneSweep(keys.ready, keys.leases, keys.delayed, SWEEP_BATCH, leaseMs).catch((err: unknown) => errors.emit('error', err));
  }, options.sweepEveryMs ?? SWEEP_EVERY_MS);

  return {
    inFlight: () => inFlight,
    tryRun: (id, task) => (stopped || inFlight.size >= concurrency || inFlight.has(id) ? undefined : track(id, task)),
    async close() {
      stopped = true;
      clearInterval(sweep);
      slotFreed?.();
      await loop;
      while (done.size > 0) await Promise.allSettled([...done]);
      clearInterval(renew);
    },
  };
}
