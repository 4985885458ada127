/**
 * Runs statements for sessions: ALTER SESSION, translation by the SQL layer,
 * execution on the session's DuckDB connection with bindings, Snowflake
 * encoding into a stored result, cancellation and statement timeouts.
 *
 * Every statement gets a query record at once (so `asyncExec`, monitoring and
 * cancel work before it finishes); execution is queued on the session.
 */
import { randomUUID } from 'node:crypto';
import {
  ResultReturnType,
  StatementType as DuckStatementType,
  type DuckDBResult,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { Logger } from 'pino';
import { columnCodec, encodeJsValue, syntheticRowType, type Cell, type ColumnCodec, type RowTypeColumn } from './encode.ts';
import { quoteIdent, type Engine } from './engine.ts';
import { ResultBuilder, type ResultStore, type StoredResult } from './result-store.ts';
import { normalizeParam, parseAlterSession, type ParamValue } from './session-params.ts';
import type { Session } from './sessions.ts';
import { rewriteNumberedBinds, statusMessage } from './statement-text.ts';
import { mapDuckDbError, translate } from './sql/translate.ts';
import type { StatementType, Translation } from './sql/types.ts';
import { SnowflakeWireError } from './wire-error.ts';

/** Query states, as `GET /monitoring/queries/{id}` reports them. */
export type QueryStatus = 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';

/** One binding as snowflake-sdk sends it: `{"1": {type: 'TEXT', value: 'x'}}`; arrays mean array binding. */
export interface WireBinding {
  type?: string;
  value: string | null | (string | null)[];
}

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

/** snowflake-sdk's statement type ids (see its statement_type.js and JDBC's SFStatementType). */
const STATEMENT_TYPE_IDS: Record<StatementType, number> = {
  select: 0x1000,
  insert: 0x3100,
  update: 0x3200,
  delete: 0x3300,
  merge: 0x3400,
  set: 0x4100,
  use: 0x4300,
  show: 0x4400,
  describe: 0x4500,
  transaction: 0x5000,
  ddl: 0x6000,
  other: 0x0000,
};

const DML_COLUMN: Partial<Record<StatementType, string>> = {
  insert: 'number of rows inserted',
  update: 'number of rows updated',
  delete: 'number of rows deleted',
  merge: 'number of rows merged',
};

function fromDuckStatementType(t: DuckStatementType): StatementType {
  switch (t) {
    case DuckStatementType.SELECT:
    case DuckStatementType.EXPLAIN:
    case DuckStatementType.PRAGMA:
      return 'select';
    case DuckStatementType.INSERT:
      return 'insert';
    case DuckStatementType.UPDATE:
      return 'update';
    case DuckStatementType.DELETE:
      return 'delete';
    case DuckStatementType.MERGE_INTO:
      return 'merge';
    case DuckStatementType.CREATE:
    case DuckStatementType.CREATE_FUNC:
    case DuckStatementType.DROP:
    case DuckStatementType.ALTER:
    case DuckStatementType.ATTACH:
    case DuckStatementType.DETACH:
      return 'ddl';
    case DuckStatementType.TRANSACTION:
      return 'transaction';
    case DuckStatementType.SET:
    case DuckStatementType.VARIABLE_SET:
      return 'set';
    default:
      return 'other';
  }
}

/** Options of the query service. */
export interface QueryServiceOptions {
  engine: Engine;
  results: ResultStore;
  chunkRows: number;
  now: () => number;
  /** Finished query records are forgotten after this long (results have their own TTL). */
  recordTtlMs: number;
  logger?: Logger;
}

/** Submits, tracks, cancels and times out statements. */
export class QueryService {
  private readonly records = new Map<string, QueryRecord>();
  private readonly byRequestId = new Map<string, QueryRecord>();

  constructor(private readonly opts: QueryServiceOptions) {}

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
  cancelSession(session: Session): Promise<void[]> {
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
      if (record.interrupted) throw this.interruptError(record);
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
      record.result = await this.run(record, req, params);
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

  private interruptError(record: QueryRecord): SnowflakeWireError {
    return record.interrupted === 'timeout'
      ? SnowflakeWireError.of(
          'STATEMENT_TIMEOUT',
          `Statement reached its statement or warehouse timeout of ${record.timeoutSeconds} second(s) and was canceled.`,
        )
      : SnowflakeWireError.of('QUERY_CANCELED');
  }

  private toWireError(record: QueryRecord, err: unknown): SnowflakeWireError {
    if (record.interrupted) return this.interruptError(record);
    if (err instanceof SnowflakeWireError) return err;
    const message = err instanceof Error ? err.message : String(err);
    // DuckDB errors carry a "<Kind> Error:" prefix; anything else is our bug.
    if (/^[A-Za-z ]+ Error: /.test(message) || /^INTERRUPT/.test(message)) {
      const mapped = mapDuckDbError(message);
      return new SnowflakeWireError(mapped.code, mapped.sqlState, mapped.message, { cause: err });
    }
    return SnowflakeWireError.of('INTERNAL', `SQL execution internal error: ${message}`, { cause: err });
  }

  private async run(record: QueryRecord, req: QueryRequest, params: Record<string, ParamValue>): Promise<StoredResult> {
    const session = record.session;
    const alter = parseAlterSession(req.sqlText);
    if (alter) {
      if (alter.op === 'set') Object.assign(session.params, alter.values);
      else for (const name of alter.names) delete session.params[name];
      if (alter.op === 'set' && typeof alter.values.TIMEZONE === 'string') {
        await session.conn.run(`SET TimeZone = '${alter.values.TIMEZONE.replace(/'/g, "''")}'`);
      }
      return this.statusResult(record, 'set', 'Statement executed successfully.', { ...session.params });
    }

    let translation: Translation;
    try {
      const engine = this.opts.engine;
      translation = translate(req.sqlText, {
        database: session.context.database,
        schema: session.context.schema,
        user: session.user,
        role: session.context.role,
        warehouse: session.context.warehouse,
        columnsOf: (database, schema, table) => engine.columnsOf(database, schema, table),
        declaredTypesOf: (database, schema, table) => engine.declaredTypesOf(database, schema, table),
      });
    } catch (err) {
      throw SnowflakeWireError.of('INTERNAL', `SQL translation failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }

    if (translation.kind === 'error') {
      const e = translation.error;
      throw new SnowflakeWireError(e.code, e.sqlState, e.message);
    }
    if (translation.kind === 'result') {
      if (translation.context) await this.useContext(session, translation.context);
      const builder = new ResultBuilder(this.opts.chunkRows);
      const rowtype = translation.columns.map(syntheticRowType);
      await builder.add(translation.rows.map((row) => rowtype.map((col, i) => encodeJsValue(col.type, row[i]))));
      return this.save(record, rowtype, builder, translation.statementType, params, 0);
    }

    const created = this.attachTarget(translation.sql);
    if (created) {
      const fresh = await this.opts.engine.createDatabase(created.name);
      if (!fresh && !created.ifNotExists) {
        throw new SnowflakeWireError('002002', '42710', `SQL compilation error:\nObject '${created.name}' already exists.`);
      }
      return this.statusResult(record, 'ddl', `Database ${created.name} successfully created.`, params);
    }

    const { sql, rows: bindRows, count: numberOfBinds } = prepareBindings(translation.sql, req.bindings);
    const columnOrigins = translation.columnOrigins ?? [];
    const columnTypes = translation.columnTypes ?? [];
    const timeZone = String(session.params.TIMEZONE ?? 'UTC');
    record.running = true;
    if (record.interrupted) throw this.interruptError(record);

    if (req.describeOnly) {
      const prepared = await session.conn.prepare(sql);
      try {
        const rowtype: RowTypeColumn[] = [];
        for (let i = 0; i < prepared.columnCount; i++) {
          rowtype.push(columnCodec(prepared.columnName(i), prepared.columnType(i), columnOrigins[i], columnTypes[i], timeZone).rowType);
        }
        const st = translation.statementType === 'other' ? fromDuckStatementType(prepared.statementType) : translation.statementType;
        return this.save(record, rowtype, new ResultBuilder(this.opts.chunkRows), st, params, numberOfBinds);
      } finally {
        prepared.destroySync();
      }
    }

    let statementType = translation.statementType;
    let changed = 0n;
    let result: DuckDBResult | undefined;
    for (const values of bindRows) {
      result = values ? await session.conn.stream(sql, values) : await session.conn.stream(sql);
      if (statementType === 'other' || statementType === 'select') {
        const derived = fromDuckStatementType(result.statementType);
        if (derived !== 'select' || statementType === 'other') statementType = derived;
      }
      if (result.returnType === ResultReturnType.CHANGED_ROWS) {
        const chunk = await result.fetchChunk();
        const v = chunk && chunk.rowCount > 0 ? chunk.getColumnValues(0)[0] : 0;
        changed += BigInt(typeof v === 'bigint' || typeof v === 'number' ? v : 0);
      }
    }
    if (!result) throw SnowflakeWireError.of('BIND_MISMATCH');

    if (result.returnType === ResultReturnType.CHANGED_ROWS || DML_COLUMN[statementType] !== undefined && result.returnType !== ResultReturnType.QUERY_RESULT) {
      const builder = new ResultBuilder(this.opts.chunkRows);
      await builder.add([[changed.toString()]]);
      const rowtype = [syntheticRowType({ name: DML_COLUMN[statementType] ?? 'number of rows affected', type: 'fixed', precision: 38, scale: 0 })];
      return this.save(record, rowtype, builder, statementType, params, numberOfBinds);
    }
    if (result.returnType !== ResultReturnType.QUERY_RESULT) {
      if (statementType === 'use' || statementType === 'set') await this.syncContext(session);
      // e.g. the comments recording declared TIMESTAMP_TZ columns, right after their CREATE/ALTER TABLE.
      for (const followUp of translation.followUp ?? []) await session.conn.run(followUp);
      if (statementType === 'ddl') await this.opts.engine.refreshCatalog();
      return this.statusResult(record, statementType, statusMessage(req.sqlText), params, numberOfBinds);
    }

    const codecs: ColumnCodec[] = [];
    const names = result.columnNames();
    for (let i = 0; i < result.columnCount; i++) codecs.push(columnCodec(names[i]!, result.columnType(i), columnOrigins[i], columnTypes[i], timeZone));
    const builder = new ResultBuilder(this.opts.chunkRows);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      const rows: Cell[][] = new Array(n);
      for (let r = 0; r < n; r++) rows[r] = new Array(codecs.length);
      for (let c = 0; c < codecs.length; c++) {
        const encode = codecs[c]!.encode;
        const values = chunk.getColumnValues(c);
        for (let r = 0; r < n; r++) rows[r]![c] = encode(values[r] as DuckDBValue);
      }
      await builder.add(rows);
      if (record.interrupted) throw this.interruptError(record);
    }
    // An interrupted stream can end early without an error: never return a truncated result.
    if (record.interrupted) throw this.interruptError(record);
    if (statementType === 'use') await this.syncContext(session);
    return this.save(record, codecs.map((c) => c.rowType), builder, statementType, params, numberOfBinds);
  }

  /** `ATTACH ':memory:' AS "X"` from the SQL layer means CREATE DATABASE: route it to the engine. */
  private attachTarget(sql: string): { name: string; ifNotExists: boolean } | undefined {
    const m = /^\s*attach\s+(?:database\s+)?(if\s+not\s+exists\s+)?':memory:'\s+as\s+"?([A-Za-z_][A-Za-z0-9_$]*)"?\s*;?\s*$/i.exec(sql);
    return m ? { name: m[2]!, ifNotExists: Boolean(m[1]) } : undefined;
  }

  private async useContext(session: Session, ctx: { database?: string; schema?: string }): Promise<void> {
    const database = ctx.database ?? session.context.database;
    const schema = ctx.schema ?? (ctx.database !== undefined ? 'PUBLIC' : session.context.schema);
    try {
      await session.conn.run(`USE ${quoteIdent(database)}.${quoteIdent(schema)}`);
    } catch (err) {
      throw SnowflakeWireError.of(
        'OBJECT_DOES_NOT_EXIST',
        `Object does not exist, or operation cannot be performed. (${database}.${schema})`,
        { cause: err },
      );
    }
    session.context.database = database;
    session.context.schema = schema;
  }

  private async syncContext(session: Session): Promise<void> {
    const r = await session.conn.runAndReadAll('SELECT current_database(), current_schema()');
    const [db, schema] = r.getRows()[0] ?? [];
    if (typeof db === 'string') session.context.database = db;
    if (typeof schema === 'string') session.context.schema = schema;
  }

  private async statusResult(
    record: QueryRecord,
    statementType: StatementType,
    message: string,
    params: Record<string, ParamValue>,
    numberOfBinds = 0,
  ): Promise<StoredResult> {
    const builder = new ResultBuilder(this.opts.chunkRows);
    await builder.add([[message]]);
    return this.save(record, [syntheticRowType({ name: 'status', type: 'text' })], builder, statementType, params, numberOfBinds);
  }

  private save(
    record: QueryRecord,
    rowtype: RowTypeColumn[],
    builder: ResultBuilder,
    statementType: StatementType,
    params: Record<string, ParamValue>,
    numberOfBinds: number,
  ): Promise<StoredResult> {
    return this.opts.results.save(
      {
        queryId: record.id,
        rowtype,
        statementTypeId: STATEMENT_TYPE_IDS[statementType],
        parameters: params,
        context: { ...record.session.context },
        numberOfBinds,
      },
      builder,
    );
  }
}

/** DuckDB values for one binding, by the type snowflake-sdk declared. */
function bindValue(type: string | undefined, value: string | null): DuckDBValue {
  if (value === null) return null;
  switch ((type ?? 'TEXT').toUpperCase()) {
    case 'FIXED':
      return /^-?\d+$/.test(value) ? BigInt(value) : Number(value);
    case 'REAL':
      return Number(value);
    case 'BOOLEAN':
      return value === 'true' || value === '1' || value.toUpperCase() === 'TRUE';
    default:
      return value;
  }
}

/**
 * Turn the wire bindings into DuckDB parameter rows: one row normally, one per
 * element for array binding; `[undefined]` when there are no bindings.
 */
function prepareBindings(
  sql: string,
  bindings: Record<string, WireBinding> | undefined,
): { sql: string; rows: (DuckDBValue[] | undefined)[]; count: number } {
  const entries = Object.entries(bindings ?? {})
    .map(([k, b]) => [Number(k), b] as const)
    .filter(([k]) => Number.isInteger(k) && k > 0)
    .sort(([a], [b]) => a - b);
  if (entries.length === 0) return { sql, rows: [undefined], count: 0 };
  for (let i = 0; i < entries.length; i++) {
    if (entries[i]![0] !== i + 1) throw SnowflakeWireError.of('BIND_MISMATCH', `Bind variable :${i + 1} not set.`);
  }
  const rewritten = rewriteNumberedBinds(sql);
  const isArray = entries.some(([, b]) => Array.isArray(b.value));
  if (!isArray) {
    return { sql: rewritten, rows: [entries.map(([, b]) => bindValue(b.type, b.value as string | null))], count: entries.length };
  }
  const length = Math.max(...entries.map(([, b]) => (Array.isArray(b.value) ? b.value.length : 1)));
  const rows: DuckDBValue[][] = [];
  for (let r = 0; r < length; r++) {
    rows.push(entries.map(([, b]) => bindValue(b.type, Array.isArray(b.value) ? (b.value[r] ?? null) : b.value)));
  }
  return { sql: rewritten, rows, count: entries.length };
}
