/**
 * How a submit is recorded and handed on, so that what the agent is told holds
 * whatever fails (docs/api.md, "503: nothing runs"):
 *
 * 1. `received` and `decided` go to the session log first. If the log refuses
 *    them, nothing else is written: 503 AUDIT_UNAVAILABLE, no record exists.
 * 2. The record is created in one atomic step with its idempotency claim, its
 *    pending-index entry and its intake-index entry (the store's create
 *    script). If that fails, 503 STORE_UNAVAILABLE: no record, so nothing can
 *    run or be approved. Should the create have landed anyway (Redis executed
 *    it and the answer was lost), {@link Intake.abandon} marks the record
 *    `failed` as soon as Redis answers again.
 *
 * With the Redis session log the create is sent right behind the append, on
 * the same connection, without waiting for the append's answer (one round
 * trip for both), and the create script itself refuses unless the log
 * already holds the query's events: the order of 1 then 2 is checked inside
 * Redis rather than by waiting. Should the log's answer be lost after both
 * landed, the agent gets 503 AUDIT_UNAVAILABLE and the record is abandoned as above.
 * 3. From here the query is accepted and no step answers 503: enqueueing (or
 *    opening the review) is tried once, bounded in time; whatever does not
 *    finish stays in the intake index for the worker's reconciler
 *    (`reconciler.ts`). The agent finds its query by id.
 *
 * A record therefore never exists without its `received` event, and a 503
 * from submit never leaves a record that can run or be approved.
 */
import type { AuditEventInput } from '../audit/events.ts';
import { appendAfterTheFact, type AuditLog } from '../audit/log.ts';
import { redactDecision, redactLabels, redactText, sha256Hex } from '../audit/redact.ts';
import { AirlockError, isAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CardNotifier, ExecuteJobs } from './ports.ts';
import { NOT_AFTER, type QueryStore } from './store.ts';
import type { QueryRecord, QueryStatus } from './types.ts';

/** Where a request came from, for the session log (the API fills it in). */
export interface ClientInfo {
  address?: string;
  userAgent?: string;
}

/** An agent's idempotency key. */
export interface IdempotencyClaim {
  agentId: string;
  key: string;
}

export interface IntakeDeps {
  store: QueryStore;
  queue: ExecuteJobs;
  logger: Logger;
  audit?: AuditLog;
  approvals?: { opened(record: QueryRecord): Promise<void> };
  cards?: CardNotifier;
  /** How long a submit waits for the job queue before answering "queued" and leaving the job to the reconciler (ms). */
  handOnTimeoutMs?: number;
  /** How often, and how long, a create whose outcome is unknown is looked for to be marked failed (ms). */
  abandon?: { everyMs: number; forMs: number };
}

/** AUDIT_UNAVAILABLE for a request whose `received` the log did not take: nothing was kept. */
function auditUnavailable(id: string, cause: unknown): AirlockError {
  return new AirlockError('AUDIT_UNAVAILABLE', 'The audit log is unavailable, so the query was not recorded and nothing runs; try again shortly.', {
    cause,
    details: { id },
  });
}

/** The statuses a record is created in that may later run or be approved. */
const LIVE_AT_CREATE: QueryStatus[] = ['queued', 'pending_approval', 'denied'];

/** Records and hands on submits; see the module comment for the guarantees. */
export class Intake {
  private readonly abandoning = new Set<string>();

  constructor(private readonly deps: IntakeDeps) {}

  /**
   * Steps 1 and 2: log the request, then create the record. Returns the id an
   * idempotency key already names (a replay: nothing new is logged or
   * created), or undefined when `record` was created. Throws AUDIT_UNAVAILABLE
   * or STORE_UNAVAILABLE (503) when nothing that could run was kept.
   */
  async record(record: QueryRecord, claim: IdempotencyClaim | undefined, client: ClientInfo): Promise<string | undefined> {
    const { store, audit } = this.deps;
    // A replay answers from the claim without logging a request that will not be kept.
    const claimed = claim ? await store.claimed(claim.agentId, claim.key) : undefined;
    if (claimed) return claimed;
    let existing: string | undefined;
    if (audit?.appendSent && audit.sessionKey) {
      existing = await this.recordBehindLog(record, claim, client, audit as Required<Pick<AuditLog, 'appendSent' | 'sessionKey'>>);
    } else {
      await this.logReceived(record, client);
      const created = await this.create(record, claim, undefined);
      // Without a key to follow, the create never answers NOT_AFTER.
      existing = created === NOT_AFTER ? undefined : created;
    }
    if (existing) {
      // A racing request with the same key created its query first: this request's log entries end here.
      await this.logAbandoned(record.id, { code: 'STATE_CONFLICT', message: `A request with the same idempotency key recorded query ${existing} first; this one was not kept.` });
    }
    return existing;
  }

