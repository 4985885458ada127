/**
 * BullMQ queues and workers report a Redis outage through their `error`
 * event; without a listener BullMQ prints each error's stack to stderr, many
 * lines per reconnect attempt, into what is otherwise a JSON log. This turns
 * them into one structured warning per object, at most one per window, with
 * how many were folded into it.
 */
import type { Logger } from '../log.ts';

/** Anything with BullMQ's `error` event (Queue, Worker, QueueEvents). */
interface ErrorSource {
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** Attach a rate-limited `error` listener to `source`; `fields` name it in the log (component, queue). */
export function logQueueErrors(source: ErrorSource, logger: Logger, fields: Record<string, string>, windowMs = 10_000): void {
  let windowStart = Number.NEGATIVE_INFINITY;
  let folded = 0;
  source.on('error', (err: Error) => {
    const now = performance.now();
    if (now - windowStart < windowMs) {
      folded++;
      return;
    }
    logger.warn({ ...fields, err: err.message, ...(folded > 0 ? { repeated: folded } : {}) }, `${fields.component ?? 'queue'} error`);
    windowStart = now;
    folded = 0;
  });
}
