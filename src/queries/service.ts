/**
 * The query service: submit, read, page and cancel queries (API role), and
 * execute approved ones (worker role). Holds the lifecycle logic of DESIGN §1;
 * HTTP, BullMQ and Redis details live in their adapters.
 */
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../clock.ts';
import { AirlockError, asAirlockError, isAirlockError, isTransient } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Decision } from '../policy/decision.ts';
import type { Warehouse } from '../warehouse/port.ts';
import type { Notifier } from './notifier.ts';
import type { CardNotifier, ExecuteJobs } from './ports.ts';
import { decodeCursor, type QueryStore } from './store.ts';
import { appendAfterTheFact, type AuditLog } from '../audit/log.ts';
import type { JsonValue } from '../audit/events.ts';
import { redactDecision, redactLabels, redactText, sha256Hex } from '../audit/redact.ts';
import { redactErrorText } from '../masking/error-text.ts';
import type { MaskingReport } from '../masking/report.ts';
import type { ResultMasker } from '../masking/service.ts';
import { capRows, DEFAULT_RESULT_CAPS, resultNote, type ResultCaps, type TruncatedBy } from './result-caps.ts';
import { TERMINAL_STATUSES, type QueryRecord, type Requester, type ResultPage } from './types.ts';

/** Decides what may run: the policy engine, bound to the loaded policy. */
export type Evaluate = (sql: string, requester: Requester) => Decision;

/** What the API hands over after validating the body. */
export interface SubmitInput {
  sql: string;
  prompt?: string;
  purpose?: string;
  labels?: Record<string, string>;
  waitMs?: number;
  idempotencyKey?: string;
}

/** Where a request came from, for the session log (the API fills it in). */
export interface ClientInfo {
  address?: string;
  userAgent?: string;
}

/** What agents see of a query. */
export interface QueryView {
  id: string;
  status: QueryRecord['status'];
  decision: Decision;
  createdAt: string;
  updatedAt: string;
  execution?: QueryRecord['execution'];
  error?: QueryRecord['error'];
  result?: ResultPage;
  /** For `pending_approval`: what the query is waiting for, in words. */
  waiting?: string;
  /** For reviewed queries: the votes so far (without approvers' emails), quorum and expiry. */
  approval?: ApprovalView;
  /** What masking did to the result (also under execution.masking). */
  masking?: MaskingReport;
}

export interface ApprovalView {
  required: number;
  groups: string[];
  expiresAt: string;
  votes: Array<{ vote: 'approve' | 'deny'; by: string; at: string; reason?: string }>;
}

function approvalView(a: NonNullable<QueryRecord['approval']>): ApprovalView {
  return {
    required: a.required,
    groups: a.groups,
    expiresAt: a.expiresAt,
    votes: a.votes.map((v) => ({ vote: v.vote, by: v.voter.name ?? v.voter.slackUserId, at: v.at, ...(v.reason ? { reason: v.reason } : {}) })),
  };
}

/** Said to agents while review is pending and the Slack approval flow is not part of this build. */
export function reviewPendingNote(record: Pick<QueryRecord, 'createdAt' | 'decision'>): string {
  const seconds = record.decision.approvals.expiresInSeconds;
  const expiry = seconds === undefined ? '' : ` or it expires at ${new Date(Date.parse(record.createdAt) + seconds * 1000).toISOString()}`;
  return (
    `This query needs human approval (see decision.reasons and approval): ${record.decision.approvals.required} approval(s) in Slack. ` +
    `It waits in pending_approval until approvers decide, you cancel it (POST /v1/queries/:id/cancel)${expiry}. Long-poll GET /v1/queries/:id?waitMs= for the outcome.`
  );
}

