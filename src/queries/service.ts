/**
 * Intake (API role): submit, read, page and cancel queries, long-polling for
 * the outcome. Holds the lifecycle logic of DESIGN §1 up to the execute queue;
 * execution is `execution.ts`, what agents see `view.ts`. HTTP, BullMQ and
 * Redis details live in their adapters.
 */
import { randomUUID } from 'node:crypto';
import { appendAfterTheFact, type AuditLog } from '../audit/log.ts';
import { systemClock, type Clock } from '../clock.ts';
import { AirlockError, isAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Decision } from '../policy/decision.ts';
import type { Notifier } from './notifier.ts';
import type { CardNotifier, Executed, ExecuteJobs, LocalRunner } from './ports.ts';
import { encodeCursor } from './cursor.ts';
import { decodeCursor } from './cursor.ts';
import { Intake, type ClientInfo, type IntakeDeps } from './intake.ts';
import type { QueryStore } from './store.ts';
import { TERMINAL_STATUSES, type Namespace, type QueryRecord, type Requester, type ResultPage } from './types.ts';
import { approvalView, cutOf, reviewPendingNote, type QueryView } from './view.ts';

/**
 * Decides what may run: the policy engine, bound to the policy in force. A
 * promise when the statement is large enough to be analysed off the event loop
 * (src/analysis/); it may reject with ANALYSIS_BUSY, before anything is recorded.
 */
export type Evaluate = (sql: string, requester: Requester) => Decision | Promise<Decision>;

/** What the API hands over after validating the body. */
export interface SubmitInput {
  sql: string;
  prompt?: string;
  purpose?: string;
  labels?: Record<string, string>;
  waitMs?: number;
  idempotencyKey?: string;
}

export type { ClientInfo } from './intake.ts';

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
  /** How a create whose answer was lost is looked for and failed (intake.ts; tests shorten it). */
  abandon?: IntakeDeps['abandon'];
  /** A worker in this process (api and worker roles together): accepted queries run here when it has a free slot. */
  local?: LocalRunner;
  /** Where the policy in force resolves unqualified names: kept on the record, so no worker runs it elsewhere. */
  namespace?: () => Namespace;
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

/** The error codes a denied submit answers with: a property of the request (400) or a policy verdict (403). */
export type RefusalCode = 'POLICY_DENIED' | 'SQL_TOO_COMPLEX' | 'NOT_SQL';

/**
 * Too large or deep to analyse, or not SQL at all, is a property of the
 * request, not a policy verdict: 400, nothing ran. Anything else denied is 403.
 */
export function refusalCode(decision: Decision): RefusalCode {
  if (decision.reasons.some((r) => r.code === 'SQL_TOO_COMPLEX')) return 'SQL_TOO_COMPLEX';
  if (decision.reasons.some((r) => r.code === 'NOT_SQL')) return 'NOT_SQL';
  return 'POLICY_DENIED';
}

/** One long-poll's subscription to a query's end: a wake-up that comes between two waits is kept for the next. */
class Wakeup {
  private woken = false;
  private resolve: (() => void) | undefined;
  readonly off: () => void;

  constructor(notifier: Notifier, id: string) {
    this.off = notifier.on(notifier.channels.finished, id, () => {
      this.woken = true;
      this.resolve?.();
    });
  }

  /** True when woken (now or since the last wait), false when `ms` passed first. */
  async wait(ms: number): Promise<boolean> {
    if (!this.woken) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.resolve = resolve;
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      this.resolve = undefined;
    }
    const woken = this.woken;
    this.woken = false;
    return woken;
  }
}

/** A query this request just created and listens to: its record as created, and the wake-up registered before the hand-on. */
interface Early {
  record: QueryRecord;
  wakeup: Wakeup;
}

export class QueryService {
  private readonly ids: () => string;
  private readonly clock: Clock;
  private readonly intake: Intake;

  constructor(private readonly deps: QueryServiceDeps) {
    this.ids = deps.ids ?? randomUUID;
    this.clock = deps.clock ?? systemClock;
    this.intake = new Intake(deps);
  }

