/**
 * Execution (worker role): run a queued query on the warehouse, mask, cap and
 * store its result, and record the outcome. `run` reads as its steps: take the
 * query ({@link ExecutionService.take}), log the start ({@link ExecutionService.auditStarted}),
 * run and store ({@link ExecutionService.runAndStore}), then record success or failure.
 * Intake (submit, read, cancel) is `service.ts`.
 */
import { appendAfterTheFact, type AuditLog } from '../audit/log.ts';
import type { JsonValue } from '../audit/events.ts';
import { systemClock, type Clock } from '../clock.ts';
import { AirlockError, asAirlockError, isAirlockError, isTransient } from '../errors.ts';
import type { Logger } from '../log.ts';
import { redactErrorText } from '../masking/error-text.ts';
import type { MaskingReport } from '../masking/report.ts';
import type { ResultMasker } from '../masking/service.ts';
import type { Warehouse } from '../warehouse/port.ts';
import type { Notifier } from './notifier.ts';
import type { CardNotifier, Executed } from './ports.ts';
import { detectorCounts, firstRows, PREVIEW_ROWS } from './preview.ts';
import { capRows, DEFAULT_RESULT_CAPS, resultNote, type ResultCaps, type TruncatedBy } from './result-caps.ts';
import type { QueryStore, RecordPatch } from './store.ts';
import { TERMINAL_STATUSES, type ExecutionInfo, type Namespace, type QueryRecord, type ResultColumn } from './types.ts';

export interface ExecutionServiceDeps {
  store: QueryStore;
  notifier: Notifier;
  warehouse: Warehouse;
  logger: Logger;
  /** `caps`: cells, bytes and bytes per cell of a result (defaults: {@link DEFAULT_RESULT_CAPS}). */
  limits: { statementTimeoutMs: number; maxRows: number; caps?: ResultCaps };
  /** Told when a reviewed query changes, so its Slack card follows. */
  cards?: CardNotifier;
  /** Masks results before they are stored. */
  masking?: ResultMasker;
  /** The session log; `execution_started` is appended before the warehouse is called. */
  audit?: AuditLog;
  /** Name of this worker in audit events. */
  workerName?: string;
  /** Stamps `startedAt` and `finishedAt` (default: the wall clock). */
  clock?: Clock;
  /** The lease a start takes on the query (ms; the execute lane renews it while this worker lives). */
  leaseMs: number;
  /** Where the policy in force resolves unqualified names (and this worker's connection runs them). */
  namespace?: () => Namespace;
}

const MAX_ATTEMPTS = 3;

/** Backoff before a read that failed transiently runs again: 500 ms, then 1 s (ms). */
function retryAfterMs(attempt: number): number {
  return 500 * 2 ** (attempt - 1);
}

/** The abort reason of statements stopped by the worker's shutdown (an agent's cancel has none). */
const SHUTDOWN = 'airlock-worker-shutdown';

/** What a run stored: the record's and the session log's account of it. */
interface Stored {
  warehouseQueryId: string | undefined;
  rowsAffected: number | undefined;
  columns: ResultColumn[];
  saved: { rowCount: number; sha256: string };
  /** Whether and why the result is cut, as kept on the record. */
  outcome: Pick<ExecutionInfo, 'truncated' | 'truncatedBy' | 'oversizedCells' | 'note'> & { truncated: boolean };
  masking: MaskingReport | undefined;
  /** First rows of the masked result, for `execution_finished` (only when masking ran). */
  preview: JsonValue[][] | undefined;
  durationMs: number;
  /** The record as the final write left it. */
  record: QueryRecord | undefined;
  /** The first stored rows, when the caller asked to keep them. */
  kept: unknown[][];
}

/** What a caller in the same process asks of {@link ExecutionService.execute}. */
export interface ExecuteOptions {
  /** Keep this many of the stored rows for {@link Executed}. */
  keepRows?: number;
  /** Told as soon as the outcome is stored, before the session log's account of it is written. */
  onStored?: (executed: Executed) => void;
}

/** One run of one query: what every step needs. */
interface Run {
  id: string;
  attempt: number;
  record: QueryRecord;
  startedAt: string;
  controller: AbortController;
  /** Rows to keep for the caller ({@link Executed}). */
  keepRows: number;
  /**
   * The record's `execution` as this run wrote it (raw JSON, set once the run
   * holds the query): every later write of the run expects it, so a run whose
   * lease lapsed cannot overwrite the run that took over.
   */
  held?: string;
  onStored: ((executed: Executed) => void) | undefined;
}

