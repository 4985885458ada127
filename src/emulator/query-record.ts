/**
 * A submitted statement's record: its status as monitoring reports it, its
 * outcome, and what cancelling it needs.
 */
import type { WireBinding } from '../snowflake-wire/port.ts';
import type { StoredResult } from './result-store.ts';
import type { Session } from './sessions.ts';
import { SnowflakeWireError } from '../snowflake-wire/errors.ts';

/** Query states, as `GET /monitoring/queries/{id}` reports them. */
export type QueryStatus = 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';

/** A statement to run. */
export interface QueryRequest {
  sqlText: string;
  bindings?: Record<string, WireBinding>;
  /** Per-statement parameters (override the session's for this statement). */
  parameters?: Record<string, unknown>;
  describeOnly?: boolean;
  requestId?: string;
}

/** A submitted statement and its outcome. */
export interface QueryRecord {
  id: string;
  sessionId: string;
  requestId: string | undefined;
  sqlText: string;
  status: QueryStatus;
  startTime: number;
  endTime: number | undefined;
  error: SnowflakeWireError | undefined;
  result: StoredResult | undefined;
  /** Settles (never rejects) when the statement finished, failed or was cancelled. */
  done: Promise<void>;
  /** Why DuckDB was interrupted, if it was. */
  interrupted: 'cancel' | 'timeout' | undefined;
  timeoutSeconds: number;
  /** True while DuckDB works for this record (only then may the connection be interrupted). */
  running: boolean;
  session: Session;
  interruptTimer: NodeJS.Timeout | undefined;
}

/** The error of a statement that was cancelled or timed out. */
export function interruptError(record: QueryRecord): SnowflakeWireError {
  return record.interrupted === 'timeout'
    ? SnowflakeWireError.of(
        'STATEMENT_TIMEOUT',
        `Statement reached its statement or warehouse timeout of ${record.timeoutSeconds} second(s) and was canceled.`,
      )
    : SnowflakeWireError.of('QUERY_CANCELED');
}
