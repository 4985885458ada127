/**
 * Replies to `/airlock` (pending, show, search, usage) and ephemeral messages
 * (refused clicks, errors). Pure.
 */
import type { ApprovalState } from '../../approvals/machine.ts';
import type { SessionSummary } from '../../audit/search.ts';
import type { Risk } from '../../policy/decision.ts';
import type { QueryRecord } from '../../queries/types.ts';
import { MAX_MESSAGE_BLOCKS, MAX_SECTION_TEXT, SAFE_MESSAGE_BLOCKS_TEXT, blocksTextLength } from '../limits.ts';
import { type Block, Ids, type Message, md } from './blocks.ts';
import { renderCard } from './card.ts';
import { RISK_EMOJI, code, escapeMrkdwn, fitText, plural, slackDate } from './mrkdwn.ts';
import { approvers, verbSummary } from './record-lines.ts';

/**
 * An ephemeral reply (ineligible click, self-approval, errors). `message` is
 * mrkdwn and sent as is: escape user-supplied parts with {@link escapeMrkdwn}.
 */
export function ephemeral(message: string): Message {
  const text = fitText(message, MAX_SECTION_TEXT, false);
  return { text, blocks: [{ type: 'section', block_id: 'airlock_ephemeral', text: md(text) }] };
}

/** One entry of a query list. */
export interface QueryListItem {
  record: QueryRecord;
  approval?: ApprovalState;
  permalink?: string;
}

/**
 * A list of queries (for `/airlock pending` and `/airlock search`), one section
 * each, cut to fit Slack's limits with a count of what was left out.
 */
export function queryList(title: string, items: QueryListItem[], empty = 'Nothing found.'): Message {
  const lines = items.map(({ record, approval, permalink }) => {
    const d = record.decision;
    const parts = [
      `${RISK_EMOJI[d.risk]} ${code(record.id)} *${escapeMrkdwn(d.risk)}* · ${escapeMrkdwn(verbSummary(d))}`,
      `agent ${code(record.requester.name)}`,
    ];
    if (approval && record.status === 'pending_approval') {
      parts.push(`${approvers(approval.votes).length} of ${approval.required}`);
      parts.push(`expires ${slackDate(approval.expiresAt)}`);
    } else {
      parts.push(escapeMrkdwn(record.status.replace(/_/g, ' ')));
    }
    let text = parts.join(' · ');
    text += `\n${code(fitText(record.sql.replace(/\s+/g, ' ').trim(), 160, false))}`;
    if (permalink) text += ` <${permalink}|open card>`;
    return text;
  });
  return listMessage('al.list', title, lines, (n) => plural(n, 'more query', 'more queries'), empty);
}

/** A titled list, one section per line, cut to fit Slack's limits with a count of what was left out. */
function listMessage(id: string, title: string, lines: string[], more: (left: number) => string, empty: string): Message {
  const blocks: Block[] = [{ type: 'section', block_id: `${id}.title`, text: md(fitText(title, MAX_SECTION_TEXT, false)) }];
  if (!lines.length) {
    blocks.push({ type: 'section', block_id: `${id}.empty`, text: md(empty) });
    return { text: `${title} ${empty}`, blocks };
  }
  let used = blocksTextLength(blocks) + 200;
  for (const [i, line] of lines.entries()) {
    const text = fitText(line, MAX_SECTION_TEXT, false);
    if (blocks.length >= MAX_MESSAGE_BLOCKS - 1 || used + text.length > SAFE_MESSAGE_BLOCKS_TEXT) {
      blocks.push({ type: 'context', block_id: `${id}.more`, elements: [md(`…and ${more(lines.length - i)} not shown.`)] });
      break;
    }
    blocks.push({ type: 'section', block_id: `${id}.${i}`, text: md(text) });
    used += text.length;
  }
  return { text: `${title} (${lines.length})`, blocks };
}

/** `/airlock pending`: waiting requests with links to their cards. */
export function pendingList(items: QueryListItem[]): Message {
  const title = items.length ? `⏳ *${plural(items.length, 'query', 'queries')} waiting for approval*` : '⏳ *Waiting for approval*';
  return queryList(title, items, 'Nothing is waiting for approval.');
}

/**
 * `/airlock show <id>`: the card's content without buttons, with the SQL cut
 * shorter (the full text is on the card or in its thread).
 */
export function showQuery(record: QueryRecord, approvalArg?: ApprovalState, opts: { now?: Date; permalink?: string } = {}): Message {
  const approval = approvalArg ?? record.approval;
  const ids = new Ids(`show-${record.status}-${approval?.votes.length ?? 0}`);
  const card = renderCard(record, approval, opts.now, ids, {
    buttons: false,
    overflowWhere: opts.permalink ? 'on the card and in its thread' : 'in the approval card thread',
    ...(opts.permalink ? { permalink: opts.permalink } : {}),
    textBudget: 6_000,
  });
  return { text: card.text, blocks: card.blocks };
}

/**
 * Sessions from the session log, newest first (`/airlock search`): outlives the
 * query records, so it names what happened, not the SQL (`/airlock show <id>`
 * has that while the record lives; reviewers replay it over the API).
 */
export function sessionList(title: string, sessions: SessionSummary[], empty = 'Nothing found.'): Message {
  const lines = sessions.map((s) => {
    const risk = (s.risk ?? 'low') as Risk;
    const parts = [
      `${RISK_EMOJI[risk] ?? '⚪'} ${code(s.id)}${s.risk ? ` *${escapeMrkdwn(s.risk)}*` : ''}`,
      `agent ${code(s.agent ?? 'unknown')}`,
      escapeMrkdwn((s.status ?? 'received').replace(/_/g, ' ')),
      slackDate(s.startedAt),
    ];
    if (s.votes.length > 0) parts.push(plural(s.votes.filter((v) => v.vote === 'approve').length, 'approval', 'approvals'));
    let text = parts.join(' · ');
    if (s.tables.length > 0) text += `\n${s.tables.slice(0, 4).map(code).join(', ')}${s.tables.length > 4 ? ` +${s.tables.length - 4}` : ''}`;
    return text;
  });
  return listMessage('al.sessions', title, lines, (n) => plural(n, 'more session', 'more sessions'), empty);
}

/** `/airlock` with no or unknown arguments. */
export function usage(): Message {
  const text = [
    '*Airlock* — approvals for agent queries',
    '`/airlock pending` — requests waiting for approval, with links to their cards',
    '`/airlock show <query id>` — one request: SQL, decision, votes, outcome',
    '`/airlock search <table|column|agent>` — sessions that touched a table or column (e.g. `CUSTOMERS.SSN`), or from an agent, newest first',
  ].join('\n');
  return { text: 'Airlock commands: pending, show <id>, search <table|agent>', blocks: [{ type: 'section', block_id: 'airlock_usage', text: md(text) }] };
}

