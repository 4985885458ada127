/**
 * The BullMQ queue that carries "execute this approved query" jobs, and its worker.
 *
 * Thin on purpose (STYLE habit 9): the payload is only the query id, parsed
 * with zod; the job id is the query id, so enqueueing twice is a no-op; the
 * processor calls one service function. Non-retryable failures are wrapped in
 * UnrecoverableError; transient ones are rethrown for backoff.
 */
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { AirlockError, isTransient } from '../errors.ts';
import type { ExecuteJobs } from '../queries/ports.ts';
import type { Logger } from '../log.ts';
import { logQueueErrors } from './error-log.ts';

export const EXECUTE_QUEUE = 'execute';

/**
 * How fast a dead worker's job is noticed (docs/reliability.md, crash
 * recovery). A live worker renews its lock every half `lockDuration`; once a
 * killed worker's lock lapses, the next stalled check (every
 * `stalledInterval`, run by any live worker) puts the job back in the queue:
 * at most lock + interval, about 7 s, after the kill. The processor then
 * re-runs a read and ends a write `outcome_unknown` (execution.ts). A worker
 * whose event loop stalls longer than the lock loses the job to another, so
 * the lock stays well above the longest synchronous step (masking a page).
 */
export const EXECUTE_LOCK_MS = 5000;
export const EXECUTE_STALLED_CHECK_MS = 2000;
/**
 * Stalls BullMQ tolerates before it fails a job without calling the
 * processor; kept above the processor's own limit on starts (execution.ts),
 * so a job always reaches the processor that decides its outcome.
 */
const MAX_STALLS = 10;

const payloadSchema = z.object({ queryId: z.string().min(1).max(100) });
export type ExecutePayload = z.infer<typeof payloadSchema>;

/** BullMQ keys live under `{prefix}:bull`, beside Airlock's own keys. */
export function bullPrefix(prefix: string): string {
  return `${prefix}:bull`;
}

/** Producer side: the services' {@link ExecuteJobs}. */
export class ExecuteQueue implements ExecuteJobs {
  private readonly queue: Queue<ExecutePayload>;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue<ExecutePayload>(EXECUTE_QUEUE, {
      connection,
      prefix: bullPrefix(prefix),
      defaultJobOptions: {
        attempts: 3,
        backoff: { type: 'exponential', delay: 500 },
        // Keep finished jobs briefly; the query record, not BullMQ, is the source of truth.
        removeOnComplete: { age: 300, count: 1000 },
        removeOnFail: { age: 24 * 3600 },
      },
    });
  }

  /** Log this queue's errors (a Redis outage) as one rate-limited line each, not BullMQ's stack traces. */
  logErrors(logger: Logger): this {
    logQueueErrors(this.queue, logger, { component: 'queue', queue: EXECUTE_QUEUE });
    return this;
  }

  /** Enqueue once: the job id is the query id, so a second call is a no-op. */
  async enqueue(queryId: string): Promise<void> {
    try {
      await this.queue.add('execute', { queryId }, { jobId: queryId });
    } catch (err) {
      throw new AirlockError('QUEUE_UNAVAILABLE', 'The job queue (Redis) is unavailable; try again shortly.', { cause: err });
    }
  }

  /** Remove a job that has not started; true when it was removed. */
  async remove(queryId: string): Promise<boolean> {
    try {
      const job = await this.queue.getJob(queryId);
      if (!job) return false;
      await job.remove();
      return true;
    } catch {
      return false; // locked (a worker already has it) or Redis unreachable; the record decides
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** Consumer side: runs `handle(queryId, attempt)` for each job. */
export function startExecuteWorker(options: {
  connection: Redis;
  prefix: string;
  concurrency: number;
  /** Stored on each job it takes (BullMQ's `processedBy`), so an operator can tell which process ran it. */
  name?: string;
  handle(queryId: string, attempt: number): Promise<void>;
}): Worker<ExecutePayload> {
  return new Worker<ExecutePayload>(
    EXECUTE_QUEUE,
    async (job: Job<ExecutePayload>) => {
      const parsed = payloadSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('malformed execute job payload');
      try {
        await options.handle(parsed.data.queryId, job.attemptsMade + 1);
      } catch (err) {
        if (err instanceof AirlockError && isTransient(err.code)) throw err;
        throw new UnrecoverableError(err instanceof AirlockError ? err.code : 'INTERNAL');
      }
    },
    {
      connection: options.connection,
      prefix: bullPrefix(options.prefix),
      concurrency: options.concurrency,
      ...(options.name ? { name: options.name } : {}),
      // A job killed with its worker goes back to the queue soon after its lock lapses.
      lockDuration: EXECUTE_LOCK_MS,
      stalledInterval: EXECUTE_STALLED_CHECK_MS,
      maxStalledCount: MAX_STALLS,
    },
  );
}