  /** Evaluate, record and (when allowed) enqueue; wait up to `waitMs` for the outcome. */
  async submit(requester: Requester, input: SubmitInput, client: ClientInfo = {}): Promise<QueryView> {
    const { store, evaluate, limits } = this.deps;
    checkSqlText(input.sql, limits.maxSqlBytes);
    // Read before deciding: a reload while the statement is analysed makes the two differ, and the query is refused at its start (stricter).
    const resolvedIn = this.deps.namespace?.();
    const decision = await evaluate(input.sql, requester);
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
      ...(resolvedIn ? { resolvedIn } : {}),
    };
    // The session log first, then the record with its idempotency claim in one atomic step
    // (intake.ts): a 503 from here leaves nothing that can run or be approved.
    const existing = await this.intake.record(record, input.idempotencyKey ? { agentId: requester.id, key: input.idempotencyKey } : undefined, client);
    if (existing) {
      const previous = await store.get(existing).catch((err: unknown) => {
        // The key names a query accepted earlier, which keeps its course: this 503 is about the read, and says so.
        throw new AirlockError('STORE_UNAVAILABLE', `This idempotency key names query ${existing}, accepted earlier; it could not be read just now. Read it with GET /v1/queries/${existing}.`, {
          cause: err,
          details: { id: existing, accepted: true },
        });
      });
      if (!previous) throw new AirlockError('RESULT_EXPIRED', 'The query for this idempotency key has expired; use a new key.');
      if (previous.decision.fingerprint !== decision.fingerprint) {
        throw new AirlockError('IDEMPOTENCY_CONFLICT', 'This idempotency key was used for different SQL; use a new key.', {
          details: { id: existing },
        });
      }
      return this.waitAndView(requester, existing, input.waitMs ?? 0);
    }
    this.deps.logger.info({ queryId: id, agent: requester.id, action: decision.action, fingerprint: decision.fingerprint }, 'query received');
    if (review) {
      // Nothing runs until approvers decide (in Slack); the agent long-polls for the outcome.
      await this.intake.handOn(record);
      return this.acceptedView(requester, record, 0);
    }
    if (denied) {
      throw new AirlockError(refusalCode(decision), decision.reasons.map((r) => r.message).join(' '), {
        details: { id, decision },
      });
    }
    // Accepted: from here no step answers 503 (the reconciler finishes an enqueue that did not).
    // A worker slot in this process runs it at once, and the answer comes from that run.
    const ran = this.deps.local?.run(id, limits.inlineRows);
    if (ran) return this.ranHere(requester, record, ran, input.waitMs ?? 0);
    // A waiting agent listens before the job exists, so the record as created is its wait's first read.
    const wakeup = await this.listenEarly(id, input.waitMs ?? 0);
    await this.intake.handOn(record);
    return this.acceptedView(requester, record, input.waitMs ?? 0, wakeup);
  }

  /**
   * The answer for a query this process runs: its outcome as the run stored
   * it, when that comes within the wait; otherwise the wait goes on as any
   * submit's does (a long statement, a retry scheduled, or the run handed back).
   */
  private async ranHere(requester: Requester, record: QueryRecord, ran: Promise<Executed | undefined>, waitMs: number): Promise<QueryView> {
    // A run that failed on Redis before it ended the query hands it to the lane (a duplicate is skipped).
    const outcome = ran.catch(() => {
      void this.intake.handOn(record);
      return undefined;
    });
    const wait = Math.min(Math.max(0, waitMs), this.deps.limits.maxWaitMs);
    if (wait === 0) return this.acceptedView(requester, record, 0);
    const deadline = performance.now() + wait;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), wait)));
    const executed = await Promise.race([outcome, late]);
    clearTimeout(timer);
    if (executed && TERMINAL_STATUSES.has(executed.record.status)) {
      const rows = executed.rows;
      const rowCount = executed.record.execution?.rowCount ?? rows?.rows.length ?? 0;
      const page: ResultPage | undefined = rows && {
        columns: rows.columns,
        rows: rows.rows,
        offset: 0,
        rowCount,
        truncated: executed.record.execution?.truncated ?? false,
        ...(rows.rows.length < rowCount ? { nextCursor: encodeCursor(rows.rows.length) } : {}),
      };
      return this.view(executed.record, page);
    }
    return this.acceptedView(requester, record, Math.max(0, deadline - performance.now()));
  }

  /** A wake-up for a query about to be handed on, when the agent waits (undefined otherwise, or when pub/sub is down: the wait then subscribes itself). */
  private async listenEarly(id: string, waitMs: number): Promise<Wakeup | undefined> {
    if (Math.min(waitMs, this.deps.limits.maxWaitMs) <= 0) return undefined;
    try {
      await this.deps.notifier.start();
      return new Wakeup(this.deps.notifier, id);
    } catch {
      return undefined;
    }
  }

  /**
   * The view of a query this submit accepted. A read that fails now must not
   * turn into a 503 (the agent would retry a query that runs): the record as
   * created is the answer then.
   */
  private async acceptedView(requester: Requester, record: QueryRecord, waitMs: number, wakeup?: Wakeup): Promise<QueryView> {
    try {
      return await this.waitAndView(requester, record.id, waitMs, wakeup ? { record, wakeup } : undefined);
    } catch (err) {
      if (!isAirlockError(err, 'STORE_UNAVAILABLE')) throw err;
      this.deps.logger.warn({ queryId: record.id }, 'intake: the query store did not answer after the query was accepted; answering with the record as created');
      return this.view(record);
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
      // Kept as well as sent: should its worker be dead, the worker that takes it over cancels instead of re-running it.
      await store.requestCancel(id);
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
        await store.requestCancel(id);
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

  /** `early`: this request created the query and listened before handing it on (submit). */
  private async waitAndView(requester: Requester, id: string, waitMs: number, early?: Early): Promise<QueryView> {
    const wait = Math.min(Math.max(0, waitMs), this.deps.limits.maxWaitMs);
    if (wait === 0) {
      early?.wakeup.off();
      return this.view(await this.expireIfDue(await this.owned(requester, id)));
    }
    return this.waitForTerminal(requester, id, wait, early);
  }

  /**
   * Long-poll: listen, then read, so a change between the two still wakes us
   * (a submit listens before the job exists and starts from the record it
   * created, without reading it). Only a terminal status is published on the
   * `finished` channel, so one wake-up normally ends the wait, and its read
   * fetches the record and the first result page together.
   */
  private async waitForTerminal(requester: Requester, id: string, waitMs: number, early?: Early): Promise<QueryView> {
    const { notifier } = this.deps;
    let wakeup = early?.wakeup;
    if (!wakeup) {
      await notifier.start();
      wakeup = new Wakeup(notifier, id);
    }
    // Elapsed time, not the clock: a frozen test clock must not stretch a long-poll.
    const deadline = performance.now() + waitMs;
    let known = early?.record;
    let woken = false;
    try {
      for (;;) {
        const [read, page] = known ? [known, undefined] : await Promise.all([this.owned(requester, id), woken ? this.firstPage(id) : undefined]);
        known = undefined;
        const record = await this.expireIfDue(read);
        const left = deadline - performance.now();
        if (TERMINAL_STATUSES.has(record.status) || left <= 0) return this.view(record, page);
        woken = await wakeup.wait(left);
      }
    } finally {
      wakeup.off();
    }
  }

  /** The first page of a stored result, read on a guess that the query succeeded (undefined when there is none). */
  private firstPage(id: string): Promise<ResultPage | undefined> {
    return this.deps.store.readResult(id, 0, this.deps.limits.inlineRows, false).catch(() => undefined);
  }

  /** The agent's view; `page` is the first result page when the caller already read it (its `truncated` comes from the record). */
  private async view(record: QueryRecord, page?: ResultPage): Promise<QueryView> {
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
      const truncated = record.execution?.truncated ?? false;
      const first = page ? { ...page, truncated } : await this.deps.store.readResult(record.id, 0, this.deps.limits.inlineRows, truncated);
      view.result = { ...first, ...cutOf(record) };
    }
    return view;
  }
}
