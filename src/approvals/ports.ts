/**
 * What the approval workflow needs from the outside, declared here by the core
 * (STYLE habit 3) and implemented by adapters (`queue/approvals-queue.ts`,
 * `queue/execute-lane.ts`): the workflow never imports an adapter.
 */
import type { ExecuteJobs } from '../queries/ports.ts';

/** Schedules the end of a review (a delayed job per query). */
export interface ExpiryScheduler {
  /** Expire `id` at `at` unless decided before; idempotent per query. */
  schedule(id: string, at: Date): Promise<void>;
  /** Drop the pending expiry of `id` (best effort; a job that fires anyway finds nothing to do). */
  cancel(id: string): Promise<void>;
}

/** The execute queue as the approval workflow uses it: it only ever enqueues an approved query. */
export type ApprovedJobs = Pick<ExecuteJobs, 'enqueue'>;
