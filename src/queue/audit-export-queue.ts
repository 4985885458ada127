/**
 * The BullMQ queue that exports the audit log on a schedule, and its worker.
 *
 * One job scheduler (`upsertJobScheduler`, a fixed id) fires every N ms; each
 * firing exports the windows that have closed, then trims what was exported
 * and is past retention. Several replicas may call {@link AuditExportQueue.schedule}
 * at start: upserting one id leaves one schedule, and a new interval replaces it.
 *
 * Thin on purpose (STYLE habit 9): the payload only says what triggered the
 * run, parsed with zod; the processor calls one function. The export's own
 * lock and checkpoint make a run safe to repeat: a run that finds another
 * export holding the lock is skipped (not failed), and an unavailable Redis or
 * store fails the job so BullMQ records it; the next repetition catches up.
 */
import { Queue, UnrecoverableError, Worker, type Job, type JobSchedulerTemplateOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { exportAudit, trimAudit, type ExportResult, type TrimResult } from '../audit/export.ts';
import type { RedisAuditLog } from '../audit/redis-log.ts';
import type { ExportStore } from '../audit/export-port.ts';
import { AirlockError, isAirlockError, isTransient } from '../errors.ts';
import { logQueueErrors } from './error-log.ts';
import type { Logger } from '../log.ts';
import { bullPrefix } from './bull-prefix.ts';

/** The BullMQ queue name (keys under `{prefix}:bull:audit-export`). */
export const AUDIT_EXPORT_QUEUE = 'audit-export';

/** The one scheduler id every replica upserts, so there is never more than one schedule. */
export const AUDIT_EXPORT_SCHEDULER = 'audit-export';

const payloadSchema = z.object({ trigger: z.enum(['schedule', 'manual']) });
/** Job data: only what triggered the run; everything else comes from the worker's `run`. */
export type AuditExportPayload = z.infer<typeof payloadSchema>;

/** Shared by scheduled and manual runs; bounded so finished jobs never pile up in Redis. */
const JOB_OPTIONS: JobSchedulerTemplateOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { count: 100 },
  removeOnFail: { count: 500 },
};

/** Producer side: owns the schedule. */
export class AuditExportQueue {
  private readonly queue: Queue<AuditExportPayload>;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue<AuditExportPayload>(AUDIT_EXPORT_QUEUE, { connection, prefix: bullPrefix(prefix), defaultJobOptions: JOB_OPTIONS });
  }

  /** Log this queue's errors (a Redis outage) as one rate-limited line each, not BullMQ's stack traces. */
  logErrors(logger: Logger): this {
    logQueueErrors(this.queue, logger, { component: 'queue', queue: AUDIT_EXPORT_QUEUE });
    return this;
  }

  /** Export every `everyMs`; idempotent across replicas, and a new interval replaces the old one. */
  async schedule(everyMs: number): Promise<void> {
    if (!Number.isInteger(everyMs) || everyMs < 1) throw new AirlockError('CONFIG_INVALID', `The audit export interval must be a positive whole number of ms (got ${everyMs}).`);
    await this.guard(() => this.queue.upsertJobScheduler(AUDIT_EXPORT_SCHEDULER, { every: everyMs }, { name: 'export', data: { trigger: 'schedule' }, opts: JOB_OPTIONS }));
  }

  /** Stop the periodic export (a run in progress finishes). */
  async unschedule(): Promise<void> {
    await this.guard(async () => {
      await this.queue.removeJobScheduler(AUDIT_EXPORT_SCHEDULER);
      // removeJobScheduler leaves a repetition that is already waiting (the first one is queued at once): drop it too.
      for (const job of await this.queue.getJobs(['waiting', 'delayed', 'prioritized'], 0, 100)) {
        if (job.repeatJobKey === AUDIT_EXPORT_SCHEDULER) await job.remove().catch(() => undefined); // taken by a worker meanwhile: it runs once more, harmlessly
      }
    });
  }

  /** Queue one export now; while one queued this way is still pending, another call adds nothing. */
  async runNow(): Promise<void> {
    await this.guard(() => this.queue.add('export', { trigger: 'manual' }, { deduplication: { id: 'audit-export-now' } }));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  private async guard(op: () => Promise<unknown>): Promise<void> {
    try {
      await op();
    } catch (err) {
      throw new AirlockError('QUEUE_UNAVAILABLE', 'The job queue (Redis) is unavailable; try again shortly.', { cause: err });
    }
  }
}