/** Runs queued queries in the worker role. */
export class ExecutionService {
  private readonly running = new Map<string, AbortController>();

  private readonly workerName: string;
  private readonly clock: Clock;

  constructor(private readonly deps: ExecutionServiceDeps) {
    this.workerName = deps.workerName ?? 'worker';
    this.clock = deps.clock ?? systemClock;
  }

  /** Cancel every statement this process runs (shutdown after the grace period). */
  abortAll(): void {
    for (const controller of this.running.values()) controller.abort(SHUTDOWN);
  }

  /**
   * Run one query taken from the execute lane. A fresh query starts in one
   * step; anything else is read and decided by {@link ExecutionService.take}.
   * Transient failures of reads are scheduled to run again (the lane's delayed
   * set), so this only throws when Redis fails, and then the query's lease or
   * intake entry brings it back.
   */
  async execute(id: string, options: ExecuteOptions = {}): Promise<Executed | undefined> {
    const { store, notifier } = this.deps;
    const controller = new AbortController();
    // Listen for cancel before the record says `running`: a cancel sent the moment it
    // does (the API publishes it only for running queries) must not be lost.
    await notifier.start();
    const off = notifier.on(notifier.channels.cancel, id, () => controller.abort());
    let record: QueryRecord | undefined;
    let attempt = 1;
    try {
      const startedAt = this.clock().toISOString();
      // The common case in one round trip: a queued query that never started becomes running, with its lease, as it is read.
      const started = await store.start(id, { startedAt, attempts: 1 }, this.deps.leaseMs);
      record = started ?? (await store.get(id));
      if (!record || TERMINAL_STATUSES.has(record.status)) {
        // Gone or finished: nothing should bring it back to the lane.
        if (!record) this.deps.logger.warn({ queryId: id }, 'execute: the query no longer exists');
        await store.laneForget(id);
        return undefined;
      }
      // Every start counts, including one after a worker died mid-run.
      attempt = started ? 1 : (record.execution?.attempts ?? 0) + 1;
      const run: Run = { id, attempt, record, startedAt, controller, keepRows: options.keepRows ?? 0, onStored: options.onStored };
      if (started) run.held = JSON.stringify(started.execution);
      return await this.run(run, started !== undefined);
    } finally {
      off();
      // A query with a Slack card gets it brought up to date (and, once final, a thread summary).
      if (record?.approval?.card) await this.deps.cards?.changed(id, `finished-${attempt}`);
    }
  }

  /** Run a query this worker has taken (`taken`), or take it first; how it ended when this call ran it to an end. */
  private async run(run: Run, taken: boolean): Promise<Executed | undefined> {
    const { id } = run;
    try {
      if (!taken && !(await this.take(run))) return undefined;
      if (!(await this.sameNamespace(run))) return undefined;
      if (!(await this.auditStarted(run))) return undefined;
      this.running.set(id, run.controller);
      const t0 = performance.now();
      let stored: Stored;
      try {
        stored = await this.runAndStore(run, t0);
      } catch (thrown) {
        const record = await this.failed(run, thrown, t0);
        const executed = record ? { record } : undefined;
        if (executed) run.onStored?.(executed);
        return executed;
      }
      const executed = stored.record ? { record: stored.record, rows: { columns: stored.columns, rows: stored.kept } } : undefined;
      // An agent waiting in this process has its answer before the session log's account of a result already stored.
      if (executed) run.onStored?.(executed);
      await this.succeeded(run, stored);
      return executed;
    } finally {
      // Only this run's own entry: a duplicate of a query this process runs must not unlist the run in hand.
      if (this.running.get(id) === run.controller) this.running.delete(id);
    }
  }

