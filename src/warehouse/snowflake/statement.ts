/**
 * One statement on one connection, bounded: the driver retries silently and
 * for minutes, so abort and timeout cancel in the warehouse, a heartbeat
 * watchdog notices a dead warehouse in seconds (a heartbeat is never retried),
 * and a cancel the warehouse does not confirm is given up on.
 */
import type { Connection, RowStatement } from 'snowflake-sdk';
import { mapDriverError } from './errors.ts';

/** `heartbeat` exists on the driver's Connection but is missing from its typings. */
interface HeartbeatConnection {
  heartbeat(callback: (err: unknown) => void): void;
}

/** What happened to a statement; read by the error mapping and the pool. */
export interface StatementState {
  aborted: boolean;
  timedOut: boolean;
  broken: boolean;
}

/** The watchdog's timings. */
export interface StatementTimings {
  /** Statement timeout; it is also sent as STATEMENT_TIMEOUT_IN_SECONDS. */
  timeoutMs: number;
  /** Heartbeat interval while the statement runs. */
  livenessProbeMs: number;
  /** How long a cancel may take to be confirmed. */
  cancelGraceMs: number;
}

/**
 * Run one statement to completion (rows not yet fetched). Abort and timeout
 * cancel it in the warehouse; if the warehouse does not confirm within
 * `cancelGraceMs`, or a heartbeat finds it unreachable, give up and mark the
 * connection broken instead of waiting out the driver's retries.
 */
export function runStatement(
  conn: Connection,
  sql: string,
  parameters: Record<string, unknown>,
  timings: StatementTimings,
  signal: AbortSignal | undefined,
  state: StatementState,
): Promise<RowStatement> {
  const { timeoutMs, livenessProbeMs, cancelGraceMs } = timings;
    return new Promise<RowStatement>((resolve, reject) => {
      let stmt: RowStatement | undefined;
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const giveUp = (err: unknown) =>
        settle(() => {
          state.broken = true;
          reject(err);
        });
      const interrupt = () => {
        stmt?.cancel(() => undefined);
        timers.push(setTimeout(() => giveUp(new Error('cancel not confirmed by the warehouse')), cancelGraceMs));
      };
      const onAbort = () => {
        if (settled || state.aborted || state.timedOut) return;
        state.aborted = true;
        interrupt();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      timers.push(
        setTimeout(() => {
          if (settled || state.aborted) return;
          state.timedOut = true;
          interrupt();
        }, timeoutMs),
      );
      const probe = () => {
        (conn as unknown as HeartbeatConnection).heartbeat((err) => {
          if (settled) return;
          if (err && mapDriverError(err).code === 'WAREHOUSE_UNAVAILABLE') {
            giveUp(err);
            return;
          }
          timers.push(setTimeout(probe, livenessProbeMs));
        });
      };
      timers.push(setTimeout(probe, livenessProbeMs));
      try {
        stmt = conn.execute({
          sqlText: sql,
          streamResult: true,
          rowMode: 'array',
          // Exact numbers, and dates/times as the warehouse formats them (the port's contract).
          fetchAsString: ['Number', 'Date'],
          parameters,
          complete: (err, s) => settle(() => (err ? reject(err) : resolve(s))),
        });
      } catch (err) {
        settle(() => reject(err));
      }
    });
}
