/**
 * The approval card: a query waiting in `pending_approval` with Approve and
 * Deny buttons, and the same card after the outcome (no buttons, a status line
 * that stays). SQL that does not fit goes to {@link sqlThreadReplies} in the
 * card's thread. `/airlock show` renders the same card without buttons. Pure.
 */
import type { ApprovalState } from '../../approvals/machine.ts';
import type { Decision } from '../../policy/decision.ts';
import type { QueryRecord, QueryStatus } from '../../queries/types.ts';
import { MAX_HEADER_TEXT, MAX_MESSAGE_BLOCKS, MAX_SECTION_FIELD_TEXT, MAX_SECTION_TEXT, SAFE_MESSAGE_BLOCKS_TEXT, blocksTextLength } from '../limits.ts';
import { type Block, Ids, type Message, type Mrkdwn, md, plain } from './blocks.ts';
import { RISK_EMOJI, capital, code, escapeMrkdwn, fitText, humanDuration, shortFingerprint, slackDate } from './mrkdwn.ts';
import { approvalsLine, approvers, joinCapped, reasonLines, statusLine, verbSummary, voteLines } from './record-lines.ts';
import { codeSafe, fenced, splitSql } from './sql.ts';

/** Approve button `action_id` (public id, DESIGN §3). */
export const APPROVE_ACTION_ID = 'airlock_approve';
/** Deny button `action_id` (public id, DESIGN §3). */
export const DENY_ACTION_ID = 'airlock_deny';

/** Plain-text status word for headers. */
const STATUS_WORD: Record<QueryStatus, string> = {
  pending_approval: 'approval needed',
  approved: 'approved',
  queued: 'approved',
  running: 'running',
  succeeded: 'done',
  failed: 'failed',
  outcome_unknown: 'outcome unknown',
  denied: 'denied',
  rejected: 'rejected',
  expired: 'expired',
  cancelled: 'withdrawn',
};

function headerText(record: QueryRecord): string {
  const risk = record.decision.risk;
  const text = `${RISK_EMOJI[risk]} ${capital(risk)} risk · ${verbSummary(record.decision)} — ${STATUS_WORD[record.status]}`;
  if (text.length <= MAX_HEADER_TEXT) return text;
  // Keep the status visible: cut the middle (the table list), not the end.
  // Counted in UTF-16 units, which is never less than Slack's character count.
  const tail = ` — ${STATUS_WORD[record.status]}`;
  let head = '';
  for (const ch of text.slice(0, text.length - tail.length)) {
    if (head.length + ch.length > MAX_HEADER_TEXT - tail.length - 1) break;
    head += ch;
  }
  return `${head}…${tail}`;
}

function tablesText(decision: Decision, maxChars: number): string | undefined {
  const tables = [...new Set(decision.statements.flatMap((s) => s.tables))];
  const sensitive = new Map<string, { type: string; via: Set<string> }>();
  for (const s of decision.statements) {
    for (const t of s.sensitive ?? []) {
      const e = sensitive.get(t.name) ?? { type: t.type, via: new Set<string>() };
      for (const v of t.via) e.via.add(v);
      sensitive.set(t.name, e);
    }
  }
  const parts: string[] = [];
  if (tables.length) parts.push(`*Tables:* ${joinCapped(tables.map(code), maxChars / 2)}`);
  if (sensitive.size) {
    const cols = [...sensitive].map(([name, e]) => `${code(name)} (${escapeMrkdwn(e.type)}${e.via.size ? `; ${escapeMrkdwn([...e.via].join(', '))}` : ''})`);
    parts.push(`*Sensitive:* ${joinCapped(cols, maxChars / 2)}`);
  }
  return parts.length ? parts.join('\n') : undefined;
}

/** The block id prefix of one render: fresh per render so chat.update always re-renders (DESIGN §4). */
function nonceFor(record: QueryRecord, approval: ApprovalState | undefined, now: Date, renderId?: string): string {
  if (renderId) return renderId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64) || 'r';
  return `${record.status}-${approval?.votes.length ?? 0}-${now.getTime().toString(36)}`;
}

/** Input of {@link approvalCard}. */
export interface ApprovalCardInput {
  record: QueryRecord;
  approval: ApprovalState;
  now: Date;
  links?: { sqlUrl?: string };
  /** Makes block ids unique per render; derived from status, votes and `now` when absent. */
  renderId?: string;
}

/** A rendered card. When `overflowSql`, post {@link sqlThreadReplies} under it. */
export interface ApprovalCard extends Message {
  overflowSql: boolean;
  /** Characters of SQL in the record. */
  sqlChars: number;
}

