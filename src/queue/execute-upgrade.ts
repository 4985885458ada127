/**
 * Upgrade from versions that carried execute jobs on a BullMQ queue
 * (`{prefix}:bull:execute:*`) to the execute lane (docs/deployment.md,
 * "Upgrading"). Each worker, as it starts, moves what the old queue still
 * holds into the lane: waiting (paused included), prioritized and delayed jobs are
 * enqueued; an active job whose lock has lapsed (its old worker is gone) gets
 * an already-lapsed lease, so the sweeper hands it to the lane's take-over
 * rules (a read runs again, a write ends `outcome_unknown`). An active job
 * whose lock is still held belongs to an old worker that is alive: it is left
 * to that worker, which is why the upgrade stops old workers first. Then the
 * old queue's keys are removed. Idempotent; a no-op once nothing is left.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { queryKeys } from '../queries/keys.ts';
import { bullPrefix } from './bull-prefix.ts';
import type { ExecuteLane } from './execute-lane.ts';

/** The name the old BullMQ queue had. */
const OLD_QUEUE = 'execute';

/** What one adoption did, for the log and tests. */
export interface Adopted {
  enqueued: number;
  recovered: number;
  leftToLiveWorkers: number;
}

/** Move an old install's BullMQ execute jobs into the lane; see the module comment. */
export async function adoptOldExecuteJobs(options: { connection: Redis; prefix: string; lane: ExecuteLane; logger: Logger }): Promise<Adopted> {
  const { connection, prefix, lane, logger } = options;
  const bull = bullPrefix(prefix);
  const done: Adopted = { enqueued: 0, recovered: 0, leftToLiveWorkers: 0 };
  // Nothing of the old queue: the common case costs one EXISTS.
  if ((await connection.exists(`${bull}:${OLD_QUEUE}:meta`, `${bull}:${OLD_QUEUE}:id`)) === 0) return done;
  const old = new Queue(OLD_QUEUE, { connection, prefix: bull });
  try {
    const idOf = (data: unknown) => (typeof (data as { queryId?: unknown })?.queryId === 'string' ? (data as { queryId: string }).queryId : undefined);
    for (const job of await old.getJobs(['wait', 'prioritized', 'delayed'])) {
      const id = idOf(job?.data);
      if (!id) continue;
      await lane.enqueue(id);
      done.enqueued++;
    }
    const leases = queryKeys(prefix).leases;
    for (const job of await old.getJobs(['active'])) {
      const id = idOf(job?.data);
      if (!id || !job.id) continue;
      if (await connection.exists(`${bull}:${OLD_QUEUE}:${job.id}:lock`)) {
        done.leftToLiveWorkers++;
        continue;
      }
      // A lease that lapsed long ago: the next sweep hands the query to the take-over rules.
      await connection.zadd(leases, 'NX', 0, id);
      done.recovered++;
    }
    if (done.leftToLiveWorkers === 0) await old.obliterate({ force: true });
  } finally {
    await old.close();
  }
  logger.warn({ component: 'worker', ...done }, 'upgrade: moved the old BullMQ execute queue into the execute lane');
  return done;
}
