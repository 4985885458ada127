/**
 * Keeps a query's Slack card in step with its record: posts the card once,
 * updates it in place after every change, and posts the audit summary in its
 * thread when the query reaches an outcome. Every call renders from the record
 * as it is in Redis now, so any replica can run it and a late call never undoes
 * a newer one for long. Posting is guarded by a short Redis lock, so a card is
 * never posted twice for one request.
 */
import type { Redis } from 'ioredis';
import type { WebClient } from '@slack/web-api';
import { approvalOf, type ApprovalStore } from '../approvals/store.ts';
import { appendAfterTheFact, type AuditLog } from '../audit/log.ts';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { queryKeys } from '../queries/keys.ts';
import type { QueryStore } from '../queries/store.ts';
import { TERMINAL_STATUSES, type QueryRecord } from '../queries/types.ts';
import { approvalCard, sqlThreadReplies, threadSummary } from './presenters.ts';

export interface CardSyncDeps {
  client: WebClient;
  channel: string;
  queries: QueryStore;
  approvals: ApprovalStore;
  redis: Redis;
  prefix: string;
  logger: Logger;
  now?: () => Date;
  /** The session log: `card_posted` and `summary_posted` are recorded after the fact. */
  audit?: AuditLog;
}

/** What the card shows changed: a sync that saw one version can tell whether it must render again. */
const versionOf = (r: QueryRecord) => `${r.status}|${r.approval?.votes.length ?? 0}|${r.execution?.finishedAt ?? ''}|${r.error?.code ?? ''}`;

export class CardSync {
  constructor(private readonly deps: CardSyncDeps) {}

  /** Bring the card (and the thread summary) up to date with the record. */
  async sync(id: string): Promise<void> {
    // Render again while the record keeps changing under us (bounded).
    for (let round = 0; round < 5; round++) {
      const record = await this.deps.queries.get(id);
      if (!record?.approval) return;
      await this.once(record);
      const after = await this.deps.queries.get(id);
      if (!after || versionOf(after) === versionOf(record)) return;
    }
  }

  private async once(record: QueryRecord): Promise<void> {
    const approval = approvalOf(record);
    const now = (this.deps.now ?? (() => new Date()))();
    const card = approvalCard({ record, approval, now });
    if (!approval.card) {
      // Nothing to review any more and never shown: do not post a card just to close it.
      if (record.status !== 'pending_approval') return;
      await this.post(record, card);
      return;
    }
    await this.deps.client.chat.update({ channel: approval.card.channel, ts: approval.card.ts, text: card.text, blocks: card.blocks });
    if (TERMINAL_STATUSES.has(record.status) && approval.summaryTs === undefined) await this.summary(record);
  }

  private async post(record: QueryRecord, card: ReturnType<typeof approvalCard>): Promise<void> {
    const lock = queryKeys(this.deps.prefix).slackLock(record.id, 'card');
    const got = await this.deps.redis.set(lock, '1', 'PX', 60_000, 'NX');
    if (got !== 'OK') throw new AirlockError('SLACK_UNAVAILABLE', `Another worker is posting the card of ${record.id}; retrying.`);
    let posted: Awaited<ReturnType<WebClient['chat']['postMessage']>>;
    try {
      posted = await this.deps.client.chat.postMessage({ channel: this.deps.channel, text: card.text, blocks: card.blocks, unfurl_links: false });
    } catch (err) {
      // Nothing was posted: let the retry (or another worker) take the lock at once.
      await this.deps.redis.del(lock).catch(() => undefined);
      throw err;
    }
    const channel = String(posted.channel);
    const ts = String(posted.ts);
    const first = await this.deps.approvals.setCard(record.id, { channel, ts, postedAt: new Date().toISOString() });
    if (!first) {
      // A card was recorded after all (the lock expired mid-post): keep the recorded one.
      await this.deps.client.chat.delete({ channel, ts }).catch(() => undefined);
      return;
    }
    this.deps.logger.info({ component: 'slack', queryId: record.id, channel, ts }, 'approval card posted');
    await appendAfterTheFact(this.deps.audit, { type: 'card_posted', session: record.id, actor: 'slack', data: { channel, ts } }, this.deps.logger);
    if (card.overflowSql) {
      for (const reply of sqlThreadReplies(record)) {
        await this.deps.client.chat.postMessage({ channel, thread_ts: ts, text: reply.text, blocks: reply.blocks });
      }
    }
  }

  private async summary(record: QueryRecord): Promise<void> {
    const approval = approvalOf(record);
    if (!approval.card) return;
    const lock = queryKeys(this.deps.prefix).slackLock(record.id, 'summary');
    if ((await this.deps.redis.set(lock, '1', 'PX', 60_000, 'NX')) !== 'OK') return;
    const masked = record.execution?.masking?.columns;
    const message = threadSummary({
      record,
      approval,
      sessionId: record.id,
      ...(masked ? { masking: { columns: masked.map((c) => ({ name: c.name, strategy: c.strategy, cells: c.cells })) } } : {}),
    });
    let posted: Awaited<ReturnType<WebClient['chat']['postMessage']>>;
    try {
      posted = await this.deps.client.chat.postMessage({
        channel: approval.card.channel,
        thread_ts: approval.card.ts,
        text: message.text,
        blocks: message.blocks,
      });
    } catch (err) {
      await this.deps.redis.del(lock).catch(() => undefined);
      throw err;
    }
    const ts = String(posted.ts);
    if (!(await this.deps.approvals.setSummary(record.id, ts))) return;
    this.deps.logger.info({ component: 'slack', queryId: record.id }, 'audit summary posted in the thread');
    await appendAfterTheFact(this.deps.audit, { type: 'summary_posted', session: record.id, actor: 'slack', data: { channel: approval.card.channel, ts } }, this.deps.logger);
  }
}