  /**
   * Steps 1 and 2 in one round trip: the create goes right behind the append
   * on the same connection and is refused inside Redis unless the session
   * log already holds the query's events, so the order of step 1 then step 2
   * holds without waiting for the append's answer.
   */
  private async recordBehindLog(
    record: QueryRecord,
    claim: IdempotencyClaim | undefined,
    client: ClientInfo,
    audit: Required<Pick<AuditLog, 'appendSent' | 'sessionKey'>>,
  ): Promise<string | undefined> {
    const { sent, stored } = audit.appendSent(this.receivedEvents(record, client));
    await sent;
    const [logged, created] = await Promise.allSettled([stored, this.create(record, claim, audit.sessionKey(record.id))]);
    if (logged.status === 'rejected') {
      // The log refused the events or did not answer. Should both have landed after all (answers
      // lost), the record is marked failed: a 503 leaves nothing that can run or be approved.
      if (!(created.status === 'fulfilled' && created.value === NOT_AFTER)) {
        this.abandon(record.id, { code: 'AUDIT_UNAVAILABLE', message: 'The audit log did not confirm the request, so the query was not kept; nothing ran.' });
      }
      throw auditUnavailable(record.id, logged.reason);
    }
    if (created.status === 'rejected') throw created.reason;
    // The append went out again behind the create (another writer had moved the chain's head): create now, behind it.
    if (created.value === NOT_AFTER) {
      const again = await this.create(record, claim, audit.sessionKey(record.id));
      if (again === NOT_AFTER) throw auditUnavailable(record.id, new Error('the session log does not hold the request'));
      return again;
    }
    return created.value;
  }

  /** Step 2: the record, its claim and index entries; STORE_UNAVAILABLE (the record marked failed should it have landed) when Redis fails. */
  private async create(record: QueryRecord, claim: IdempotencyClaim | undefined, after: string | undefined): Promise<string | undefined | typeof NOT_AFTER> {
    try {
      return await this.deps.store.createAfter(record, claim, after);
    } catch (err) {
      if (isAirlockError(err, 'STATE_CONFLICT')) throw err;
      this.abandon(record.id, { code: 'STORE_UNAVAILABLE', message: 'The query store (Redis) did not confirm the query, so it was not kept; nothing ran.' });
      throw new AirlockError('STORE_UNAVAILABLE', 'The query store (Redis) is unavailable, so the query was not recorded and nothing runs; try again shortly.', {
        cause: err,
        details: { id: record.id },
      });
    }
  }

  /**
   * Step 3: hand an accepted query on — enqueue it, or open its review and
   * post its card. Never throws: what does not finish in time is finished by
   * the reconciler, and the record already says what the agent may rely on.
   */
  async handOn(record: QueryRecord): Promise<void> {
    const { store, logger } = this.deps;
    const timeoutMs = this.deps.handOnTimeoutMs ?? 2000;
    const steps = record.status === 'pending_approval' ? this.openReview(record) : this.deps.queue.enqueue(record.id);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    try {
      const done = await Promise.race([steps.then(() => 'done' as const), late]);
      if (done === 'done') {
        // Handed on (the lane's pickup backstop covers the rest). Best effort: an entry
        // left behind costs the reconciler one look.
        store.intakeDone(record.id).catch(() => undefined);
        return;
      }
      logger.warn({ queryId: record.id }, 'intake: the job queue did not answer in time; the reconciler hands the query on');
      steps.catch(() => undefined);
    } catch (err) {
      logger.warn({ queryId: record.id, err: err instanceof Error ? err.message : String(err) }, 'intake: could not hand the query on; the reconciler will');
    } finally {
      clearTimeout(timer);
    }
  }

  private async openReview(record: QueryRecord): Promise<void> {
    await this.deps.approvals?.opened(record);
    await this.deps.cards?.changed(record.id, 'opened');
  }

  /**
   * A create whose answer was lost may still have landed: look for the record
   * until Redis answers (bounded), and mark it failed so it never runs or
   * gets approved. The worker's reconciler waits longer than this before it
   * hands on a record it finds, so this runs first.
   */
  abandon(id: string, error: { code: 'STORE_UNAVAILABLE' | 'AUDIT_UNAVAILABLE'; message: string }): void {
    if (this.abandoning.has(id)) return;
    this.abandoning.add(id);
    const { everyMs, forMs } = this.deps.abandon ?? { everyMs: 500, forMs: 5 * 60_000 };
    const until = performance.now() + forMs;
    const attempt = async (): Promise<void> => {
      try {
        await this.deps.store.transition(id, LIVE_AT_CREATE, { status: 'failed', error });
        this.deps.logger.warn({ queryId: id }, 'intake: a create reported as failed had landed; the query is marked failed');
      } catch (err) {
        const settled = isAirlockError(err, 'NOT_FOUND') || isAirlockError(err, 'STATE_CONFLICT');
        if (!settled && performance.now() < until) {
          setTimeout(() => void attempt(), everyMs).unref();
          return;
        }
      }
      this.abandoning.delete(id);
      await this.logAbandoned(id, error);
    };
    setTimeout(() => void attempt(), everyMs).unref();
  }

  private async logAbandoned(id: string, error: { code: string; message: string }): Promise<void> {
    await appendAfterTheFact(this.deps.audit, { type: 'failed', session: id, actor: 'system', data: error }, this.deps.logger);
  }

  /**
   * `received` and `decided` must be in the session log before the record
   * exists (fail closed): when the log refuses them the agent gets 503
   * AUDIT_UNAVAILABLE and nothing was recorded.
   */
  private async logReceived(record: QueryRecord, client: ClientInfo): Promise<void> {
    const audit = this.deps.audit;
    if (!audit) return;
    try {
      // Both in one batch (one round trip, in this order).
      await Promise.all(this.receivedEvents(record, client).map((event) => audit.append(event)));
    } catch (err) {
      throw auditUnavailable(record.id, err);
    }
  }

  /** `received` and `decided`; free text goes through the detectors first: no raw PII or secrets in the log (docs/audit.md). */
  private receivedEvents(record: QueryRecord, client: ClientInfo): AuditEventInput[] {
    const r = record.requester;
    return [
      {
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
      },
      { type: 'decided', session: record.id, data: { decision: redactDecision(record.decision) } },
    ];
  }
}