export interface QueryServiceDeps {
  store: QueryStore;
  notifier: Notifier;
  queue: ExecuteJobs;
  evaluate: Evaluate;
  logger: Logger;
  limits: { maxWaitMs: number; maxSqlBytes: number; inlineRows: number };
  ids?: () => string;
  /** Stamps `createdAt` and decides expiry (default: the wall clock). */
  clock?: Clock;
  /** The session log; `received` and `decided` are appended before anything runs. */
  audit?: AuditLog;
  /** The approval workflow: told when a query needs review (sets its approval state, schedules expiry). */
  approvals?: { opened(record: QueryRecord): Promise<void> };
  /** Told when a reviewed query changes, so its Slack card follows. */
  cards?: CardNotifier;
}

const MAX_ATTEMPTS = 3;

/** Rows of the masked result kept in `execution_finished`, and the longest cell text kept there. */
const PREVIEW_ROWS = 5;
const PREVIEW_CELL_CHARS = 200;

/** Cells changed per detector kind (`email`, `ssn`, `key:secret`…). */
function detectorCounts(report: MaskingReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of report.columns) if (c.reason === 'detector') out[c.detail] = (out[c.detail] ?? 0) + c.cells;
  return out;
}

/** Pass rows through, keeping a JSON copy of the first `n` (long text cut) for the session log. */
export function firstRows(rows: AsyncIterable<unknown[]>, n: number): { rows: AsyncIterable<unknown[]>; taken: JsonValue[][] } {
  const taken: JsonValue[][] = [];
  const cut = (text: string): string => (text.length > PREVIEW_CELL_CHARS ? `${text.slice(0, PREVIEW_CELL_CHARS)}…` : text);
  const cell = (v: unknown): JsonValue => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return cut(v);
    if (typeof v === 'boolean') return v;
    // The chain hashes canonical JSON, which has no NaN or Infinity.
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    // VARIANT, OBJECT, ARRAY, dates: their JSON text, cut like any text, so one cell never bloats the event.
    let json: string | undefined;
    try {
      json = JSON.stringify(v);
    } catch {
      json = undefined; // a bigint, a cycle
    }
    if (json === undefined) return cut(String(v));
    return json.length > PREVIEW_CELL_CHARS ? cut(json) : (JSON.parse(json) as JsonValue);
  };
  return {
    taken,
    rows: (async function* () {
      for await (const row of rows) {
        if (taken.length < n) taken.push(row.map(cell));
        yield row;
      }
    })(),
  };
}

/** Why a stored result is cut or holds replaced cells, for its pages. */
function cutOf(record: QueryRecord): Pick<ResultPage, 'truncatedBy' | 'note'> {
  const e = record.execution;
  return { ...(e?.truncatedBy ? { truncatedBy: e.truncatedBy } : {}), ...(e?.note ? { note: e.note } : {}) };
}

/** Validate SQL text before anything else sees it. */
export function checkSqlText(sql: string, maxBytes: number): void {
  if (sql.includes('\u0000')) {
    throw new AirlockError('SQL_INVALID', 'The SQL contains a NUL byte; remove control characters and try again.');
  }
  // An unpaired surrogate: a high one not followed by a low one, or a low one without a high one before it.
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(sql)) {
    throw new AirlockError('SQL_INVALID', 'The SQL contains an unpaired UTF-16 surrogate (a broken \\u escape); send valid Unicode text.');
  }
  if (Buffer.byteLength(sql) > maxBytes) {
    throw new AirlockError('SQL_TOO_LARGE', `The SQL is longer than ${maxBytes} bytes (AIRLOCK_MAX_SQL_BYTES).`, { details: { maxBytes } });
  }
  if (sql.trim() === '') throw new AirlockError('SQL_INVALID', 'The SQL is empty.');
}

export class QueryService {
  private readonly ids: () => string;
  private readonly clock: Clock;

  constructor(private readonly deps: QueryServiceDeps) {
    this.ids = deps.ids ?? randomUUID;
    this.clock = deps.clock ?? systemClock;
  }