/** How {@link renderCard} renders: as the live card, or as `/airlock show`'s copy. */
interface CardOptions {
  buttons: boolean;
  /** Where the full SQL lives when it does not fit. */
  overflowWhere: string;
  sqlUrl?: string;
  permalink?: string;
  textBudget: number;
}

/** Header, status line, who and when, and what the agent said it wants. */
function headBlocks(record: QueryRecord, approval: ApprovalState | undefined, now: Date | undefined, ids: Ids): Block[] {
  const pending = record.status === 'pending_approval';
  const head: Block[] = [{ type: 'header', block_id: ids.next('header'), text: plain(headerText(record)) }];
  const status = statusLine(record, approval);
  if (status) head.push({ type: 'section', block_id: ids.next('status'), text: md(fitText(status, MAX_SECTION_TEXT, false)) });

  const agent = record.requester.name === record.requester.id ? code(record.requester.name) : `${code(record.requester.name)} (${escapeMrkdwn(record.requester.id)})`;
  const fields: Mrkdwn[] = [
    md(fitText(`*Agent*\n${agent}`, 400, false)),
    md(`*Owner*\n${record.requester.owner ? fitText(record.requester.owner, 300) : '_unknown_'}`),
    md(`*Requested*\n${slackDate(record.createdAt)}`),
  ];
  if (approval && pending) {
    const left = now ? (Date.parse(approval.expiresAt) - now.getTime()) / 1000 : undefined;
    const rel = left === undefined ? '' : left > 0 ? ` (in ${humanDuration(left)})` : ' (overdue)';
    fields.push(md(`*Expires*\n${slackDate(approval.expiresAt)}${rel}`));
  } else {
    fields.push(md(`*Status*\n${escapeMrkdwn(record.status.replace(/_/g, ' '))}`));
  }
  head.push({ type: 'section', block_id: ids.next('who'), fields: fields.map((f) => md(f.text.slice(0, MAX_SECTION_FIELD_TEXT))) });

  const ask: string[] = [];
  if (record.purpose) ask.push(`*Purpose:* ${fitText(record.purpose, 500)}`);
  if (record.prompt) ask.push(`*Prompt:*\n${fitText(record.prompt, 1_200)}`);
  if (ask.length) head.push({ type: 'section', block_id: ids.next('ask'), text: md(ask.join('\n')) });
  return head;
}

/** Why review, tables, votes, the buttons (pending only) and the ids line. */
function tailBlocks(record: QueryRecord, approval: ApprovalState | undefined, ids: Ids, opts: CardOptions): Block[] {
  const d = record.decision;
  const tail: Block[] = [];
  const reasons = reasonLines(d, 1_500);
  if (reasons.length) tail.push({ type: 'section', block_id: ids.next('reasons'), text: md(`*Why review:*\n${reasons.join('\n')}`) });
  const tables = tablesText(d, 1_500);
  if (tables) tail.push({ type: 'section', block_id: ids.next('tables'), text: md(tables) });
  if (approval) {
    const lines = [approvalsLine(approval), ...voteLines(approval.votes, 1_500)];
    tail.push({ type: 'section', block_id: ids.next('approvals'), text: md(lines.join('\n')) });
  }
  if (opts.buttons && record.status === 'pending_approval') {
    tail.push({
      type: 'actions',
      block_id: ids.next('actions'),
      elements: [
        { type: 'button', text: plain('Approve'), style: 'primary', action_id: APPROVE_ACTION_ID, value: record.id },
        { type: 'button', text: plain('Deny'), style: 'danger', action_id: DENY_ACTION_ID, value: record.id },
      ],
    });
  }
  const ctx = [`Query ${code(record.id)}`, `fingerprint ${code(shortFingerprint(approval?.fingerprint ?? d.fingerprint))}`];
  if (d.policy) ctx.push(`policy ${d.policy.name ? `${escapeMrkdwn(d.policy.name)} ` : ''}${escapeMrkdwn(d.policy.version)}`);
  if (opts.sqlUrl) ctx.push(`<${opts.sqlUrl}|full SQL>`);
  if (opts.permalink) ctx.push(`<${opts.permalink}|open card>`);
  tail.push({ type: 'context', block_id: ids.next('context'), elements: [md(fitText(ctx.join(' · '), MAX_SECTION_TEXT, false))] });
  return tail;
}

/** Room kept for the note that says the SQL overflowed. */
const SQL_NOTE_ROOM = 200;

/**
 * As much SQL as fits in `textLeft` characters and `blocksLeft` blocks, then a
 * note saying where the rest is when it does not all fit.
 */