  /**
   * Move the record to `running` with this worker's lease, or take over a
   * dead worker's query. False when there is nothing to run: not queued,
   * another worker holds it (its lease is live), cancelled meanwhile, or a
   * write whose worker died (it ends `outcome_unknown`, never re-run).
   */
  private async take(run: Run): Promise<boolean> {
    const { id, attempt, record, startedAt } = run;
    const { store, logger, leaseMs } = this.deps;
    const execution = { startedAt, attempts: attempt };
    // Each step expects `execution` as read, so two takers (or a taker and a run that changed it meanwhile) resolve to one.
    const read = record.execution ? JSON.stringify(record.execution) : '';
    try {
      if (record.status === 'queued') {
        // A retry after a transient failure (a fresh query was started in execute()).
        await store.transition(id, ['queued'], { status: 'running', execution }, { leaseMs, execution: read });
        run.held = JSON.stringify(execution);
        return true;
      }
      if (record.status !== 'running') {
        logger.info({ queryId: id, status: record.status }, 'execute: skipped, the query is not queued');
        return false;
      }
      // Running: each step below succeeds only while no worker holds a lease on it, so a live
      // worker's query is left alone and two takers of a dead one resolve to one.
      // Reads are safe to re-run (a bounded number of times); writes never.
      if (record.readOnly && attempt > MAX_ATTEMPTS) {
        const error = { code: 'INTERNAL' as const, message: `The worker stopped each of the ${MAX_ATTEMPTS} times this read ran; it is not run again.` };
        await store.transition(id, ['running'], { status: 'failed', error }, { noLease: true, execution: read });
        await appendAfterTheFact(this.deps.audit, { type: 'failed', session: id, actor: this.workerName, data: error }, logger);
        return false;
      }
      if (record.readOnly && (await store.cancelRequested(id))) {
        // The agent cancelled this read while its worker was dying: it ends cancelled, not run again
        // (a write is left to the rule below: it may have run, so it ends outcome_unknown).
        await store.transition(id, ['running'], { status: 'cancelled', error: { code: 'CANCELLED', message: 'The agent withdrew the query.' } }, { noLease: true, execution: read });
        await appendAfterTheFact(this.deps.audit, { type: 'cancelled', session: id, actor: this.workerName, data: { reason: 'Cancelled by the agent while its worker stopped; not run again.' } }, logger);
        return false;
      }
      if (record.readOnly) {
        await store.transition(id, ['running'], { execution }, { leaseMs, noLease: true, execution: read });
        run.held = JSON.stringify(execution);
        logger.warn({ queryId: id, attempt }, 'execute: a worker died while this read ran; running it again');
        return true;
      }
      const error = { code: 'OUTCOME_UNKNOWN' as const, message: 'The worker stopped while the statement ran; it was not re-run. Check the warehouse.' };
      await store.transition(id, ['running'], { status: 'outcome_unknown', error }, { noLease: true, execution: read });
      await appendAfterTheFact(this.deps.audit, { type: 'failed', session: id, actor: this.workerName, data: { ...error, outcomeUnknown: true } }, logger);
      return false;
    } catch (err) {
      // Cancelled, taken by another worker, or still held by a live one: nothing to run.
      if (!isAirlockError(err, 'STATE_CONFLICT')) throw err;
      logger.info({ queryId: id, status: err.details.status }, 'execute: skipped, the query is held or changed state');
      return false;
    }
  }

  /**
   * A statement runs only where its names were resolved when it was decided:
   * after a policy reload moved the default database or schema, a query
   * decided before it ends NAMESPACE_CHANGED instead of running against
   * other tables than the ones judged. False when it ended so.
   */
  private async sameNamespace(run: Run): Promise<boolean> {
    const decidedIn = run.record.resolvedIn;
    const now = this.deps.namespace?.();
    if (!decidedIn || !now || (decidedIn.database === now.database && decidedIn.schema === now.schema)) return true;
    const error = {
      code: 'NAMESPACE_CHANGED' as const,
      message: `The policy now resolves unqualified names in ${now.database}.${now.schema}, not ${decidedIn.database}.${decidedIn.schema} as when this query was decided; it was not run. Submit it again.`,
    };
    const ended = await this.deps.store
      .transition(run.id, ['running'], { status: 'failed', error }, { execution: run.held })
      .then(() => true)
      .catch(() => false);
    if (ended) await appendAfterTheFact(this.deps.audit, { type: 'failed', session: run.id, actor: this.workerName, data: error }, this.deps.logger);
    this.deps.logger.warn({ queryId: run.id, decidedIn, now }, 'execute: the default namespace changed since the query was decided; not run');
    return false;
  }

