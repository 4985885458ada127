/**
 * Statements from the driver as Airlock queries: each one goes through the
 * query service exactly as `POST /v1/queries` does (policy, approvals,
 * masking, limits, session log), marked as having come over the wire.
 *
 * The driver's "in progress" polling carries a review: while a query waits
 * for approvers (or runs), each poll is held open up to {@link HOLD_MS} and
 * then answered `333333`, and the driver asks again at once.
 */
import type { Redis } from 'ioredis';
import { AirlockError, isAirlockError } from '../../errors.ts';
import { encodeCursor } from '../../queries/cursor.ts';
import type { QueryService } from '../../queries/service.ts';
import type { QueryStatus } from '../../queries/types.ts';
import type { QueryView } from '../../queries/view.ts';
import { SnowflakeWireError } from '../errors.ts';
import type { MonitorStatus, QueryMonitor, StatementRequest, StatementState } from '../port.ts';
import { applyBindings } from './binds.ts';
import type { ChunkLinks } from './chunks.ts';
import { gatewayError, wireErrorFor } from './codes.ts';
import type { WireKeys } from './keys.ts';
import { encodeRows, hasTemporal, rowsetPlan, settleTemporal, type RowsetPlan } from './rowset.ts';
import { guard, type WireSession } from './sessions.ts';

/** How long one poll is held open while a query waits for approval or runs. */
export const HOLD_MS = 15_000;
/** Rows per chunk after the inline rows. */
const CHUNK_ROWS = 10_000;
/** How long the driver's request id stays linked to its query (abort before the driver knows the id). */
const REQUEST_TTL_SECONDS = 3600;
/** What a request id links to when the driver aborted it before its query existed. */
const ABORTED = 'aborted';

const MONITOR: Record<QueryStatus, MonitorStatus> = {
  pending_approval: 'QUEUED',
  approved: 'QUEUED',
  queued: 'QUEUED',
  running: 'RUNNING',
  succeeded: 'SUCCESS',
  failed: 'FAILED_WITH_ERROR',
  outcome_unknown: 'FAILED_WITH_ERROR',
  denied: 'FAILED_WITH_ERROR',
  rejected: 'FAILED_WITH_ERROR',
  expired: 'FAILED_WITH_ERROR',
  cancelled: 'ABORTED',
};

const STATEMENT_TYPE: Record<string, number> = {
  select: 0x1000,
  insert: 0x3100,
  update: 0x3200,
  delete: 0x3300,
  merge: 0x3400,
  show: 0x4400,
  describe: 0x4500,
  create: 0x6000,
  drop: 0x6000,
  alter: 0x6000,
};

export interface WireStatementsDeps {
  queries: QueryService;
  chunks: ChunkLinks;
  redis: Redis;
  keys: WireKeys;
  /** Longest hold the install allows (AIRLOCK_MAX_WAIT_MS). */
  maxWaitMs: number;
}

/** Submits, reads, monitors and cancels a session's statements. */
export class WireStatements {
  private readonly holdMs: number;

  constructor(private readonly deps: WireStatementsDeps) {
    this.holdMs = Math.min(HOLD_MS, deps.maxWaitMs);
  }

  /** Submit one statement as an Airlock query; hold the request a while unless `asyncExec`. */
  async submit(session: WireSession, request: StatementRequest, baseUrl: string): Promise<StatementState> {
    const { sql, count } = applyBindings(request.sqlText, request.bindings);
    const text = request.describeOnly ? describeOnlySql(sql) : sql;
    let view: QueryView;
    try {
      view = await this.deps.queries.submit(
        session.requester,
        {
          sql: text,
          waitMs: 0,
          // The marker approvers see on the card and reviewers in the session log: it came over the wire.
          purpose: wirePurpose(session, request),
          labels: { via: 'snowflake-wire', 'wire-session': session.id },
          // The driver re-sends a request it lost with the same request id: one query, not two.
          ...(request.requestId ? { idempotencyKey: `snowflake-wire:${request.requestId}` } : {}),
        },
        request.client,
      );
    } catch (err) {
      return { kind: 'failed', queryId: idOf(err) ?? '', error: refusalOf(err) };
    }
    if (request.requestId && !(await this.linkRequest(session, request.requestId, view.id))) {
      // The driver cancelled this request before it could know the query id: cancel the query now.
      await this.cancel(session, view.id);
    }
    if (request.asyncExec) return { kind: 'running', queryId: view.id };
    return this.stateOf(session, await this.view(session, view.id, this.holdMs), baseUrl, count);
  }

