/**
 * The port services use to record a session step (STYLE habit 3). Callers fail
 * closed on `received`, `decided`, `execution_started` and `approved` (an
 * approval that is not in the log does not release the statement): when
 * `append` throws `AUDIT_UNAVAILABLE`, nothing runs.
 */
import type { Logger } from '../log.ts';
import type { AuditEventInput, StoredEvent } from './events.ts';

export interface AuditLog {
  /** Append one event to the chain; resolves once it is stored in order. */
  append(event: AuditEventInput): Promise<StoredEvent>;
  /**
   * True when the session's first event is `received`. An approval is granted
   * only then: a query the log never took must not run on anyone's vote.
   * Adapters that cannot tell leave it out (the check is then skipped).
   */
  received?(session: string): Promise<boolean>;
  /**
   * Append events as {@link AuditLog.append} does, and also say when they are
   * on their way to the store (`sent`, settled once the write is issued or
   * given up): a step that must follow them can then be sent right behind on
   * the same connection and check {@link AuditLog.sessionKey} itself, instead
   * of waiting a round trip. Adapters that cannot tell leave it out.
   */
  appendSent?(events: AuditEventInput[]): { sent: Promise<void>; stored: Promise<StoredEvent[]> };
  /** The store key that exists once a session has an event (what such a step checks). */
  sessionKey?(session: string): string;
}

/**
 * Append an event whose step has already happened (a vote counted, a card
 * posted, a query that failed): the outcome stands either way, so a log that is
 * unavailable costs a warning, never the step. Resolves true when recorded.
 */
export async function appendAfterTheFact(audit: AuditLog | undefined, event: AuditEventInput, logger: Logger): Promise<boolean> {
  if (!audit) return false;
  try {
    await audit.append(event);
    return true;
  } catch (err) {
    logger.warn({ component: 'audit', queryId: event.session, event: event.type, err: err instanceof Error ? err.message : String(err) }, `audit: ${event.type} not recorded`);
    return false;
  }
}