  /** Fail closed: no statement runs without its start in the session log. False when the log refused it. */
  private async auditStarted(run: Run): Promise<boolean> {
    const { id, attempt } = run;
    if (!this.deps.audit) return true;
    try {
      await this.deps.audit.append({ type: 'execution_started', session: id, actor: this.workerName, data: { worker: this.workerName, attempt } });
      return true;
    } catch {
      await this.deps.store
        .transition(id, ['running'], { status: 'failed', error: { code: 'AUDIT_UNAVAILABLE', message: 'The audit log was unavailable, so the statement was not run.' } }, { execution: run.held })
        .catch(() => undefined);
      this.deps.logger.warn({ queryId: id }, 'audit log unavailable: statement not run');
      return false;
    }
  }

  /**
   * Run the statement, then mask, cap and store what it returned; the record
   * moves running → succeeded in the same step as the last page is stored.
   */
  private async runAndStore(run: Run, t0: number): Promise<Stored> {
    const { id, record, controller } = run;
    const { store, warehouse, limits } = this.deps;
    // The policy may cap rows lower than the installation-wide limit.
    const maxRows = Math.min(limits.maxRows, record.decision.limits?.maxRows ?? Number.POSITIVE_INFINITY);
    const result = await warehouse.execute(record.sql, {
      signal: controller.signal,
      timeoutMs: limits.statementTimeoutMs,
      maxRows,
      queryTag: `airlock:${id}`,
    });
    const columns = result.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, precision: c.precision ?? null, scale: c.scale ?? null }));
    // Masked inside the worker, before anything is stored, returned or shown (DESIGN §6).
    const masked = this.deps.masking?.begin(record.sql, columns.map((c) => c.name), result.rows);
    // Then capped by cells and bytes (one LISTAGG row can carry a table), on what would be stored.
    const caps = limits.caps ?? DEFAULT_RESULT_CAPS;
    const capped = capRows(masked ? masked.rows : result.rows, caps);
    // The session log keeps the first rows as a preview, only ever from the masked stream.
    const preview = masked ? firstRows(capped.rows, PREVIEW_ROWS) : undefined;
    let stored: Stored | undefined;
    const kept: unknown[][] = [];
    // Built once the rows are drained (what was cut, masked and stored is known then).
    const finish = (saved: { rowCount: number; sha256: string }): RecordPatch => {
      const cut = capped.report();
      const truncatedBy: TruncatedBy | undefined = cut.truncatedBy ?? (result.truncated ? 'rows' : undefined);
      const note = resultNote({
        truncatedBy,
        rowCount: saved.rowCount,
        limit: truncatedBy === 'rows' ? maxRows : truncatedBy === 'cells' ? caps.maxCells : truncatedBy === 'bytes' ? caps.maxBytes : undefined,
        oversizedCells: cut.oversizedCells,
        maxCellBytes: caps.maxCellBytes,
      });
      stored = {
        warehouseQueryId: result.queryId,
        rowsAffected: result.rowsAffected,
        columns,
        saved,
        outcome: {
          truncated: truncatedBy !== undefined,
          ...(truncatedBy ? { truncatedBy } : {}),
          ...(cut.oversizedCells > 0 ? { oversizedCells: cut.oversizedCells } : {}),
          ...(note ? { note } : {}),
        },
        masking: masked?.report(),
        preview: preview?.taken,
        durationMs: Math.round(performance.now() - t0),
        record: undefined,
        kept,
      };
      return this.successPatch(run, stored);
    };
    const rows = preview ? preview.rows : capped.rows;
    const written = await store.saveResult(id, columns, run.keepRows > 0 ? keepFirst(rows, run.keepRows, kept) : rows, { from: ['running'], patch: finish, guard: { execution: run.held } });
    stored!.record = written.record;
    return stored!;
  }

  /** What the record says of a run that succeeded. */
  private successPatch({ attempt, startedAt }: Run, stored: Stored): RecordPatch {
    const { warehouseQueryId, rowsAffected, saved, outcome, masking, durationMs } = stored;
    return {
      status: 'succeeded',
      execution: {
        warehouseQueryId,
        startedAt,
        finishedAt: this.clock().toISOString(),
        durationMs,
        rowCount: saved.rowCount,
        ...(rowsAffected !== undefined ? { rowsAffected } : {}),
        ...outcome,
        resultSha256: saved.sha256,
        attempts: attempt,
        ...(masking ? { masking } : {}),
      },
    };
  }

  /** The record says succeeded (runAndStore): log it, and `execution_finished` in the session log. */
  private async succeeded({ id }: Run, stored: Stored): Promise<void> {
    const { logger } = this.deps;
    const { warehouseQueryId, rowsAffected, saved, outcome, masking, durationMs } = stored;
    logger.info({ queryId: id, warehouseQueryId, rows: saved.rowCount, durationMs }, 'query succeeded');
    await appendAfterTheFact(
      this.deps.audit,
      {
        type: 'execution_finished',
        session: id,
        actor: this.workerName,
        data: {
          rows: saved.rowCount,
          ...(rowsAffected !== undefined ? { rowsAffected } : {}),
          durationMs,
          resultSha256: saved.sha256,
          truncated: outcome.truncated,
          ...(outcome.truncatedBy ? { truncatedBy: outcome.truncatedBy } : {}),
          ...(outcome.oversizedCells ? { oversizedCells: outcome.oversizedCells } : {}),
          warehouseQueryId,
          masking: {
            columns: (masking?.columns ?? []).map((c) => ({ name: c.name, strategy: c.strategy, source: c.detail, reason: c.reason })),
            ...(masking?.columns.some((c) => c.reason === 'detector') ? { detectors: detectorCounts(masking) } : {}),
          },
          ...(stored.preview ? { preview: { columns: stored.columns.map((c) => c.name), rows: stored.preview } } : {}),
        },
      },
      logger,
    );
  }

  /**
   * A failed or cancelled run: a transient failure of a read goes back to
   * `queued`, scheduled to run again after a backoff (the lane's delayed set,
   * in the same step); anything else ends the query, and the session log
   * records only an outcome the record holds.
   */
  private async failed({ id, attempt, record, startedAt, controller, held }: Run, thrown: unknown, t0: number): Promise<QueryRecord | undefined> {
    const { store, logger } = this.deps;
    let err = asAirlockError(thrown);
    if (err.code === 'INTERNAL') logger.error({ queryId: id, err: thrown }, 'query failed unexpectedly');
    if (controller.signal.reason === SHUTDOWN && err.code === 'WAREHOUSE_CANCELLED' && record.readOnly) {
      // A read cut short by this worker's shutdown goes back to the lane (below) for another worker.
      err = new AirlockError('WAREHOUSE_UNAVAILABLE', 'The worker running this read shut down; it runs again on another worker.', { cause: thrown });
    }
    const execution = { startedAt, finishedAt: this.clock().toISOString(), durationMs: Math.round(performance.now() - t0), attempts: attempt };
    if (isTransient(err.code) && record.readOnly && attempt < MAX_ATTEMPTS) {
      logger.info({ queryId: id, code: err.code, attempt }, 'query failed transiently; it runs again after a backoff');
      // Should this write fail, the lease lapses and the sweeper brings the query back all the same.
      await store.transition(id, ['running'], { status: 'queued', execution }, { retryAfterMs: retryAfterMs(attempt), execution: held }).catch(() => undefined);
      return undefined;
    }
    const cancelled = err.code === 'WAREHOUSE_CANCELLED';
    // A warehouse error can echo a value from the data: only what the agent sent stays (whatever the adapter did).
    const message = redactErrorText(err.message, { sql: record.sql, names: record.decision.statements.flatMap((s) => s.tables) });
    const recorded = await store
      .transition(id, ['running'], { status: cancelled ? 'cancelled' : 'failed', execution, error: { code: err.code, message, details: err.details } }, { execution: held })
      .catch((e: unknown) => {
        logger.error({ queryId: id, err: e }, 'could not record the failure');
        return undefined;
      });
    logger.info({ queryId: id, code: err.code }, cancelled ? 'query cancelled' : 'query failed');
    // The session log follows the record: an outcome the record does not hold is not logged either.
    if (!recorded) return undefined;
    await appendAfterTheFact(
      this.deps.audit,
      cancelled
        ? { type: 'cancelled', session: id, actor: this.workerName, data: { reason: 'Cancelled while it ran (the agent withdrew it, or Airlock shut down).' } }
        : {
            type: 'failed',
            session: id,
            actor: this.workerName,
            data: { code: err.code, message, ...(typeof err.details.queryId === 'string' ? { warehouseQueryId: err.details.queryId } : {}) },
          },
      logger,
    );    return recorded;
  }
}

/** Pass `rows` through, copying the first `n` into `into` (the caller's first page, as stored). */
async function* keepFirst(rows: AsyncIterable<unknown[]>, n: number, into: unknown[][]): AsyncGenerator<unknown[]> {
  for await (const row of rows) {
    if (into.length < n) into.push(row);
    yield row;
  }
}
