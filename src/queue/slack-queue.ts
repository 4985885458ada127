/**
 * The Slack outbox: "bring the card of query X up to date" jobs, so Slack
 * outages and 429s lose nothing. A 429 puts the job back for exactly the
 * `Retry-After` Slack asked for; 5xx and network errors back off
 * exponentially (about half an hour in all); Slack's refusals of the message
 * itself (`invalid_blocks`, `channel_not_found`…) are not retried.
 *
 * One job per change of a query (its id names the change), and every job
 * renders the record as it is when it runs, so a late job never shows stale
 * state for long and no change is lost.
 */
import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { AirlockError, isAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CardNotifier } from '../queries/ports.ts';
import { bullPrefix } from './bull-prefix.ts';
import { logQueueErrors } from './error-log.ts';

export const SLACK_QUEUE = 'slack';

const payloadSchema = z.object({ queryId: z.string().min(1).max(100) });
type SlackPayload = z.infer<typeof payloadSchema>;

/** Declared by the query services (`queries/ports.ts`); re-exported for the Slack app, which imports it from here. */
export type { CardNotifier } from '../queries/ports.ts';

/** Producer side. */
export class SlackQueue implements CardNotifier {
  private readonly queue: Queue<SlackPayload>;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue<SlackPayload>(SLACK_QUEUE, {
      connection,
      prefix: bullPrefix(prefix),
      defaultJobOptions: {
        attempts: 12,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: true,
        // A kept failed job would hold the job id and block later updates; the log keeps the failure.
        removeOnFail: true,
      },
    });
  }

  /** Log this queue's errors (a Redis outage) as one rate-limited line each, not BullMQ's stack traces. */
  logErrors(logger: Logger): this {
    logQueueErrors(this.queue, logger, { component: 'queue', queue: SLACK_QUEUE });
    return this;
  }

  /** Never throws: a card that cannot be queued now is caught up by the next change or the expiry job. */
  async changed(queryId: string, change: string): Promise<void> {
    try {
      await this.queue.add('sync', { queryId }, { jobId: `sync-${queryId}-${change.replace(/[^A-Za-z0-9_-]/g, '_')}` });
    } catch {
      // Redis is down: the query record itself is safe; the card catches up later.
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** Slack Web API failure, classified for retries. */
export function slackRetry(err: unknown): { kind: 'rate_limited'; retryAfterMs: number } | { kind: 'transient' } | { kind: 'permanent'; detail: string } {
  const e = err as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string } };
  if (e?.code === 'slack_webapi_rate_limited_error') return { kind: 'rate_limited', retryAfterMs: Math.max(1, e.retryAfter ?? 1) * 1000 };
  if (e?.code === 'slack_webapi_platform_error') {
    const detail = e.data?.error ?? 'unknown';
    // Slack's own hiccups are worth another try; a refused message is not.
    if (['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited'].includes(detail)) return { kind: 'transient' };
    return { kind: 'permanent', detail };
  }
  if (isAirlockError(err, 'NOT_FOUND')) return { kind: 'permanent', detail: 'query not found' };
  return { kind: 'transient' };
}

/** Consumer side: runs `sync(queryId)` for each job. */
export function startSlackWorker(options: {
  connection: Redis;
  prefix: string;
  logger: Logger;
  concurrency?: number;
  sync(queryId: string): Promise<void>;
}): Worker<SlackPayload> {
  return new Worker<SlackPayload>(
    SLACK_QUEUE,
    async (job: Job<SlackPayload>, token?: string) => {
      const parsed = payloadSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('malformed slack job payload');
      try {
        await options.sync(parsed.data.queryId);
      } catch (err) {
        const r = slackRetry(err);
        const log = { component: 'slack', queryId: parsed.data.queryId, attempt: job.attemptsMade + 1 };
        if (r.kind === 'rate_limited') {
          options.logger.warn({ ...log, retryAfterMs: r.retryAfterMs }, 'slack rate limited; retrying after Retry-After');
          // BullMQ schedules by the wall clock, so this is Date.now(), not the injected Clock.
          await job.moveToDelayed(Date.now() + r.retryAfterMs, token);
          throw new DelayedError();
        }
        if (r.kind === 'permanent') {
          options.logger.error({ ...log, error: r.detail }, 'slack refused the card; not retrying');
          throw new UnrecoverableError(`slack: ${r.detail}`);
        }
        options.logger.warn({ ...log, err: err instanceof Error ? err.message : String(err) }, 'slack unavailable; will retry');
        throw err instanceof Error ? err : new AirlockError('SLACK_UNAVAILABLE', String(err));
      }
    },
    { connection: options.connection, prefix: bullPrefix(options.prefix), concurrency: options.concurrency ?? 4 },
  );
}