  /** Evaluate, record and (when allowed) enqueue; wait up to `waitMs` for the outcome. */
  async submit(requester: Requester, input: SubmitInput, client: ClientInfo = {}): Promise<QueryView> {
    const { store, queue, evaluate, limits } = this.deps;
    checkSqlText(input.sql, limits.maxSqlBytes);
    const decision = evaluate(input.sql, requester);
    const id = this.ids();
    const now = this.clock().toISOString();
    const denied = decision.action === 'deny';
    const review = decision.action === 'review';
    const record: QueryRecord = {
      id,
      status: denied ? 'denied' : review ? 'pending_approval' : 'queued',
      sql: input.sql,
      ...(input.prompt !== undefined ? { prompt: input.prompt } : {}),
      ...(input.purpose !== undefined ? { purpose: input.purpose } : {}),
      ...(input.labels !== undefined ? { labels: input.labels } : {}),
      requester,
      decision,
      createdAt: now,
      updatedAt: now,
      // Reads may be retried after a worker dies; anything else is never re-run blindly.
      readOnly: decision.complete && decision.statements.every((s) => ['select', 'show', 'describe', 'explain'].includes(s.kind)),
    };
    // The key is claimed in the same atomic step as the create, so a replay never
    // finds a key whose record is missing (racing requests, or a create that failed).
    const existing = await store.create(record, input.idempotencyKey ? { agentId: requester.id, key: input.idempotencyKey } : undefined);
    if (existing) {
      const previous = await store.get(existing);
      if (!previous) throw new AirlockError('RESULT_EXPIRED', 'The query for this idempotency key has expired; use a new key.');
      if (previous.decision.fingerprint !== decision.fingerprint) {
        throw new AirlockError('IDEMPOTENCY_CONFLICT', 'This idempotency key was used for different SQL; use a new key.', {
          details: { id: existing },
        });
      }
      return this.waitAndView(requester, existing, input.waitMs ?? 0);
    }
    this.deps.logger.info({ queryId: id, agent: requester.id, action: decision.action, fingerprint: decision.fingerprint }, 'query received');
    await this.auditReceived(record, client);
    if (review) {
      // Nothing runs until approvers decide (in Slack); the agent long-polls for the outcome.
      await this.deps.approvals?.opened(record);
      await this.deps.cards?.changed(id, 'opened');
      return this.waitAndView(requester, id, 0);
    }
    if (denied) {
      // Too large or deep to analyse is a property of the request, not a policy verdict: 400, nothing ran.
      const code = decision.reasons.some((r) => r.code === 'SQL_TOO_COMPLEX') ? 'SQL_TOO_COMPLEX' : 'POLICY_DENIED';
      throw new AirlockError(code, decision.reasons.map((r) => r.message).join(' '), {
        details: { id, decision },
      });
    }
    try {
      await queue.enqueue(id);
    } catch (err) {
      const error = { code: 'QUEUE_UNAVAILABLE' as const, message: 'The job queue was unavailable.' };
      await store.transition(id, ['queued'], { status: 'failed', error }).catch(() => undefined);
      await appendAfterTheFact(this.deps.audit, { type: 'failed', session: id, actor: 'system', data: error }, this.deps.logger);
      throw err;
    }
    return this.waitAndView(requester, id, input.waitMs ?? 0);
  }

