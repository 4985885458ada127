/**
 * Waiting for a query inside one tool call without tripping the client's
 * request timeout: clients drop calls that block about 60 s unless progress
 * notifications reset their timer. So a wait is at most ~50 s, made of
 * long-polls of a few seconds, with a progress notification after each.
 */
import { TERMINAL_STATUSES } from '../queries/types.ts';
import type { QueryView } from '../queries/view.ts';
import type { AirlockPort } from './port.ts';

/** The longest one tool call waits (under the 60 s clients allow a call without progress). */
export const MAX_WAIT_MS = 50_000;
/** One long-poll; a progress notification follows each, so they are never more than this apart. */
export const STEP_MS = 8_000;
/** The least time between two polls, should the server answer a long-poll at once (AIRLOCK_MAX_WAIT_MS=0). */
const MIN_POLL_GAP_MS = 1_000;

/** Told after each long-poll that did not end the wait: where the query stands and how long we have waited. */
export type ProgressReport = (view: QueryView, waitedMs: number, budgetMs: number) => Promise<void>;

/** Options of {@link waitForOutcome}. */
export interface WaitOptions {
  budgetMs: number;
  progress?: ProgressReport;
  /** The tool call was cancelled: stop waiting and answer with what we have. */
  signal?: AbortSignal;
  stepMs?: number;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** True once a query has an outcome the agent can act on. */
export function isSettled(view: QueryView): boolean {
  return TERMINAL_STATUSES.has(view.status);
}

/**
 * Long-poll `id` until it ends or `budgetMs` is spent (at most {@link MAX_WAIT_MS});
 * returns the last view, settled or not.
 */
export async function waitForOutcome(port: AirlockPort, id: string, options: WaitOptions): Promise<QueryView> {
  const budget = Math.max(0, Math.min(options.budgetMs, MAX_WAIT_MS));
  const step = options.stepMs ?? STEP_MS;
  const started = performance.now();
  for (;;) {
    const left = budget - (performance.now() - started);
    const polledAt = performance.now();
    const view = await port.get(id, Math.max(0, Math.min(step, Math.floor(left))));
    const waited = performance.now() - started;
    if (isSettled(view) || waited >= budget || options.signal?.aborted) return view;
    await options.progress?.(view, waited, budget);
    const took = performance.now() - polledAt;
    if (took < MIN_POLL_GAP_MS) await pause(MIN_POLL_GAP_MS - took, options.signal);
  }
}
