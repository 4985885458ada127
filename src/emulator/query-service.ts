/**
 * Submits, tracks, cancels and times out statements for sessions. Every
 * statement gets a query record at once (so `asyncExec`, monitoring and
 * cancel work before it finishes); execution is queued on the session and
 * done by the statement runner.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Engine } from './engine.ts';
import { interruptError, type QueryRecord, type QueryRequest } from './query-record.ts';
import type { ResultStore } from './result-store.ts';
import type { ParamValue } from '../snowflake-wire/parameters.ts';
import { normalizeParam } from './session-params.ts';
import type { Session } from './sessions.ts';
import { StatementRunner, type StatementRunnerOptions } from './statement-runner.ts';
import { mapDuckDbError } from './sql/translate.ts';
import { SnowflakeWireError } from '../snowflake-wire/errors.ts';

/** Options of the query service. */
export interface QueryServiceOptions {
  engine: Engine;
  results: ResultStore;
  chunkRows: number;
  now: () => number;
  /** Finished query records are forgotten after this long (results have their own TTL). */
  recordTtlMs: number;
  logger?: Logger;
  /** The user's key slots, for `ALTER USER … RSA_PUBLIC_KEY[_2]`. */
  keys?: StatementRunnerOptions['keys'];
}

/** Submits, tracks, cancels and times out statements. */
export class QueryService {
  private readonly records = new Map<string, QueryRecord>();
  private readonly byRequestId = new Map<string, QueryRecord>();
  private readonly runner: StatementRunner;

  constructor(private readonly opts: QueryServiceOptions) {
    this.runner = new StatementRunner({ engine: opts.engine, results: opts.results, chunkRows: opts.chunkRows, ...(opts.keys ? { keys: opts.keys } : {}) });
  }

  /** Register a statement and queue it on its session; returns at once. */
  submit(session: Session, req: QueryRequest): QueryRecord {
    this.sweep();
    const id = randomUUID();
    const record: QueryRecord = {
      id,
      sessionId: session.id,
      requestId: req.requestId,
      sqlText: req.sqlText,
      status: 'QUEUED',
      startTime: this.opts.now(),
      endTime: undefined,
      error: undefined,
      result: undefined,
      done: Promise.resolve(),
      interrupted: undefined,
      timeoutSeconds: 0,
      running: false,
      session,
      interruptTimer: undefined,
    };
    this.records.set(id, record);
    if (req.requestId) this.byRequestId.set(req.requestId, record);
    record.done = session.queue.run(() => this.execute(record, req)).then(
      () => undefined,
      () => undefined,
    );
    return record;
  }

  /** A query by id. */
  get(queryId: string): QueryRecord | undefined {
    return this.records.get(queryId);
  }

  /** A query by the driver's request id (cancel before the query id is known). */
  getByRequestId(requestId: string): QueryRecord | undefined {
    return this.byRequestId.get(requestId);
  }

  /**
   * Cancel a queued or running statement (DuckDB is interrupted). Returns false
   * when it had already finished.
   */
  cancel(record: QueryRecord, reason: 'cancel' | 'timeout' = 'cancel'): boolean {
    if (record.status !== 'QUEUED' && record.status !== 'RUNNING') return false;
    record.interrupted ??= reason;
    if (record.running) record.session.conn.interrupt();
    // An interrupt that lands between two DuckDB calls of this record, or just
    // before DuckDB starts a query, can be lost: repeat it until the record ends.
    record.interruptTimer ??= setInterval(() => {
      if (record.running) record.session.conn.interrupt();
    }, 25);
    return true;
  }

  /** Cancel everything a session has queued or running (logout, shutdown). */
  cancelSession(session: Session): Promise<unknown[]> {
    const pending = [...this.records.values()].filter((r) => r.session === session);
    for (const r of pending) this.cancel(r);
    return Promise.all(pending.map((r) => r.done));
  }

  private sweep(): void {
    const cutoff = this.opts.now() - this.opts.recordTtlMs;
    for (const [id, r] of this.records) {
      if (r.endTime === undefined || r.endTime > cutoff) continue;
      this.records.delete(id);
      if (r.requestId) this.byRequestId.delete(r.requestId);
    }
  }

  private async execute(record: QueryRecord, req: QueryRequest): Promise<void> {
    const session = record.session;
    const log = this.opts.logger;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (record.interrupted) throw interruptError(record);
      if (session.closed) throw SnowflakeWireError.of('GONE_SESSION');
      const params: Record<string, ParamValue> = { ...session.params };
      for (const [k, v] of Object.entries(req.parameters ?? {})) {
        const [key, value] = normalizeParam(k, v);
        params[key] = value;
      }
      record.timeoutSeconds = Number(params.STATEMENT_TIMEOUT_IN_SECONDS ?? 0);
      record.status = 'RUNNING';
      record.startTime = this.opts.now();
      if (record.timeoutSeconds > 0) {
        timer = setTimeout(() => this.cancel(record, 'timeout'), record.timeoutSeconds * 1000);
      }
      record.result = await this.runner.run(record, req, params);
      record.status = 'SUCCESS';
    } catch (err) {
      record.error = this.toWireError(record, err);
      record.status = record.interrupted ? 'ABORTED' : 'FAILED_WITH_ERROR';
      if (record.error.code === '000603') log?.error({ err, queryId: record.id }, 'emulator query failed unexpectedly');
    } finally {
      if (timer) clearTimeout(timer);
      if (record.interruptTimer) clearInterval(record.interruptTimer);
      record.running = false;
      record.endTime = this.opts.now();
      log?.debug(
        { queryId: record.id, sessionId: record.sessionId, status: record.status, ms: record.endTime - record.startTime, code: record.error?.code },
        'emulator query finished',
      );
    }
  }

  /** The wire error a failed statement is reported with. */
  private toWireError(record: QueryRecord, err: unknown): SnowflakeWireError {
    if (record.interrupted) return interruptError(record);
    if (err instanceof SnowflakeWireError) return err;
    const message = err instanceof Error ? err.message : String(err);
    // DuckDB errors carry a "<Kind> Error:" prefix; anything else is our bug.
    if (/^[A-Za-z ]+ Error: /.test(message) || /^INTERRUPT/.test(message)) {
      const mapped = mapDuckDbError(message);
      return new SnowflakeWireError(mapped.code, mapped.sqlState, mapped.message, { cause: err });
    }
    return SnowflakeWireError.of('INTERNAL', `SQL execution internal error: ${message}`, { cause: err });
  }
}