  /**
   * `received` and `decided` must be in the audit log before anything can run
   * (fail closed): if the log is unavailable the query ends `failed` with
   * AUDIT_UNAVAILABLE and the agent gets 503.
   */
  private async auditReceived(record: QueryRecord, client: ClientInfo): Promise<void> {
    const audit = this.deps.audit;
    if (!audit) return;
    const r = record.requester;
    try {
      // Free text goes through the detectors first: no raw PII or secrets in the log (docs/audit.md).
      // Both in one batch (one round trip, in this order): the allow path awaits it.
      const received = audit.append({
        type: 'received',
        session: record.id,
        actor: r.id,
        data: {
          agent: r.id,
          agentName: r.name,
          ...(r.owner ? { owner: r.owner } : {}),
          groups: r.groups,
          ...(record.prompt !== undefined ? { prompt: redactText(record.prompt) } : {}),
          ...(record.purpose !== undefined ? { purpose: redactText(record.purpose) } : {}),
          sql: redactText(record.sql),
          sqlSha256: sha256Hex(record.sql),
          fingerprint: record.decision.fingerprint,
          ...(client.address ? { clientAddress: client.address } : {}),
          ...(client.userAgent ? { userAgent: redactText(client.userAgent.slice(0, 512)) } : {}),
          ...(record.labels ? { labels: redactLabels(record.labels) } : {}),
        },
      });
      const decided = audit.append({ type: 'decided', session: record.id, data: { decision: redactDecision(record.decision) } });
      await Promise.all([received, decided]);
    } catch (err) {
      const e = new AirlockError('AUDIT_UNAVAILABLE', 'The audit log is unavailable, so nothing runs; try again shortly.', { cause: err, details: { id: record.id } });
      const from = ['queued', 'pending_approval', 'denied'] as const;
      await this.deps.store.transition(record.id, [...from], { status: 'failed', error: { code: e.code, message: e.message } }).catch(() => undefined);
      throw e;
    }
  }

  /** Read a query the requester owns; long-poll up to `waitMs` for a terminal status. */
  async get(requester: Requester, id: string, waitMs = 0): Promise<QueryView> {
    return this.waitAndView(requester, id, waitMs);
  }

  /** Page through a stored result. */
  async results(requester: Requester, id: string, cursor: string | undefined, limit: number): Promise<ResultPage & { id: string }> {
    const record = await this.owned(requester, id);
    if (record.status !== 'succeeded') {
      throw new AirlockError('STATE_CONFLICT', `Query ${id} is ${record.status}; results exist only for succeeded queries.`, {
        details: { status: record.status },
      });
    }
    const offset = cursor ? decodeCursor(cursor) : 0;
    const page = await this.deps.store.readResult(id, offset, limit, record.execution?.truncated ?? false);
    return { id, ...page, ...cutOf(record) };
  }

  /** Withdraw a query that has not finished. */
  async cancel(requester: Requester, id: string): Promise<QueryView> {
    const { store, queue, notifier } = this.deps;
    const record = await this.owned(requester, id);
    if (TERMINAL_STATUSES.has(record.status)) {
      throw new AirlockError('STATE_CONFLICT', `Query ${id} is already ${record.status}.`, { details: { status: record.status } });
    }
    if (record.status === 'running') {
      await notifier.publishCancel(id);
      return this.waitAndView(requester, id, 5000);
    }
    try {
      await store.transition(id, ['pending_approval', 'approved', 'queued'], {
        status: 'cancelled',
        error: { code: 'CANCELLED', message: 'The agent withdrew the query.' },
      });
    } catch (err) {
      // A worker took it between our read and the transition: cancel it where it runs.
      if (isAirlockError(err, 'STATE_CONFLICT') && err.details.status === 'running') {
        await notifier.publishCancel(id);
        return this.waitAndView(requester, id, 5000);
      }
      throw err;
    }
    await appendAfterTheFact(
      this.deps.audit,
      { type: 'cancelled', session: id, actor: requester.id, data: { by: requester.id, reason: 'The agent withdrew the query.' } },
      this.deps.logger,
    );
    // Best effort: the record already says cancelled, and a worker that still picks the job skips it.
    await queue.remove(id).catch(() => false);
    if (record.approval || record.status === 'pending_approval') await this.deps.cards?.changed(id, 'cancelled');
    return this.waitAndView(requester, id, 0);
  }