  /** A statement's outcome, holding the request a while when it is still going. */
  async result(session: WireSession, queryId: string, baseUrl: string): Promise<StatementState> {
    try {
      return await this.stateOf(session, await this.view(session, queryId, this.holdMs), baseUrl, 0);
    } catch (err) {
      return { kind: 'failed', queryId, error: refusalOf(err) };
    }
  }

  /** A statement's status for `GET /monitoring/queries/{id}`; undefined when the agent has no such query. */
  async monitor(session: WireSession, queryId: string): Promise<QueryMonitor | undefined> {
    let view: QueryView;
    try {
      view = await this.view(session, queryId, 0);
    } catch (err) {
      if (err instanceof SnowflakeWireError && err.code === SnowflakeWireError.of('STATEMENT_NOT_FOUND').code) return undefined;
      throw err;
    }
    const failed = errorOf(view);
    return {
      id: view.id,
      status: MONITOR[view.status],
      sqlText: '',
      startTime: Date.parse(view.createdAt),
      ...(failed ? { endTime: Date.parse(view.updatedAt), error: failed } : view.status === 'succeeded' ? { endTime: Date.parse(view.updatedAt) } : {}),
      sessionId: session.id,
    };
  }

  /**
   * Cancel the Airlock query (pending, queued or running); false when it had already ended.
   * By request id, before the query exists: the request is marked, and its submit cancels the query it creates.
   */
  async abort(session: WireSession, target: { queryId: string } | { requestId: string }): Promise<boolean> {
    if ('queryId' in target) return this.cancel(session, target.queryId);
    const key = this.deps.keys.request(session.id, target.requestId);
    const marked = await guard(() => this.deps.redis.set(key, ABORTED, 'EX', REQUEST_TTL_SECONDS, 'NX'));
    if (marked === 'OK') return true;
    const queryId = await guard(() => this.deps.redis.get(key));
    return queryId && queryId !== ABORTED ? this.cancel(session, queryId) : false;
  }

  /** Link the driver's request id to its query; false when the driver already aborted the request. */
  private async linkRequest(session: WireSession, requestId: string, queryId: string): Promise<boolean> {
    const key = this.deps.keys.request(session.id, requestId);
    const linked = await guard(() => this.deps.redis.set(key, queryId, 'EX', REQUEST_TTL_SECONDS, 'NX'));
    if (linked === 'OK') return true;
    // A re-sent request finds its own query id (idempotency gave it the same query): still linked.
    return (await guard(() => this.deps.redis.get(key))) !== ABORTED;
  }

  private async cancel(session: WireSession, queryId: string): Promise<boolean> {
    try {
      await this.deps.queries.cancel(session.requester, queryId);
      return true;
    } catch (err) {
      if (isAirlockError(err, 'STATE_CONFLICT') || isAirlockError(err, 'NOT_FOUND')) return false;
      throw refusalOf(err);
    }
  }

  /** The agent's view of its query, long-polled up to `waitMs`; another agent's query is "not found". */
  private async view(session: WireSession, queryId: string, waitMs: number): Promise<QueryView> {
    try {
      return await this.deps.queries.get(session.requester, queryId, waitMs);
    } catch (err) {
      if (isAirlockError(err, 'NOT_FOUND')) throw SnowflakeWireError.of('STATEMENT_NOT_FOUND', `Statement ${queryId} not found`);
      throw refusalOf(err);
    }
  }

