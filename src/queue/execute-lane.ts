/**
 * The execute lane: how a query that may run reaches a worker. Three Redis
 * structures (queries/keys.ts) and no job-queue library on the way, because
 * the allowed-read path is measured against the bare driver and every hop
 * counts (docs/benchmarks.md):
 *
 * - `ready`, a list of query ids: {@link ExecuteLane.enqueue} pushes an
 *   accepted query's id; a worker blocked on BRPOP takes it at once.
 * - `leases`, id → expiry: the store's start step gives the query a lease in
 *   the same atomic write that makes it `running` (queries/store.ts); the
 *   worker renews the leases of what it runs every {@link LEASE_RENEW_MS}, and
 *   leaving `running` drops it.
 * - `delayed`, id → "must have started by": every enqueue arms one
 *   ({@link PICKUP_MS} ahead) in the same step as the push, a read that failed
 *   transiently waits out its backoff here, and the start step removes it. So
 *   an id a worker took with BRPOP and then lost (killed before its start
 *   step) comes round again.
 *
 * The sweeper (every worker, every {@link SWEEP_EVERY_MS}) looks at what is
 * due in one script: a due `delayed` id still waiting in `ready` is only
 * re-armed; any other is pushed to the head of `ready` (taken next) and
 * re-armed; a lapsed lease — a worker that was killed — is dropped, pushed and
 * armed the same way. Whoever takes such an id finds the query `running`
 * without a lease and decides (queries/execution.ts): a read runs again, a
 * write ends `outcome_unknown`, never re-run. So a dead worker's query is
 * picked up within lease + sweep interval (about 6 s).
 *
 * Nothing here decides whether a query runs: the record's compare-and-set
 * does, so a duplicate id in `ready` is skipped by whoever takes it second,
 * and a worker never takes an id it is already running.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { queryKeys, type QueryKeys } from '../queries/keys.ts';
import type { ExecuteOptions } from '../queries/execution.ts';
import type { Executed, ExecuteJobs, LocalRunner } from '../queries/ports.ts';
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
/**
 * How long an enqueued id may wait before the sweeper makes sure it is still
 * in `ready` (ms): the backstop for an id taken and lost between a worker's
 * BRPOP and its start step. Under a backlog an id still waiting is only
 * re-armed, never pushed twice.
 */
export const PICKUP_MS = 10_000;
/** Ids looked at per sweep and set, at most. */
const SWEEP_BATCH = 100;
/** How far into `ready` the sweeper looks for a due id before pushing it again. */
const WAITING_SCAN = 10_000;

/** KEYS[1] ready, KEYS[2] delayed; ARGV[1] id, ARGV[2] pickup ms. Push, and arm the pickup backstop, in one step. */
const ENQUEUE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return 1
`;

/**
 * KEYS[1] ready, KEYS[2] leases, KEYS[3] delayed; ARGV[1] batch, ARGV[2]
 * pickup ms, ARGV[3] scan bound. A lapsed lease is dropped (the query is up
 * for a take-over); it and every due delayed id are re-armed one pickup ahead
 * and pushed to the head of `ready` (taken next) — unless a due delayed id
 * still waits in `ready`. Returns the count pushed.
 */
const SWEEP_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pickup = now + tonumber(ARGV[2])
local pushed = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[3], pickup, id)
  redis.call('RPUSH', KEYS[1], id)
  pushed = pushed + 1
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))) do
  redis.call('ZADD', KEYS[3], pickup, id)
  if not redis.call('LPOS', KEYS[1], id, 'MAXLEN', tonumber(ARGV[3])) then
    redis.call('RPUSH', KEYS[1], id)
    pushed = pushed + 1
  end
end
return pushed
`;

/** KEYS[1] leases; ARGV[1] lease ms, ARGV[2..] ids. Extends the leases that still exist (a dropped one stays dropped). */
const RENEW_LUA = `
local t = redis.call('TIME')
local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i]) end
return #ARGV - 1
`;

type LaneScripts = {
  airlockLaneEnqueue(ready: string, delayed: string, id: string, pickupMs: number): Promise<number>;
  airlockLaneSweep(ready: string, leases: string, delayed: string, batch: number, pickupMs: number, scan: number): Promise<number>;
  airlockLaneRenew(leases: string, leaseMs: number, ...ids: string[]): Promise<number>;
};

function defineLaneCommands(redis: Redis): LaneScripts {
  redis.defineCommand('airlockLaneEnqueue', { numberOfKeys: 2, lua: ENQUEUE_LUA });
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
    private readonly pickupMs = PICKUP_MS,
  ) {
    this.keys = queryKeys(prefix);
    this.scripts = defineLaneCommands(redis);
  }

  /**
   * Push the id to `ready`, with its pickup backstop. The callers enqueue a
   * query once (the transition that made it `queued` is their guard); a
   * duplicate is harmless, skipped by whoever takes it second.
   */
  async enqueue(queryId: string): Promise<void> {
    try {
      await this.scripts.airlockLaneEnqueue(this.keys.ready, this.keys.delayed, queryId, this.pickupMs);
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
  pickupMs?: number;
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
        const id = taken[1];
        // A duplicate of a query this worker runs now: the run in hand owns it (and renews its lease).
        if (inFlight.has(id)) continue;
        // The API of this process may have used the last slot while we waited: the id goes back, taken next.
        if (inFlight.size >= concurrency) await command.rpush(keys.ready, id);
        else run(id);
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
    scripts.airlockLaneSweep(keys.ready, keys.leases, keys.delayed, SWEEP_BATCH, options.pickupMs ?? PICKUP_MS, WAITING_SCAN).catch((err: unknown) => errors.emit('error', err));
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

/**
 * The {@link LocalRunner} of a process with the api and worker roles: an
 * accepted query runs in one of `worker`'s free slots (`execute` is the
 * worker's ExecutionService.execute), and the caller hears as soon as the
 * outcome is stored; a run that fails on Redis rejects, so the caller hands
 * the query to the lane.
 */
export function localRunner(worker: LaneWorker, execute: (id: string, options: ExecuteOptions) => Promise<Executed | undefined>): LocalRunner {
  return {
    run(id, keepRows) {
      let told: (executed: Executed | undefined) => void = () => undefined;
      let failed: (err: unknown) => void = () => undefined;
      const stored = new Promise<Executed | undefined>((resolve, reject) => {
        told = resolve;
        failed = reject;
      });
      const task = worker.tryRun(id, () =>
        execute(id, { keepRows, onStored: told }).then(
          (executed) => void told(executed),
          (err: unknown) => {
            failed(err);
            throw err;
          },
        ),
      );
      return task ? stored : undefined;
    },
  };
}
