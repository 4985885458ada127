/**
 * The intake reconciler (worker role): finishes what a submit accepted but
 * could not hand on — an API killed between the create and the enqueue, a
 * job queue that did not answer in time, a review whose approval state or
 * card was never opened. It reads the intake index (`keys.ts`), where the
 * create puts every queued or pending query and the API removes it once the
 * first steps are confirmed (a worker's start removes it too).
 *
 * It acts only on entries older than `graceMs`, and only once its own Redis
 * has answered for `graceMs` without a break: a submit that answered 503
 * while its create landed anyway marks that record failed as soon as Redis
 * answers again (`Intake.abandon`), and must get there first.
 */
import { appendAfterTheFact, type AuditLog } from '../audit/log.ts';
import type { Logger } from '../log.ts';
import type { CardNotifier, ExecuteJobs } from './ports.ts';
import type { QueryStore } from './store.ts';
import type { QueryRecord } from './types.ts';

export interface ReconcilerDeps {
  store: QueryStore;
  queue: Pick<ExecuteJobs, 'enqueue'>;
  logger: Logger;
  approvals?: { opened(record: QueryRecord): Promise<void> };
  cards?: CardNotifier;
  audit?: AuditLog;
  /** Wall-clock milliseconds (the intake index is scored by `createdAt`). */
  now: () => number;
  /** Entries younger than this are the API's own business (ms). */
  graceMs?: number;
  /** A queued query never handed on within this long is failed rather than run late (ms). */
  maxAgeMs?: number;
  /** Entries looked at per pass. */
  batch?: number;
}

/** What one pass did, for logs and tests. */
export interface ReconcileReport {
  enqueued: string[];
  opened: string[];
  failed: string[];
  dropped: string[];
}

/** Finishes the first steps of accepted queries; see the module comment. */
export class IntakeReconciler {
  private readonly graceMs: number;
  private readonly maxAgeMs: number;
  /** When this reconciler's Redis last failed (elapsed ms, `performance.now()`); passes wait `graceMs` after it. */
  private lastFailure = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: ReconcilerDeps) {
    this.graceMs = deps.graceMs ?? 15_000;
    this.maxAgeMs = deps.maxAgeMs ?? 10 * 60_000;
  }

  /** One pass over the due entries; undefined when it held back (Redis failed within the grace period) or failed. */
  async pass(): Promise<ReconcileReport | undefined> {
    const now = this.deps.now();
    if (performance.now() - this.lastFailure < this.graceMs) {
      // Still probe Redis, so the grace period starts from the first answer after an outage.
      await this.deps.store.intakeDue(0, 1).catch(() => (this.lastFailure = performance.now()));
      return undefined;
    }
    const report: ReconcileReport = { enqueued: [], opened: [], failed: [], dropped: [] };
    try {
      const due = await this.deps.store.intakeDue(now - this.graceMs, this.deps.batch ?? 100);
      for (const id of due) await this.settle(id, now, report);
      return report;
    } catch (err) {
      this.lastFailure = performance.now();
      this.deps.logger.warn({ component: 'reconciler', err: err instanceof Error ? err.message : String(err) }, 'intake reconciler: pass failed; retrying after the grace period');
      return undefined;
    }
  }

  private async settle(id: string, now: number, report: ReconcileReport): Promise<void> {
    const { store, logger } = this.deps;
    const record = await store.get(id);
    if (record?.status === 'queued') {
      if (now - Date.parse(record.createdAt) > this.maxAgeMs) {
        await this.fail(record);
        report.failed.push(id);
      } else {
        // Should its enqueue have landed after all, the duplicate is skipped by whoever takes it second.
        await this.deps.queue.enqueue(id);
        report.enqueued.push(id);
        logger.info({ component: 'reconciler', queryId: id }, 'intake reconciler: enqueued an accepted query');
      }
    } else if (record?.status === 'pending_approval' && !record.approval?.card) {
      if (!record.approval) await this.deps.approvals?.opened(record);
      await this.deps.cards?.changed(id, 'opened');
      report.opened.push(id);
      logger.info({ component: 'reconciler', queryId: id }, 'intake reconciler: opened a review');
    } else {
      report.dropped.push(id);
    }
    await store.intakeDone(id);
  }

  private async fail(record: QueryRecord): Promise<void> {
    const minutes = Math.round(this.maxAgeMs / 60_000);
    const error = { code: 'QUEUE_UNAVAILABLE' as const, message: `The query was accepted but could not be handed to a worker within ${minutes} minutes; it did not run. Submit it again.` };
    try {
      await this.deps.store.transition(record.id, ['queued'], { status: 'failed', error });
    } catch {
      return; // taken or cancelled meanwhile: its new status stands
    }
    await appendAfterTheFact(this.deps.audit, { type: 'failed', session: record.id, actor: 'system', data: error }, this.deps.logger);
  }

  /** Run a pass every `everyMs` until stopped (the worker role's loop). */
  start(everyMs: number): { stop(): Promise<void> } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> = Promise.resolve();
    const tick = () => {
      running = this.pass().finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
    };
    timer = setTimeout(tick, everyMs);
    return {
      async stop() {
        stopped = true;
        clearTimeout(timer);
        // A pass stuck on an unreachable Redis must not hold up shutdown; what it left stays in the index.
        let bound: NodeJS.Timeout | undefined;
        await Promise.race([running, new Promise((resolve) => (bound = setTimeout(resolve, 1000)))]);
        clearTimeout(bound);
      },
    };
  }
}
