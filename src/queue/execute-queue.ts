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

export const EXECUTE_QUEUE = 'execute';

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
      // A read killed with its worker is retried by another after the lock lapses.
      lockDuration: 30_000,
      maxStalledCount: 1,
    },
  );
}