/** What one run did: exported and trimmed, or skipped because another export held the lock. */
export type ExportRunResult = { exported: ExportResult; trimmed: TrimResult } | { skipped: 'locked' };

/** Options of {@link runScheduledExport}. */
export interface ScheduledExportOptions {
  log: RedisAuditLog;
  store: ExportStore;
  /** Export window length in ms (export.ts defaults to one hour). */
  windowMs?: number;
  ocsf?: boolean;
  /** Exported events older than this are removed from Redis. */
  retentionMs: number;
  logger: Logger;
}

/**
 * One scheduled run: export the closed windows, then trim. Only closed windows,
 * so a file never has to be reopened for late events of its window.
 */
export async function runScheduledExport(options: ScheduledExportOptions): Promise<ExportRunResult> {
  const { log, store, logger } = options;
  let exported: ExportResult;
  try {
    exported = await exportAudit({ log, store, upTo: 'closed', ...(options.windowMs ? { windowMs: options.windowMs } : {}), ...(options.ocsf ? { ocsf: true } : {}) });
  } catch (err) {
    // STATE_CONFLICT also means "a manifest disagrees with Redis": skip only when the lock is really held by someone.
    if (isAirlockError(err, 'STATE_CONFLICT') && (await lockHeld(log))) {
      logger.info({ component: 'audit-export' }, 'audit export skipped: another export holds the lock');
      return { skipped: 'locked' };
    }
    throw err;
  }
  const trimmed = await trimAudit({ log, retentionMs: options.retentionMs });
  const counts = { component: 'audit-export', files: exported.files, events: exported.events, adopted: exported.adopted, lastSeq: exported.checkpoint.lastSeq, trimmedEvents: trimmed.events, trimmedSessions: trimmed.sessions };
  if (exported.files + exported.adopted + trimmed.events === 0) logger.debug(counts, 'audit export: nothing due');
  else logger.info(counts, 'audit export done');
  return { exported, trimmed };
}

async function lockHeld(log: RedisAuditLog): Promise<boolean> {
  try {
    return (await log.redis.exists(log.keys.exportLock)) === 1;
  } catch (err) {
    throw new AirlockError('AUDIT_UNAVAILABLE', 'The audit log (Redis) is unavailable.', { cause: err });
  }
}

/** AUDIT_UNAVAILABLE is not in isTransient() (an append must fail closed), but an export is safe to retry. */
function retryable(err: unknown): boolean {
  return err instanceof AirlockError && (err.code === 'AUDIT_UNAVAILABLE' || isTransient(err.code));
}

/** Consumer side: one run at a time per worker; the export lock keeps replicas apart. */
export function startAuditExportWorker(options: {
  connection: Redis;
  prefix: string;
  logger: Logger;
  run(): Promise<ExportRunResult>;
}): Worker<AuditExportPayload> {
  return new Worker<AuditExportPayload>(
    AUDIT_EXPORT_QUEUE,
    async (job: Job<AuditExportPayload>) => {
      const parsed = payloadSchema.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError('malformed audit export job payload');
      try {
        await options.run();
      } catch (err) {
        const log = { component: 'audit-export', trigger: parsed.data.trigger, attempt: job.attemptsMade + 1, code: err instanceof AirlockError ? err.code : 'INTERNAL' };
        if (retryable(err)) {
          options.logger.warn(log, 'audit export failed; will retry');
          throw err;
        }
        options.logger.error({ ...log, err: err instanceof Error ? err.message : String(err) }, 'audit export failed; not retrying this run');
        throw new UnrecoverableError(log.code);
      }
    },
    { connection: options.connection, prefix: bullPrefix(options.prefix), concurrency: 1 },
  );
}
