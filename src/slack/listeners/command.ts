/**
 * `/airlock pending | show <id> | search <term>`: answered in the ack, as an
 * ephemeral message, and only to approvers and reviewers.
 */
import type { Middleware, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { approvalOf } from '../../approvals/store.ts';
import type { AuditSearch, SessionSummary } from '../../audit/search.ts';
import { isAirlockError } from '../../errors.ts';
import { recordForDisplay } from '../display.ts';
import { escapeMrkdwn, pendingList, sessionList, showQuery, usage } from '../presenters.ts';
import type { ListenerDeps } from './deps.ts';

const REFUSED_READER =
  'Only approvers and reviewers can list or show Airlock queries (they carry SQL and owner details). ' +
  'Ask an Airlock admin to add you to an approver group in the policy or to AIRLOCK_SLACK_REVIEWERS.';

/** The `/airlock` command. */
export function airlockCommand(deps: ListenerDeps): Middleware<SlackCommandMiddlewareArgs> {
  const { logger } = deps;
  return async ({ ack, command, client }) => {
    const [sub, arg] = command.text.trim().split(/\s+/);
    try {
      if (sub === 'pending' || sub === 'show' || sub === 'search') {
        const reader = await readerOf(deps, command.user_id, sub);
        if (reader !== 'ok') {
          await ack({ response_type: 'ephemeral', text: reader });
          return;
        }
      }
      if (sub === 'pending') {
        const records = await deps.queries.pending(20);
        const items = await Promise.all(
          records.map(async (record) => {
            const card = record.approval?.card;
            const link = card ? await client.chat.getPermalink({ channel: card.channel, message_ts: card.ts }).catch(() => undefined) : undefined;
            return { record: recordForDisplay(record), approval: approvalOf(record), ...(link?.permalink ? { permalink: link.permalink } : {}) };
          }),
        );
        await ack({ response_type: 'ephemeral', ...pendingList(items) });
      } else if (sub === 'search' && arg) {
        await ack({ response_type: 'ephemeral', ...sessionList(`Sessions from agent ${escapeMrkdwn(arg)} or touching ${escapeMrkdwn(arg.toUpperCase())}`, await searchSessions(deps.sessions, arg)) });
      } else if (sub === 'show' && arg) {
        const record = await deps.queries.get(arg);
        if (!record) await ack({ response_type: 'ephemeral', text: `No query with id ${arg}.` });
        else await ack({ response_type: 'ephemeral', ...showQuery(recordForDisplay(record), record.approval ? approvalOf(record) : undefined) });
      } else {
        await ack({ response_type: 'ephemeral', ...usage() });
      }
    } catch (err) {
      logger.warn({ component: 'slack', err: err instanceof Error ? err.message : String(err) }, '/airlock failed');
      await ack({ response_type: 'ephemeral', text: 'Airlock could not answer just now; try again.' });
    }
  };
}

/** 'ok' when the user may read queries; otherwise the refusal to answer with. Logged either way. */
async function readerOf(deps: ListenerDeps, userId: string, sub: string): Promise<string> {
  if (!deps.access) return REFUSED_READER;
  try {
    const reader = await deps.access.readerOf(userId);
    if (reader) return 'ok';
    deps.logger.warn({ component: 'slack', user: userId, command: sub }, '/airlock refused: not an approver or reviewer');
    return REFUSED_READER;
  } catch (err) {
    deps.logger.warn({ component: 'slack', user: userId, err: err instanceof Error ? err.message : String(err) }, '/airlock: membership lookup failed; refused');
    return 'Airlock could not check with Slack whether you are an approver or reviewer just now, so it shows nothing. Try again in a moment.';
  }
}

/** Sessions of an agent or touching a table or column, newest first, at most 20. */
async function searchSessions(search: AuditSearch, term: string): Promise<SessionSummary[]> {
  const byTable = search.search({ table: term, limit: 20 }).catch((err: unknown) => {
    if (isAirlockError(err, 'BAD_REQUEST')) return { sessions: [] as SessionSummary[] };
    throw err;
  });
  const [agent, table] = await Promise.all([search.search({ agent: term, limit: 20 }), byTable]);
  const seen = new Map<string, SessionSummary>();
  for (const s of [...agent.sessions, ...table.sessions]) seen.set(s.id, s);
  return [...seen.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)).slice(0, 20);
}
