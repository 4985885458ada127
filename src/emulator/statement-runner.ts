/**
 * Runs one statement on its session's DuckDB connection, in named steps:
 * ALTER SESSION, translation by the SQL layer, CREATE DATABASE, describe,
 * execution with bindings, and encoding into a stored result. Interrupts are
 * checked between steps and chunks (`query-record.ts`).
 */
import { ResultReturnType, type DuckDBResult, type DuckDBValue } from '@duckdb/node-api';
import { prepareBindings } from './bindings.ts';
import { columnCodec, encodeJsValue, syntheticRowType, type Cell, type ColumnCodec, type RowTypeColumn } from './encode.ts';
import { quoteIdent, type Engine } from './engine.ts';
import { interruptError, type QueryRecord, type QueryRequest } from './query-record.ts';
import { ResultBuilder, type ResultStore, type StoredResult } from './result-store.ts';
import type { ParamValue } from '../snowflake-wire/parameters.ts';
import { parseAlterSession, type AlterSession } from './session-params.ts';
import { parseAlterUserKey, type AlterUserKey } from './alter-user.ts';
import type { Authenticator } from './auth.ts';
import type { Session } from './sessions.ts';
import { statusMessage } from './statement-text.ts';
import { DML_COLUMN, fromDuckStatementType, STATEMENT_TYPE_IDS } from './statement-types.ts';
import { translate } from './sql/translate.ts';
import type { StatementType, Translation } from './sql/types.ts';
import { SnowflakeWireError } from '../snowflake-wire/errors.ts';

/** A DuckDB statement ready to run: bound SQL and how to encode its columns. */
interface PreparedStatement {
  sql: string;
  /** One parameter row per execution; `[undefined]` without bindings. */
  bindRows: (DuckDBValue[] | undefined)[];
  numberOfBinds: number;
  statementType: StatementType;
  columnOrigins: NonNullable<Extract<Translation, { kind: 'duckdb' }>['columnOrigins']>;
  columnTypes: (string | null)[];
  timeZone: string;
  params: Record<string, ParamValue>;
}

/** What the runner works with. */
export interface StatementRunnerOptions {
  engine: Engine;
  results: ResultStore;
  chunkRows: number;
  /** The user's key slots, changed by `ALTER USER … SET/UNSET RSA_PUBLIC_KEY[_2]`. */
  keys?: Pick<Authenticator, 'setPublicKey'> & { user: string };
}

/** Runs statements into stored results; one per emulator. */
export class StatementRunner {
  constructor(private readonly opts: StatementRunnerOptions) {}

  /** One statement, step by step: ALTER SESSION, translation, then the DuckDB statement it became. */
  async run(record: QueryRecord, req: QueryRequest, params: Record<string, ParamValue>): Promise<StoredResult> {
    const session = record.session;
    const alter = parseAlterSession(req.sqlText);
    if (alter) return this.alterSession(record, alter);
    const keyChange = this.opts.keys ? parseAlterUserKey(req.sqlText) : undefined;
    if (keyChange) return this.alterUserKey(record, keyChange, params);

    const translation = this.translate(session, req.sqlText);
    if (translation.kind === 'error') {
      const e = translation.error;
      throw new SnowflakeWireError(e.code, e.sqlState, e.message);
    }
    if (translation.kind === 'result') return this.computedResult(record, translation, params);

    const created = this.attachTarget(translation.sql);
    if (created) return this.createDatabase(record, created, params);

    const { sql, rows: bindRows, count: numberOfBinds } = prepareBindings(translation.sql, req.bindings);
    const stmt: PreparedStatement = {
      sql,
      bindRows,
      numberOfBinds,
      statementType: translation.statementType,
      columnOrigins: translation.columnOrigins ?? [],
      columnTypes: translation.columnTypes ?? [],
      timeZone: String(session.params.TIMEZONE ?? 'UTC'),
      params,
    };
    record.running = true;
    if (record.interrupted) throw interruptError(record);
    if (req.describeOnly) return this.describe(record, stmt);

    const { result, statementType, changed } = await this.executeAll(session, stmt);
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
    return this.queryResult(record, result, { ...stmt, statementType });
  }

  /** ALTER SESSION SET/UNSET: the session's parameters change; TIMEZONE also reaches DuckDB. */
  private async alterSession(record: QueryRecord, alter: AlterSession): Promise<StoredResult> {
    const session = record.session;
    if (alter.op === 'set') Object.assign(session.params, alter.values);
    else for (const name of alter.names) delete session.params[name];
    if (alter.op === 'set' && typeof alter.values.TIMEZONE === 'string') {
      await session.conn.run(`SET TimeZone = '${alter.values.TIMEZONE.replace(/'/g, "''")}'`);
    }
    return this.statusResult(record, 'set', 'Statement executed successfully.', { ...session.params });
  }