  /**
   * A review that nobody decided within `decision.approvals.expiresInSeconds` ends as `expired`
   * when next read (the approval flow adds a timer for it; this keeps reads honest without one).
   */
  private async expireIfDue(record: QueryRecord): Promise<QueryRecord> {
    if (record.status !== 'pending_approval') return record;
    const seconds = record.decision.approvals.expiresInSeconds;
    if (seconds === undefined || Date.parse(record.createdAt) + seconds * 1000 > this.clock().getTime()) return record;
    try {
      const expired = await this.deps.store.transition(record.id, ['pending_approval'], {
        status: 'expired',
        error: { code: 'APPROVAL_EXPIRED', message: `Nobody approved the query within ${seconds} seconds.` },
      });
      // This read won the race with the expiry job, so the event and the card are ours.
      await appendAfterTheFact(
        this.deps.audit,
        { type: 'expired', session: record.id, actor: 'system', data: { expiresAt: record.approval?.expiresAt ?? new Date(Date.parse(record.createdAt) + seconds * 1000).toISOString() } },
        this.deps.logger,
      );
      if (expired.approval?.card) await this.deps.cards?.changed(record.id, 'expired');
      return expired;
    } catch (err) {
      if (isAirlockError(err, 'STATE_CONFLICT')) return (await this.deps.store.get(record.id)) ?? record;
      throw err;
    }
  }

  private async owned(requester: Requester, id: string): Promise<QueryRecord> {
    const record = await this.deps.store.get(id);
    // Another agent's query is "not found": its existence is not theirs to learn.
    if (!record || record.requester.id !== requester.id) throw new AirlockError('NOT_FOUND', `No query with id ${id}.`);
    return record;
  }

  private async waitAndView(requester: Requester, id: string, waitMs: number): Promise<QueryView> {
    const wait = Math.min(Math.max(0, waitMs), this.deps.limits.maxWaitMs);
    let record = await this.expireIfDue(await this.owned(requester, id));
    if (wait > 0 && !TERMINAL_STATUSES.has(record.status)) {
      record = await this.waitForTerminal(requester, id, wait);
    }
    return this.view(record);
  }

  private async waitForTerminal(requester: Requester, id: string, waitMs: number): Promise<QueryRecord> {
    const { notifier } = this.deps;
    await notifier.start();
    let wake: () => void = () => undefined;
    const off = notifier.on(notifier.channels.events, id, () => wake());
    // Elapsed time, not the clock: a frozen test clock must not stretch a long-poll.
    const deadline = performance.now() + waitMs;
    try {
      for (;;) {
        // Register first, then read: a change between the two still wakes us.
        const changed = new Promise<void>((resolve) => (wake = resolve));
        const record = await this.owned(requester, id);
        const left = deadline - performance.now();
        if (TERMINAL_STATUSES.has(record.status) || left <= 0) return record;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([changed, new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
        clearTimeout(timer);
      }
    } finally {
      off();
    }
  }

  private async view(record: QueryRecord): Promise<QueryView> {
    const view: QueryView = {
      id: record.id,
      status: record.status,
      decision: record.decision,
      ...(record.status === 'pending_approval' ? { waiting: reviewPendingNote(record) } : {}),
      ...(record.approval ? { approval: approvalView(record.approval) } : {}),
      ...(record.execution?.masking ? { masking: record.execution.masking } : {}),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      ...(record.execution ? { execution: record.execution } : {}),
      ...(record.error ? { error: record.error } : {}),
    };
    if (record.status === 'succeeded') {
      view.result = { ...(await this.deps.store.readResult(record.id, 0, this.deps.limits.inlineRows, record.execution?.truncated ?? false)), ...cutOf(record) };
    }
    return view;
  }
}

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
}

/** The abort reason of statements stopped by the worker's shutdown (an agent's cancel has none). */
const SHUTDOWN = 'airlock-worker-shutdown';

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

