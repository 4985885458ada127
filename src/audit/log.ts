/**
 * The port services use to record a session step (STYLE habit 3). Callers fail
 * closed on `received`, `decided` and `execution_started`: when `append` throws
 * `AUDIT_UNAVAILABLE`, nothing runs.
 */
import type { AuditEventInput, StoredEvent } from './events.ts';

export interface AuditLog {
  /** Append one event to the chain; resolves once it is stored in order. */
  append(event: AuditEventInput): Promise<StoredEvent>;
}