  /** ALTER USER … SET/UNSET RSA_PUBLIC_KEY[_2]: the next logins see the slot as changed (docs/operations.md). */
  private async alterUserKey(record: QueryRecord, change: AlterUserKey, params: Record<string, ParamValue>): Promise<StoredResult> {
    const keys = this.opts.keys!;
    if (change.user !== keys.user.toUpperCase()) {
      throw SnowflakeWireError.of('OBJECT_DOES_NOT_EXIST', `User '${change.user}' does not exist or not authorized.`);
    }
    try {
      keys.setPublicKey(change.slot, change.pem);
    } catch {
      throw SnowflakeWireError.of('INVALID_PARAMETER_VALUE', `Invalid value for RSA_PUBLIC_KEY${change.slot === 2 ? '_2' : ''}: not an RSA public key.`);
    }
    return this.statusResult(record, 'ddl', 'Statement executed successfully.', params);
  }

  /** Snowflake SQL to DuckDB SQL (or a computed result, or a refusal) in the session's context. */
  private translate(session: Session, sqlText: string): Translation {
    try {
      const engine = this.opts.engine;
      return translate(sqlText, {
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
  }

  /** A result the SQL layer computed without DuckDB (USE, SHOW, …), after switching context if it says so. */
  private async computedResult(
    record: QueryRecord,
    translation: Extract<Translation, { kind: 'result' }>,
    params: Record<string, ParamValue>,
  ): Promise<StoredResult> {
    if (translation.context) await this.useContext(record.session, translation.context);
    const builder = new ResultBuilder(this.opts.chunkRows);
    const rowtype = translation.columns.map(syntheticRowType);
    await builder.add(translation.rows.map((row) => rowtype.map((col, i) => encodeJsValue(col.type, row[i]))));
    return this.save(record, rowtype, builder, translation.statementType, params, 0);
  }

  /** CREATE DATABASE, routed to the engine (one DuckDB file per database when persisted). */
  private async createDatabase(
    record: QueryRecord,
    created: { name: string; ifNotExists: boolean },
    params: Record<string, ParamValue>,
  ): Promise<StoredResult> {
    const fresh = await this.opts.engine.createDatabase(created.name);
    if (!fresh && !created.ifNotExists) {
      throw new SnowflakeWireError('002002', '42710', `SQL compilation error:\nObject '${created.name}' already exists.`);
    }
    return this.statusResult(record, 'ddl', `Database ${created.name} successfully created.`, params);
  }

  /** `describeOnly`: the rowtype of a prepared statement, without running it. */
  private async describe(record: QueryRecord, stmt: PreparedStatement): Promise<StoredResult> {
    const prepared = await record.session.conn.prepare(stmt.sql);
    try {
      const rowtype: RowTypeColumn[] = [];
      for (let i = 0; i < prepared.columnCount; i++) {
        rowtype.push(columnCodec(prepared.columnName(i), prepared.columnType(i), stmt.columnOrigins[i], stmt.columnTypes[i], stmt.timeZone).rowType);
      }
      const st = stmt.statementType === 'other' ? fromDuckStatementType(prepared.statementType) : stmt.statementType;
      return this.save(record, rowtype, new ResultBuilder(this.opts.chunkRows), st, stmt.params, stmt.numberOfBinds);
    } finally {
      prepared.destroySync();
    }
  }

  /**
   * Run the statement once per bind row (array binding runs it once per
   * element); the last result stays open for its rows, changed-row counts add up.
   */
  private async executeAll(
    session: Session,
    stmt: PreparedStatement,
  ): Promise<{ result: DuckDBResult; statementType: StatementType; changed: bigint }> {
    let statementType = stmt.statementType;
    let changed = 0n;
    let result: DuckDBResult | undefined;
    for (const values of stmt.bindRows) {
      result = values ? await session.conn.stream(stmt.sql, values) : await session.conn.stream(stmt.sql);
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
    return { result, statementType, changed };
  }

  /** Encode a query's rows chunk by chunk into a stored result; an interrupt never leaves a truncated one. */
  private async queryResult(record: QueryRecord, result: DuckDBResult, stmt: PreparedStatement): Promise<StoredResult> {
    const codecs: ColumnCodec[] = [];
    const names = result.columnNames();
    for (let i = 0; i < result.columnCount; i++) {
      codecs.push(columnCodec(names[i]!, result.columnType(i), stmt.columnOrigins[i], stmt.columnTypes[i], stmt.timeZone));
    }
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
      if (record.interrupted) throw interruptError(record);
    }
    // An interrupted stream can end early without an error: never return a truncated result.
    if (record.interrupted) throw interruptError(record);
    if (stmt.statementType === 'use') await this.syncContext(record.session);
    return this.save(record, codecs.map((c) => c.rowType), builder, stmt.statementType, stmt.params, stmt.numberOfBinds);
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