  /** Execute one query; throws transient AirlockErrors for the queue to retry. */
  async execute(id: string, attempt: number): Promise<void> {
    const record = await this.deps.store.get(id);
    if (!record) {
      this.deps.logger.warn({ queryId: id }, 'execute job for a query that no longer exists');
      return;
    }
    try {
      await this.run(id, attempt, record);
    } finally {
      // A query with a Slack card gets it brought up to date (and, once final, a thread summary).
      if (record.approval?.card) await this.deps.cards?.changed(id, `finished-${attempt}`);
    }
  }

  private async run(id: string, attempt: number, record: QueryRecord): Promise<void> {
    const { store, warehouse, logger, limits, notifier } = this.deps;
    const startedAt = this.clock().toISOString();
    const controller = new AbortController();
    // Listen for cancel before the record says `running`: a cancel sent the moment it
    // does (the API publishes it only for running queries) must not be lost.
    await notifier.start();
    const off = notifier.on(notifier.channels.cancel, id, () => controller.abort());
    let proceed = false;
    try {
      if (record.status === 'running') {
        // The worker that had it died (the job stalled). Reads are safe to re-run; writes never.
        if (!record.readOnly) {
          const error = { code: 'OUTCOME_UNKNOWN' as const, message: 'The worker stopped while the statement ran; it was not re-run. Check the warehouse.' };
          await store.transition(id, ['running'], { status: 'outcome_unknown', error });
          await appendAfterTheFact(this.deps.audit, { type: 'failed', session: id, actor: this.workerName, data: { ...error, outcomeUnknown: true } }, logger);
        } else {
          await store.transition(id, ['running'], { execution: { startedAt, attempts: attempt } });
          proceed = true;
        }
      } else if (record.status === 'queued') {
        await store.transition(id, ['queued'], { status: 'running', execution: { startedAt, attempts: attempt } });
        proceed = true;
      } else {
        logger.info({ queryId: id, status: record.status }, 'execute job skipped: query is not queued');
      }
    } catch (err) {
      // Cancelled (or taken) between our read and the transition: nothing to run.
      if (!isAirlockError(err, 'STATE_CONFLICT')) {
        off();
        throw err;
      }
      logger.info({ queryId: id, status: err.details.status }, 'execute job skipped: query changed state');
    }
    if (!proceed) {
      off();
      return;
    }

    if (this.deps.audit) {
      try {
        await this.deps.audit.append({ type: 'execution_started', session: id, actor: this.workerName, data: { worker: this.workerName, attempt } });
      } catch {
        // Fail closed: no statement runs without its start in the audit log.
        off();
        await store
          .transition(id, ['running'], { status: 'failed', error: { code: 'AUDIT_UNAVAILABLE', message: 'The audit log was unavailable, so the statement was not run.' } })
          .catch(() => undefined);
        logger.warn({ queryId: id }, 'audit log unavailable: statement not run');
        return;
      }
    }
    this.running.set(id, controller);
    const t0 = performance.now();
    try {
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
      const saved = await store.saveResult(id, columns, preview ? preview.rows : capped.rows);
      const cut = capped.report();
      const truncatedBy: TruncatedBy | undefined = cut.truncatedBy ?? (result.truncated ? 'rows' : undefined);
      const note = resultNote({
        truncatedBy,
        rowCount: saved.rowCount,
        limit: truncatedBy === 'rows' ? maxRows : truncatedBy === 'cells' ? caps.maxCells : truncatedBy === 'bytes' ? caps.maxBytes : undefined,
        oversizedCells: cut.oversizedCells,
        maxCellBytes: caps.maxCellBytes,
      });
      const outcome = {
        truncated: truncatedBy !== undefined,
        ...(truncatedBy ? { truncatedBy } : {}),
        ...(cut.oversizedCells > 0 ? { oversizedCells: cut.oversizedCells } : {}),
        ...(note ? { note } : {}),
      };
      const durationMs = Math.round(performance.now() - t0);
      await store.transition(id, ['running'], {
        status: 'succeeded',
        execution: {
          warehouseQueryId: result.queryId,
          startedAt,
          finishedAt: this.clock().toISOString(),
          durationMs,
          rowCount: saved.rowCount,
          ...(result.rowsAffected !== undefined ? { rowsAffected: result.rowsAffected } : {}),
          ...outcome,
          resultSha256: saved.sha256,
          attempts: attempt,
          ...(masked ? { masking: masked.report() } : {}),
        },
      });
      logger.info({ queryId: id, warehouseQueryId: result.queryId, rows: saved.rowCount, durationMs }, 'query succeeded');
      const report = masked?.report();
      await appendAfterTheFact(
        this.deps.audit,
        {
          type: 'execution_finished',
          session: id,
          actor: this.workerName,
          data: {
            rows: saved.rowCount,
            ...(result.rowsAffected !== undefined ? { rowsAffected: result.rowsAffected } : {}),
            durationMs,
            resultSha256: saved.sha256,
            truncated: outcome.truncated,
            ...(truncatedBy ? { truncatedBy } : {}),
            ...(cut.oversizedCells > 0 ? { oversizedCells: cut.oversizedCells } : {}),
            warehouseQueryId: result.queryId,
            masking: {
              columns: (report?.columns ?? []).map((c) => ({ name: c.name, strategy: c.strategy, source: c.detail, reason: c.reason })),
              ...(report && report.columns.some((c) => c.reason === 'detector') ? { detectors: detectorCounts(report) } : {}),
            },
            ...(preview ? { preview: { columns: columns.map((c) => c.name), rows: preview.taken } } : {}),
          },
        },
        logger,
      );
    } catch (thrown) {
      let err = asAirlockError(thrown);
      if (err.code === 'INTERNAL') logger.error({ queryId: id, err: thrown }, 'query failed unexpectedly');
      if (controller.signal.reason === SHUTDOWN && err.code === 'WAREHOUSE_CANCELLED' && record.readOnly) {
        // A read cut short by this worker's shutdown goes back to the queue (below) for another worker.
        err = new AirlockError('WAREHOUSE_UNAVAILABLE', 'The worker running this read shut down; it runs again on another worker.', { cause: thrown });
      }
      const execution = { startedAt, finishedAt: this.clock().toISOString(), durationMs: Math.round(performance.now() - t0), attempts: attempt };
      if (isTransient(err.code) && record.readOnly && attempt < MAX_ATTEMPTS) {
        await store.transition(id, ['running'], { status: 'queued', execution }).catch(() => undefined);
        throw err;
      }
      const cancelled = err.code === 'WAREHOUSE_CANCELLED';
      // A warehouse error can echo a value from the data: only what the agent sent stays (whatever the adapter did).
      const message = redactErrorText(err.message, { sql: record.sql, names: record.decision.statements.flatMap((s) => s.tables) });
      const recorded = await store
        .transition(id, ['running'], {
          status: cancelled ? 'cancelled' : 'failed',
          execution,
          error: { code: err.code, message, details: err.details },
        })
        .then(() => true)
        .catch((e: unknown) => {
          logger.error({ queryId: id, err: e }, 'could not record the failure');
          return false;
        });
      logger.info({ queryId: id, code: err.code }, cancelled ? 'query cancelled' : 'query failed');
      // The session log follows the record: an outcome the record does not hold is not logged either.
      if (!recorded) return;
      await appendAfterTheFact(
        this.deps.audit,
        cancelled
          ? { type: 'cancelled', session: id, actor: this.workerName, data: { reason: 'Cancelled while it ran (the agent withdrew it, or Airlock shut down).' } }
          : {
              type: 'failed',
              session: id,
              actor: this.workerName,
              data: {
                code: err.code,
                message,
                ...(typeof err.details.queryId === 'string' ? { warehouseQueryId: err.details.queryId } : {}),
              },
            },
        logger,
      );
    } finally {
      off();
      this.running.delete(id);
    }
  }
}