function sqlBlocks(record: QueryRecord, ids: Ids, opts: CardOptions, room: { textLeft: number; blocksLeft: number }): { blocks: Block[]; overflow: boolean } {
  const chunks = splitSql(record.sql);
  let textLeft = room.textLeft;
  const blocks: Block[] = [];
  for (const chunk of chunks) {
    const text = fenced(chunk.text);
    if (blocks.length >= room.blocksLeft || text.length > textLeft) break;
    blocks.push({ type: 'section', block_id: ids.next('sql'), text: md(text) });
    textLeft -= text.length;
  }
  const overflow = blocks.length < chunks.length;
  const totalLines = codeSafe(record.sql).split('\n').length;
  if (overflow) {
    const shownLines = blocks.length ? (chunks[blocks.length - 1]?.endLine ?? 0) : 0;
    const shown = blocks.length ? `Showing lines 1–${shownLines} of ${totalLines}. ` : 'The statement is too long to show here. ';
    const link = opts.sqlUrl ? ` (<${opts.sqlUrl}|open>)` : '';
    blocks.push({
      type: 'section',
      block_id: ids.next('sql_overflow'),
      text: md(`:warning: ${shown}*Full SQL (${record.sql.length.toLocaleString('en-US')} chars) ${opts.overflowWhere}*${link}. Review all of it before approving.`),
    });
  }
  return { blocks, overflow };
}

/** The notification text: what is asked while pending, the outcome after. */
function cardText(record: QueryRecord, approval: ApprovalState | undefined): string {
  const d = record.decision;
  const who = escapeMrkdwn(record.requester.name);
  const preview = fitText(record.sql.replace(/\s+/g, ' ').trim(), 200);
  const text =
    record.status === 'pending_approval'
      ? `${RISK_EMOJI[d.risk]} ${capital(d.risk)}-risk query from ${who} needs approval${approval ? ` (${approvers(approval.votes).length} of ${approval.required})` : ''}: ${preview}`
      : `${statusLine(record, approval) ?? STATUS_WORD[record.status]} · query ${escapeMrkdwn(record.id)} from ${who}`;
  return fitText(text, 3_000, false);
}

/**
 * The card's blocks in order (head, SQL, tail); the SQL gets what is left of
 * the block and text budgets once head and tail are laid out.
 */
export function renderCard(record: QueryRecord, approval: ApprovalState | undefined, now: Date | undefined, ids: Ids, opts: CardOptions): ApprovalCard {
  const head = headBlocks(record, approval, now, ids);
  const tail = tailBlocks(record, approval, ids, opts);
  const sql = sqlBlocks(record, ids, opts, {
    textLeft: opts.textBudget - blocksTextLength(head) - blocksTextLength(tail) - SQL_NOTE_ROOM,
    blocksLeft: MAX_MESSAGE_BLOCKS - head.length - tail.length - 1,
  });
  return { text: cardText(record, approval), blocks: [...head, ...sql.blocks, ...tail], overflowSql: sql.overflow, sqlChars: record.sql.length };
}

/**
 * The approval card for a query waiting in `pending_approval`, and the same card
 * after the outcome (no buttons, a status line that stays). Block ids are fresh
 * per render. When `overflowSql` is true the card says the full SQL is in the
 * thread, and the caller must post {@link sqlThreadReplies} there.
 */
export function approvalCard(input: ApprovalCardInput): ApprovalCard {
  const ids = new Ids(nonceFor(input.record, input.approval, input.now, input.renderId));
  return renderCard(input.record, input.approval, input.now, ids, {
    buttons: true,
    overflowWhere: 'in the thread',
    ...(input.links?.sqlUrl ? { sqlUrl: input.links.sqlUrl } : {}),
    textBudget: SAFE_MESSAGE_BLOCKS_TEXT,
  });
}

/**
 * The full SQL as thread replies under a card whose SQL overflowed, each
 * message within Slack's limits, in order. Never empty.
 */
export function sqlThreadReplies(record: QueryRecord): Message[] {
  const chunks = splitSql(record.sql);
  const perMessage = Math.max(1, Math.floor((SAFE_MESSAGE_BLOCKS_TEXT - 300) / MAX_SECTION_TEXT));
  const parts: (typeof chunks)[] = [];
  for (let i = 0; i < chunks.length; i += perMessage) parts.push(chunks.slice(i, i + perMessage));
  return parts.map((part, i) => {
    const title = `Full SQL of query ${code(record.id)} — part ${i + 1} of ${parts.length} (${record.sql.length.toLocaleString('en-US')} chars in all)`;
    const blocks: Block[] = [
      { type: 'context', block_id: `al.sql.${i}.title`, elements: [md(title)] },
      ...part.map((c, j): Block => ({ type: 'section', block_id: `al.sql.${i}.${j}`, text: md(fenced(c.text)) })),
    ];
    return { text: `Full SQL of query ${record.id}, part ${i + 1} of ${parts.length}`, blocks };
  });
}