  /** The plan once every row has been seen: a temporal column keeps its type only if all its values read back. */
  private async settled(session: WireSession, queryId: string, plan: RowsetPlan, first: unknown[][], total: number): Promise<RowsetPlan> {
    let settled = settleTemporal(plan, first);
    for (let offset = first.length; offset < total && hasTemporal(settled); offset += CHUNK_ROWS) {
      const page = await this.deps.queries.results(session.requester, queryId, encodeCursor(offset), CHUNK_ROWS);
      settled = settleTemporal(settled, page.rows);
    }
    return settled;
  }

  private async stateOf(session: WireSession, view: QueryView, baseUrl: string, numberOfBinds: number): Promise<StatementState> {
    const error = errorOf(view);
    if (error) return { kind: 'failed', queryId: view.id, error };
    if (view.status !== 'succeeded' || !view.result) return { kind: 'running', queryId: view.id };
    const page = view.result;
    const masked = new Set((view.masking?.columns ?? []).map((c) => c.index));
    const plan = await this.settled(session, view.id, rowsetPlan(page.columns, masked), page.rows, page.rowCount);
    const inline = page.rows.length;
    const links =
      page.rowCount > inline
        ? await this.deps.chunks.grant(session.id, { queryId: view.id, inline, chunkRows: CHUNK_ROWS, total: page.rowCount, encodings: plan.encodings }, baseUrl)
        : undefined;
    return {
      kind: 'done',
      result: {
        queryId: view.id,
        rowtype: plan.rowtype,
        rowset: encodeRows(page.rows, plan.encodings),
        total: page.rowCount,
        chunks: links?.chunks ?? [],
        ...(links ? { chunkHeaders: links.chunkHeaders } : {}),
        statementTypeId: STATEMENT_TYPE[view.decision.statements[0]?.kind ?? ''] ?? 0,
        parameters: session.parameters,
        context: session.context,
        numberOfBinds,
      },
    };
  }
}

/** The card's and the session log's "purpose" of a statement from a driver: the door, the session, and the driver's QUERY_TAG. */
function wirePurpose(session: WireSession, request: StatementRequest): string {
  const tag = request.parameters?.QUERY_TAG ?? request.parameters?.query_tag ?? session.parameters.QUERY_TAG;
  const said = typeof tag === 'string' && tag.trim() !== '' ? ` — query tag: ${tag.slice(0, 200)}` : '';
  return `Sent through the Snowflake wire (a Snowflake driver, session ${session.id})${said}`;
}

/** `describeOnly`: the statement's columns without its rows, for a single SELECT only. */
function describeOnlySql(sql: string): string {
  const body = sql.trim().replace(/;\s*$/, '');
  if (!/^(select|with)\b/i.test(body) || body.includes(';')) {
    throw gatewayError('unsupported', 'UNSUPPORTED', 'describeOnly is supported for a single SELECT only.');
  }
  return `SELECT * FROM (\n${body}\n) LIMIT 0`;
}

/** The error a finished-but-unsuccessful query is raised with; undefined while it is going or when it succeeded. */
function errorOf(view: QueryView): SnowflakeWireError | undefined {
  if (!['failed', 'outcome_unknown', 'denied', 'rejected', 'expired', 'cancelled'].includes(view.status)) return undefined;
  const reasons = view.status === 'denied' ? view.decision.reasons.map((r) => r.code) : [];
  const code = view.error?.code ?? (view.status === 'denied' ? 'POLICY_DENIED' : view.status === 'cancelled' ? 'CANCELLED' : 'INTERNAL');
  return wireErrorFor(code, view.error?.message ?? `The query ended ${view.status}.`, reasons);
}

/** A refusal from the query service as the driver raises it. */
function refusalOf(err: unknown): SnowflakeWireError {
  if (err instanceof SnowflakeWireError) return err;
  if (err instanceof AirlockError) {
    const decision = err.details.decision as { reasons?: Array<{ code: string }> } | undefined;
    return wireErrorFor(err.code, err.message, (decision?.reasons ?? []).map((r) => r.code));
  }
  throw err;
}

function idOf(err: unknown): string | undefined {
  return err instanceof AirlockError && typeof err.details.id === 'string' ? err.details.id : undefined;
}
