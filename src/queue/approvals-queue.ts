/**
 * The BullMQ queue that expires reviews nobody decided in time: one delayed job
 * per query, due at the review's `expiresAt`, and its worker.
 *
 * Thin on purpose (STYLE habit 9): the payload is the query id, parsed with
 * zod; the job id is derived from the query id, so scheduling twice is a no-op;
 * the processor calls one service function. The record decides, not the job: a
 * job that fires for a query already approved, rejected or cancelled does nothing.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ExpiryScheduler } from '../approvals/ports.ts';
import { systemClock, type Clock } from '../clock.ts';
import { AirlockError, isTransient } from '../errors.ts';
import { bullPrefix } from './bull-prefix.ts';
import type { Logger } from '../log.ts';
import { logQueueErrors } from './error-log.ts';

export const APPROVALS_QUEUE = 'approvals';

const payloadSchema = z.object({ queryId: z.string().min(1).max(100) });
export type ExpiryPayload = z.infer<typeof payloadSchema>;

/**
 * The job id of a query's expiry. BullMQ refuses custom ids with one `:` (it
 * reserves `a:b:c` for repeatable jobs), so this is `expire-<id>`, not `expire:<id>`.
 */
export function expiryJobId(queryId: string): string {
  return `expire-${queryId}`;
}

/** Producer side: the approval workflow's {@link ExpiryScheduler}. */
export class ApprovalsQueue implements ExpiryScheduler {
  private readonly queue: Queue<ExpiryPayload>;

  constructor(
    connection: Redis,
    prefix: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.queue = new Queue<ExpiryPayload>(APPROVALS_QUEUE, {
      connection,
      prefix: bullPrefix(prefix),
      defaultJobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        // Kept a while so a second schedule() for the same query stays a no-op.
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 24 * 3600 },
      },
    });
  }

  /** Log this queue's errors (a Redis outage) as one rate-limited line each, not BullMQ's stack traces. */
  logErrors(logger: Logger): this {
    logQueueErrors(this.queue, logger, { component: 'queue', queue: APPROVALS_QUEUE });
    return this;
  }

  async schedule(id: string, at: Date): Promise<void> {
    try {
      await this.queue.add('expire', { queryId: id }, { jobId: expiryJobId(id), delay: Math.max(0, at.getTime() - this.clock().getTime()) });
    } catch (err) {
      throw new AirlockError('QUEUE_UNAVAILABLE', 'The job queue (Redis) is unavailable; try again shortly.', { cause: err });
    }
  }

  async cancel(id: string): Promise<void> {
    try {
      const job = await this.queue.getJob(expiryJobId(id));
      if (job && (await job.isDelayed())) await job.remove();
    } catch {
      // Locked (running now) or Redis unreachable: the job finds the record decided and does nothing.
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** What the worker's handler reports: `retryAt` when the review is not due yet (clock skew between replicas). */
export type ExpiryHandlerResult = { retryAt?: Date } | undefined;

/** Consumer side: runs `handle(queryId)` when a review's expiry is due. */
export function startApprovalsWorker(options: {
  connection: Redis;
  prefix: string;
  concurrency?: number;
  handle(queryId: string): Promise<ExpiryHandlerResult>;
}): Worker<ExpiryPayload> {
  return new Worker<ExpiryPayload>(
    APPROVALS_QUEUE,
    async (job: Job<ExpiryPayload>, token?: string) => {
      const parsed = payloadSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('malformed expiry job payload');
      let result: ExpiryHandlerResult;
      try {
        result = await options.handle(parsed.data.queryId);
      } catch (err) {
        if (err instanceof AirlockError && isTransient(err.code)) throw err;
        throw new UnrecoverableError(err instanceof AirlockError ? err.code : 'INTERNAL');
      }
      if (result?.retryAt) {
        // Fired before the record says it is due: come back then, same job id.
        await job.moveToDelayed(result.retryAt.getTime(), token);
        throw new DelayedError();
      }
    },
    {
      connection: options.connection,
      prefix: bullPrefix(options.prefix),
      concurrency: options.concurrency ?? 4,
    },
  );
}
