/**
 * The Slack app: Bolt with Airlock's fastify receiver (or Socket Mode when
 * `SLACK_APP_TOKEN` is set), and the listeners for the card's buttons, the deny
 * modal and `/airlock`. Listeners ack first and work after (STYLE habit 8),
 * except the deny modal, which must answer with its validation errors.
 */
import { App, LogLevel } from '@slack/bolt';

type BoltApp = App;
import type { Redis } from 'ioredis';
import type { ApprovalService } from '../approvals/service.ts';
import { approvalOf } from '../approvals/store.ts';
import { isAirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { CardNotifier } from '../queue/slack-queue.ts';
import { queryRecordKey, type QueryStore } from '../queries/store.ts';
import type { QueryRecord } from '../queries/types.ts';
import {
  APPROVE_ACTION_ID,
  DENY_ACTION_ID,
  DENY_REASON_ACTION_ID,
  DENY_REASON_BLOCK_ID,
  DENY_REASON_CALLBACK_ID,
  denyReasonModal,
  escapeMrkdwn,
  pendingList,
  queryList,
  showQuery,
  usage,
} from './presenters.ts';
import type { FastifySlackReceiver } from './receiver.ts';

export interface SlackAppDeps {
  botToken: string;
  /** Socket Mode instead of HTTP when set. */
  appToken?: string;
  apiUrl?: string;
  receiver?: FastifySlackReceiver;
  approvals: ApprovalService;
  queries: QueryStore;
  cards: CardNotifier;
  redis: Redis;
  prefix: string;
  logger: Logger;
  /** The user's email for the audit trail (users.info), if it can be had. */
  emailOf?: (slackUserId: string) => Promise<string | undefined>;
}

/** Web API options shared by Bolt's client and the outbox's: Airlock's queue does the retrying. */
export const webClientOptions = (apiUrl: string | undefined) => ({
  ...(apiUrl ? { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
  retryConfig: { retries: 0 },
  rejectRateLimitedCalls: true,
  timeout: 10_000,
});

const voterOf = async (deps: SlackAppDeps, user: { id: string; name?: string; username?: string }) => {
  const email = await deps.emailOf?.(user.id).catch(() => undefined);
  const name = user.username ?? user.name;
  return { slackUserId: user.id, ...(name ? { name } : {}), ...(email ? { email } : {}) };
};

export function createSlackApp(deps: SlackAppDeps): BoltApp {
  const { logger } = deps;
  const app = new App({
    // `authorize` instead of `token`: no auth.test at start-up, so a slow or absent Slack never crashes it (DESIGN §4).
    authorize: async () => ({ botToken: deps.botToken }),
    ignoreSelf: false,
    clientOptions: webClientOptions(deps.apiUrl),
    logLevel: LogLevel.ERROR,
    ...(deps.appToken ? { socketMode: true, appToken: deps.appToken } : { receiver: deps.receiver! }),
  });

  app.error(async (err) => {
    logger.error({ component: 'slack', err: err.message }, 'slack listener error');
  });

  const ephemeral = async (client: BoltApp['client'], channel: string | undefined, user: string, text: string) => {
    if (!channel) return;
    await client.chat.postEphemeral({ channel, user, text }).catch((err: Error) => logger.warn({ component: 'slack', err: err.message }, 'ephemeral failed'));
  };

  app.action(APPROVE_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const id = 'value' in action && typeof action.value === 'string' ? action.value : undefined;
    const channel = 'channel' in body ? body.channel?.id : undefined;
    if (!id) return;
    try {
      const reply = await deps.approvals.vote(id, await voterOf(deps, body.user), 'approve');
      if (reply.outcome === 'recorded' || reply.outcome === 'approved' || reply.outcome === 'expired') await deps.cards.changed(id);
      if (reply.outcome !== 'recorded' && reply.outcome !== 'approved') await ephemeral(client, channel, body.user.id, reply.message);
    } catch (err) {
      await ephemeral(client, channel, body.user.id, isAirlockError(err) ? err.message : 'Airlock could not record your vote; try again.');
    }
  });

  app.action(DENY_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const id = 'value' in action && typeof action.value === 'string' ? action.value : undefined;
    if (!id || !('trigger_id' in body)) return;
    // trigger_id lives about 3 s: open the modal first; eligibility is checked when it is submitted.
    await client.views.open({ trigger_id: body.trigger_id, view: denyReasonModal(id) as never }).catch((err: Error) => {
      logger.warn({ component: 'slack', queryId: id, err: err.message }, 'could not open the deny modal');
    });
  });

  app.view(DENY_REASON_CALLBACK_ID, async ({ ack, body, view }) => {
    const id = view.private_metadata;
    const reason = view.state.values[DENY_REASON_BLOCK_ID]?.[DENY_REASON_ACTION_ID]?.value?.trim() ?? '';
    if (!reason) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: 'Say why, so the agent can fix its query.' } });
      return;
    }
    try {
      const reply = await deps.approvals.vote(id, await voterOf(deps, body.user), 'deny', reason);
      if (reply.outcome === 'rejected' || reply.outcome === 'expired') {
        await ack();
        await deps.cards.changed(id);
        return;
      }
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: reply.message } });
    } catch (err) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: isAirlockError(err) ? err.message : 'Airlock could not record your vote; try again.' } });
    }
  });

  app.command('/airlock', async ({ ack, command, client }) => {
    const [sub, arg] = command.text.trim().split(/\s+/);
    try {
      if (sub === 'pending') {
        const records = await pendingRecords(deps);
        const items = await Promise.all(
          records.map(async (record) => {
            const card = record.approval?.card;
            const link = card ? await client.chat.getPermalink({ channel: card.channel, message_ts: card.ts }).catch(() => undefined) : undefined;
            return { record, approval: approvalOf(record), ...(link?.permalink ? { permalink: link.permalink } : {}) };
          }),
        );
        await ack({ response_type: 'ephemeral', ...pendingList(items) } as never);
      } else if (sub === 'search' && arg) {
        const term = arg.toUpperCase();
        const records = (await scanRecords(deps)).filter(
          (r) => r.requester.id.toUpperCase() === term || r.decision.statements.some((st) => st.tables.some((t) => t === term || t.endsWith(`.${term}`))),
        );
        const items = records.slice(0, 20).map((record) => ({ record, ...(record.approval ? { approval: approvalOf(record) } : {}) }));
        await ack({ response_type: 'ephemeral', ...queryList(`Recent queries by agent or on table ${escapeMrkdwn(arg)}`, items) } as never);
      } else if (sub === 'show' && arg) {
        const record = await deps.queries.get(arg);
        if (!record) await ack({ response_type: 'ephemeral', text: `No query with id ${arg}.` });
        else await ack({ response_type: 'ephemeral', ...showQuery(record, record.approval ? approvalOf(record) : undefined) } as never);
      } else {
        await ack({ response_type: 'ephemeral', ...usage() } as never);
      }
    } catch (err) {
      logger.warn({ component: 'slack', err: err instanceof Error ? err.message : String(err) }, '/airlock failed');
      await ack({ response_type: 'ephemeral', text: 'Airlock could not answer just now; try again.' });
    }
  });

  return app;
}

/** Queries waiting for approval, newest first. */
async function pendingRecords(deps: SlackAppDeps): Promise<QueryRecord[]> {
  return (await scanRecords(deps)).filter((r) => r.status === 'pending_approval').slice(0, 20);
}

/**
 * Query records still in Redis, newest first: a bounded scan (5,000 records).
 * Finished records expire with their results, so this is recent history only;
 * the audit log (a later issue) is where full history is searched.
 */
async function scanRecords(deps: SlackAppDeps): Promise<QueryRecord[]> {
  const out: QueryRecord[] = [];
  let cursor = '0';
  const ids: string[] = [];
  const base = queryRecordKey(deps.prefix, '');
  do {
    const [next, keys] = await deps.redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 500);
    cursor = next;
    for (const k of keys) {
      const id = k.slice(base.length);
      if (!id.includes(':')) ids.push(id);
    }
  } while (cursor !== '0' && ids.length < 5000);
  for (const id of ids) {
    const r = await deps.queries.get(id);
    if (r) out.push(r);
  }
  return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
}
