/**
 * Block Kit presenters: pure functions from Airlock data to Slack message JSON.
 * No I/O, no clock (callers pass `now`), no Slack SDK: the shapes below are the
 * subset of Block Kit Airlock sends, checked against `limits.ts` in tests.
 *
 * Every piece of text that comes from an agent or a user (SQL, prompt, purpose,
 * names, reasons) is escaped for mrkdwn, so a prompt cannot ping `<!channel>`
 * or smuggle a link into a card.
 */
import type { ApprovalState, Vote } from '../approvals/machine.ts';
import type { SessionSummary } from '../audit/search.ts';
import type { Decision, Risk } from '../policy/decision.ts';
import { TERMINAL_STATUSES, type QueryRecord, type QueryStatus } from '../queries/types.ts';
import { MAX_HEADER_TEXT, MAX_MESSAGE_BLOCKS, MAX_SECTION_FIELD_TEXT, MAX_SECTION_TEXT, SAFE_MESSAGE_BLOCKS_TEXT, blocksTextLength } from './limits.ts';

// ---------------------------------------------------------------------------
// Block Kit shapes (the subset Airlock uses; structurally @slack/types-compatible)

/** Plain text object. */
export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
/** mrkdwn text object (escape user data with `escapeMrkdwn`). */
export interface Mrkdwn {
  type: 'mrkdwn';
  text: string;
  verbatim?: boolean;
}
/** Either text object. */
export type TextObject = PlainText | Mrkdwn;
/** Button element. */
export interface Button {
  type: 'button';
  text: PlainText;
  action_id: string;
  value?: string;
  url?: string;
  style?: 'primary' | 'danger';
}
/** Text input element (modals only). */
export interface PlainTextInput {
  type: 'plain_text_input';
  action_id: string;
  multiline?: boolean;
  min_length?: number;
  max_length?: number;
  placeholder?: PlainText;
}
/** Header block (plain text, ≤ 150). */
export interface HeaderBlock {
  type: 'header';
  block_id?: string;
  text: PlainText;
}
/** Section block (text ≤ 3000, up to 10 fields ≤ 2000). */
export interface SectionBlock {
  type: 'section';
  block_id?: string;
  text?: TextObject;
  fields?: TextObject[];
  accessory?: Button;
}
/** Context block (small grey text). */
export interface ContextBlock {
  type: 'context';
  block_id?: string;
  elements: TextObject[];
}
/** Actions block (buttons). */
export interface ActionsBlock {
  type: 'actions';
  block_id?: string;
  elements: Button[];
}
/** Divider block. */
export interface DividerBlock {
  type: 'divider';
  block_id?: string;
}
/** Input block (modals only). */
export interface InputBlock {
  type: 'input';
  block_id?: string;
  label: PlainText;
  hint?: PlainText;
  optional?: boolean;
  element: PlainTextInput;
}
/** A block Airlock sends. */
export type Block = HeaderBlock | SectionBlock | ContextBlock | ActionsBlock | DividerBlock | InputBlock;

/** A message: `text` is the notification / screen-reader fallback. */
export interface Message {
  text: string;
  blocks: Block[];
}

/** A modal view for `views.open`. */
export interface View {
  type: 'modal';
  callback_id: string;
  private_metadata: string;
  title: PlainText;
  submit: PlainText;
  close: PlainText;
  blocks: Block[];
}

// ---------------------------------------------------------------------------
// Public ids (DESIGN §3)

/** Approve button `action_id`. */
export const APPROVE_ACTION_ID = 'airlock_approve';
/** Deny button `action_id`. */
export const DENY_ACTION_ID = 'airlock_deny';
/** Deny modal `callback_id`. */
export const DENY_REASON_CALLBACK_ID = 'airlock_deny_reason';
/** Deny modal: the reason input's block; read `view.state.values[BLOCK][ACTION].value`. */
export const DENY_REASON_BLOCK_ID = 'airlock_deny_reason_block';
/** Deny modal: the reason input's action. */
export const DENY_REASON_ACTION_ID = 'airlock_deny_reason_input';
/** Longest deny reason accepted by the modal. */
export const DENY_REASON_MAX_LENGTH = 1_000;

/** Statuses after which a card has no buttons. */
export const FINAL_CARD_STATUSES: ReadonlySet<QueryStatus> = new Set<QueryStatus>([...TERMINAL_STATUSES, 'approved', 'queued', 'running']);

// ---------------------------------------------------------------------------
// Text helpers

/** Escapes the three characters mrkdwn treats as control (`&`, `<`, `>`). */
export const escapeMrkdwn = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const plain = (text: string): PlainText => ({ type: 'plain_text', text, emoji: true });
const md = (text: string): Mrkdwn => ({ type: 'mrkdwn', text });

const truncatedNote = (n: number): string => `… (truncated, ${n.toLocaleString('en-US')} more characters)`;

/**
 * Fits `raw` into `max` characters after escaping (when `escape`), cutting at a
 * code-point boundary and saying how much was cut. Never returns more than `max`.
 */
export function fitText(raw: string, max: number, escape = true): string {
  const enc = escape ? escapeMrkdwn : (s: string) => s;
  const full = enc(raw);
  if (full.length <= max) return full;
  const chars = Array.from(raw);
  // Binary search the longest prefix whose escaped form plus the note fits.
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const candidate = enc(chars.slice(0, mid).join('')).length + truncatedNote(chars.length - mid).length;
    if (candidate <= max) lo = mid;
    else hi = mid - 1;
  }
  const out = enc(chars.slice(0, lo).join('').trimEnd()) + truncatedNote(chars.length - lo);
  return out.length <= max ? out : out.slice(0, max);
}

/** Inline code for identifiers; backticks would end the span, so they become quotes. */
const code = (s: string): string => `\`${escapeMrkdwn(s.replace(/`/g, "'"))}\``;

const mention = (userId: string): string => `<@${escapeMrkdwn(userId)}>`;

const groupLabel = (g: string): string => (/^S[A-Z0-9]{2,}$/.test(g) ? `<!subteam^${g}>` : `*${escapeMrkdwn(g)}*`);

const pad = (n: number): string => String(n).padStart(2, '0');

/** Slack date token: renders in the reader's time zone, with a UTC fallback. */
export function slackDate(iso: string | Date, format = '{date_short_pretty} {time}'): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return escapeMrkdwn(String(iso));
  const fallback = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
  return `<!date^${Math.floor(d.getTime() / 1000)}^${format}|${fallback}>`;
}

/** "1 h", "1 h 30 min", "45 min", "20 s". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  if (h < 48) return rest ? `${h} h ${rest} min` : `${h} h`;
  return `${Math.round(h / 24)} days`;
}

/** "120 ms", "3.2 s". */
export function humanMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

const RISK_EMOJI: Record<Risk, string> = { low: '🟢', medium: '🟡', high: '🟠', critical: '🔴' };
const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Short fingerprint shown on cards. */
export const shortFingerprint = (fp: string): string => fp.slice(0, 12);

// ---------------------------------------------------------------------------
// Facts derived from a record

function verbSummary(decision: Decision): string {
  const verbs = [...new Set(decision.statements.map((s) => (s.verb ?? s.kind).toUpperCase()))];
  const shown = verbs.slice(0, 3).join(', ') + (verbs.length > 3 ? ` +${verbs.length - 3}` : '');
  const tables = [...new Set(decision.statements.flatMap((s) => s.writes ?? s.tables))];
  const first = tables[0];
  const onWhat = first ? ` ${first}${tables.length > 1 ? ` +${tables.length - 1}` : ''}` : '';
  return (shown || 'SQL') + onWhat;
}

const approvers = (votes: Vote[]): Vote[] => votes.filter((v) => v.vote === 'approve');
const firstDeny = (votes: Vote[]): Vote | undefined => votes.find((v) => v.vote === 'deny');

function rowsText(record: QueryRecord): string | undefined {
  const ex = record.execution;
  if (!ex) return undefined;
  if (ex.rowsAffected !== undefined) return `${plural(ex.rowsAffected, 'row')} affected`;
  if (ex.rowCount !== undefined) return plural(ex.rowCount, 'row') + (ex.truncated ? ' (truncated)' : '');
  return undefined;
}

function ranText(record: QueryRecord): string {
  const ex = record.execution;
  const parts: string[] = [];
  if (ex?.durationMs !== undefined) parts.push(`ran in ${humanMs(ex.durationMs)}`);
  else parts.push('ran');
  const rows = rowsText(record);
  if (rows) parts.push(rows);
  return parts.join(', ');
}

/**
 * The line that stays on a card once it is decided, e.g. "✅ Approved by
 * <@U1>, <@U2> — ran in 120 ms, 3 rows". Undefined while pending.
 */
export function statusLine(record: QueryRecord, approval: ApprovalState | undefined): string | undefined {
  const votes = approval?.votes ?? [];
  const yes = approvers(votes);
  const by = yes.length ? `Approved by ${yes.map((v) => mention(v.voter.slackUserId)).join(', ')}` : 'Allowed by policy';
  const err = record.error ? `${escapeMrkdwn(record.error.message)} (${code(record.error.code)})` : 'no details';
  switch (record.status) {
    case 'pending_approval':
      return undefined;
    case 'approved':
    case 'queued':
      return `✅ ${by} — queued to run`;
    case 'running':
      return `✅ ${by} — running`;
    case 'succeeded':
      return `✅ ${by} — ${ranText(record)}`;
    case 'failed':
      return `❌ ${by} — failed: ${err}`;
    case 'outcome_unknown': {
      const qid = record.execution?.warehouseQueryId;
      return `⚠️ ${by} — outcome unknown: the worker stopped while the statement ran. It will not be re-run automatically; check Snowflake${qid ? ` (query id ${code(qid)})` : ''}.`;
    }
    case 'rejected': {
      const deny = firstDeny(votes);
      if (!deny) return '⛔ Rejected';
      return `⛔ Rejected by ${mention(deny.voter.slackUserId)}${deny.reason ? `: ${escapeMrkdwn(deny.reason)}` : ''}`;
    }
    case 'expired': {
      const window = approval ? (Date.parse(approval.expiresAt) - Date.parse(record.createdAt)) / 1000 : record.decision.approvals.expiresInSeconds;
      return `⌛ Expired — nobody decided${window !== undefined && Number.isFinite(window) ? ` within ${humanDuration(window)}` : ' in time'}`;
    }
    case 'cancelled':
      return '🚫 Withdrawn by the agent';
    case 'denied':
      return '⛔ Denied by policy';
  }
}

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

function approvalsLine(approval: ApprovalState): string {
  const yes = approvers(approval.votes).length;
  const from = approval.groups.length ? ` from ${approval.groups.map(groupLabel).join(' or ')}` : '';
  return `*Approvals:* ${yes} of ${approval.required}${from}`;
}

function voteLines(votes: Vote[], maxChars: number): string[] {
  const lines: string[] = [];
  let used = 0;
  for (const [i, v] of votes.entries()) {
    const who = mention(v.voter.slackUserId);
    const line =
      v.vote === 'approve'
        ? `✅ ${who} approved ${slackDate(v.at)}`
        : `⛔ ${who} denied ${slackDate(v.at)}${v.reason ? `: ${fitText(v.reason, 600)}` : ''}`;
    if (used + line.length + 1 > maxChars) {
      lines.push(`…and ${plural(votes.length - i, 'more vote')}`);
      break;
    }
    lines.push(line);
    used += line.length + 1;
  }
  return lines;
}

function reasonLines(decision: Decision, maxChars: number): string[] {
  const lines: string[] = [];
  let used = 0;
  for (const [i, r] of decision.reasons.entries()) {
    const where = [decision.statements.length > 1 ? `statement ${r.statement + 1}` : '', r.rule ? `rule ${code(r.rule)}` : '']
      .filter(Boolean)
      .join(', ');
    const line = `• ${code(r.code)} ${fitText(r.message, 400)}${where ? ` (${where})` : ''}`;
    if (used + line.length + 1 > maxChars) {
      lines.push(`…and ${plural(decision.reasons.length - i, 'more reason')}`);
      break;
    }
    lines.push(line);
    used += line.length + 1;
  }
  return lines;
}

function joinCapped(items: string[], maxChars: number, sep = ', '): string {
  let out = '';
  for (const [i, item] of items.entries()) {
    const next = out ? `${out}${sep}${item}` : item;
    if (next.length > maxChars - 20) return `${out}${sep}…and ${items.length - i} more`;
    out = next;
  }
  return out;
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

// ---------------------------------------------------------------------------
// SQL in code blocks

const FENCE_OVERHEAD = 8; // "```\n" + "\n```"
/** Escaped SQL characters per code-block section (leaves room for the fences). */
export const SQL_CHUNK_CHARS = MAX_SECTION_TEXT - FENCE_OVERHEAD - 92;

/** Makes SQL safe inside a ``` block: normalized newlines, no fence terminators. */
function codeSafe(sql: string): string {
  return sql.replace(/\r\n?/g, '\n').replace(/```/g, '`\u200b``').replace(/^\s*\n/, '').trimEnd();
}

/**
 * Splits SQL into escaped chunks of at most `max` characters, at line
 * boundaries where possible; a line longer than `max` is cut at code points.
 * Returns escaped chunks and the raw line count each ends at.
 */
export function splitSql(sql: string, max = SQL_CHUNK_CHARS): { text: string; endLine: number }[] {
  const lines = codeSafe(sql).split('\n');
  const chunks: { text: string; endLine: number }[] = [];
  let cur = '';
  const flush = (endLine: number): void => {
    if (cur.length) chunks.push({ text: cur, endLine });
    cur = '';
  };
  lines.forEach((raw, i) => {
    const line = escapeMrkdwn(raw);
    if (cur.length && cur.length + 1 + line.length > max) flush(i);
    if (line.length <= max) {
      cur = cur.length ? `${cur}\n${line}` : line;
      return;
    }
    // A single very long line: cut it without splitting an escape or a surrogate pair.
    for (const ch of Array.from(raw)) {
      const e = escapeMrkdwn(ch);
      if (cur.length + e.length > max) flush(i);
      cur += e;
    }
  });
  flush(lines.length);
  return chunks.length ? chunks : [{ text: '(empty statement)', endLine: 0 }];
}

const fenced = (s: string): string => `\`\`\`\n${s}\n\`\`\``;

// ---------------------------------------------------------------------------
// Block ids: fresh per render so chat.update always re-renders (DESIGN §4)

function nonceFor(record: QueryRecord, approval: ApprovalState | undefined, now: Date, renderId?: string): string {
  if (renderId) return renderId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64) || 'r';
  return `${record.status}-${approval?.votes.length ?? 0}-${now.getTime().toString(36)}`;
}

class Ids {
  private n = 0;
  constructor(private readonly prefix: string) {}
  next(name: string): string {
    return `al.${this.prefix}.${name}.${this.n++}`.slice(0, 255);
  }
}

// ---------------------------------------------------------------------------
// Approval card

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

interface CardOptions {
  buttons: boolean;
  /** Where the full SQL lives when it does not fit. */
  overflowWhere: string;
  sqlUrl?: string;
  permalink?: string;
  textBudget: number;
}

function renderCard(record: QueryRecord, approval: ApprovalState | undefined, now: Date | undefined, ids: Ids, opts: CardOptions): ApprovalCard {
  const d = record.decision;
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

  const tail: Block[] = [];
  const reasons = reasonLines(d, 1_500);
  if (reasons.length) tail.push({ type: 'section', block_id: ids.next('reasons'), text: md(`*Why review:*\n${reasons.join('\n')}`) });
  const tables = tablesText(d, 1_500);
  if (tables) tail.push({ type: 'section', block_id: ids.next('tables'), text: md(tables) });
  if (approval) {
    const lines = [approvalsLine(approval), ...voteLines(approval.votes, 1_500)];
    tail.push({ type: 'section', block_id: ids.next('approvals'), text: md(lines.join('\n')) });
  }
  if (opts.buttons && pending) {
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

  // The SQL gets what is left of the block and text budgets, less room for an overflow note.
  const chunks = splitSql(record.sql);
  const noteRoom = 200;
  let textLeft = opts.textBudget - blocksTextLength(head) - blocksTextLength(tail) - noteRoom;
  const blocksLeft = MAX_MESSAGE_BLOCKS - head.length - tail.length - 1;
  const sqlBlocks: Block[] = [];
  for (const chunk of chunks) {
    const text = fenced(chunk.text);
    if (sqlBlocks.length >= blocksLeft || text.length > textLeft) break;
    sqlBlocks.push({ type: 'section', block_id: ids.next('sql'), text: md(text) });
    textLeft -= text.length;
  }
  const overflowSql = sqlBlocks.length < chunks.length;
  const totalLines = codeSafe(record.sql).split('\n').length;
  if (overflowSql) {
    const shownLines = sqlBlocks.length ? (chunks[sqlBlocks.length - 1]?.endLine ?? 0) : 0;
    const shown = sqlBlocks.length ? `Showing lines 1–${shownLines} of ${totalLines}. ` : 'The statement is too long to show here. ';
    const link = opts.sqlUrl ? ` (<${opts.sqlUrl}|open>)` : '';
    sqlBlocks.push({
      type: 'section',
      block_id: ids.next('sql_overflow'),
      text: md(`:warning: ${shown}*Full SQL (${record.sql.length.toLocaleString('en-US')} chars) ${opts.overflowWhere}*${link}. Review all of it before approving.`),
    });
  }

  const blocks = [...head, ...sqlBlocks, ...tail];
  const who = escapeMrkdwn(record.requester.name);
  const preview = fitText(record.sql.replace(/\s+/g, ' ').trim(), 200);
  const text = pending
    ? `${RISK_EMOJI[d.risk]} ${capital(d.risk)}-risk query from ${who} needs approval${approval ? ` (${approvers(approval.votes).length} of ${approval.required})` : ''}: ${preview}`
    : `${status ?? STATUS_WORD[record.status]} · query ${escapeMrkdwn(record.id)} from ${who}`;
  return { text: fitText(text, 3_000, false), blocks, overflowSql, sqlChars: record.sql.length };
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

// ---------------------------------------------------------------------------
// Deny modal

/** The modal the Deny button opens; the reason is required. */
export function denyReasonModal(queryId: string): View {
  return {
    type: 'modal',
    callback_id: DENY_REASON_CALLBACK_ID,
    private_metadata: queryId,
    title: plain('Deny query'),
    submit: plain('Deny'),
    close: plain('Cancel'),
    blocks: [
      { type: 'section', block_id: 'airlock_deny_intro', text: md(fitText(`You are denying query ${code(queryId)}. The agent sees your reason and may retry with a changed query.`, MAX_SECTION_TEXT, false)) },
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK_ID,
        label: plain('Reason'),
        hint: plain('Shown to the agent and kept in the audit log.'),
        optional: false,
        element: {
          type: 'plain_text_input',
          action_id: DENY_REASON_ACTION_ID,
          multiline: true,
          min_length: 1,
          max_length: DENY_REASON_MAX_LENGTH,
          placeholder: plain('e.g. Use a WHERE clause; do not read SSNs'),
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------
// Thread summary (audit)

/** Input of {@link threadSummary}. */
export interface ThreadSummaryInput {
  record: QueryRecord;
  /** Defaults to `record.approval`. */
  approval?: ApprovalState;
  masking?: { columns: { name: string; strategy: string; cells: number }[] };
  sessionId: string;
}

/**
 * The audit summary posted as a thread reply under the card once a query
 * reaches an outcome: who asked, who decided and when, why, what ran, what was
 * masked, and the ids a reviewer needs to find it again.
 */
export function threadSummary(input: ThreadSummaryInput): Message {
  const { record } = input;
  const approval = input.approval ?? record.approval;
  const d = record.decision;
  const ex = record.execution;
  const ids = new Ids(`sum-${record.status}`);
  const blocks: Block[] = [];
  const status = statusLine(record, approval) ?? 'Pending';
  blocks.push({ type: 'section', block_id: ids.next('title'), text: md(fitText(`*Audit summary* for query ${code(record.id)}\n${status}`, MAX_SECTION_TEXT, false)) });

  const fields: string[] = [
    `*Agent*\n${code(record.requester.name)} (${fitText(record.requester.id, 200)})`,
    `*Owner*\n${record.requester.owner ? fitText(record.requester.owner, 300) : '_unknown_'}`,
    `*Decision*\n${escapeMrkdwn(d.action)} · ${escapeMrkdwn(d.risk)} risk${d.policy ? ` · policy ${escapeMrkdwn(d.policy.version)}` : ''}`,
    `*Outcome*\n${escapeMrkdwn(record.status.replace(/_/g, ' '))}`,
    `*Requested*\n${slackDate(record.createdAt)}`,
  ];
  if (ex?.durationMs !== undefined) fields.push(`*Execution time*\n${humanMs(ex.durationMs)}`);
  const rows = rowsText(record);
  if (rows) fields.push(`*Rows returned*\n${rows}`);
  if (ex?.warehouseQueryId) fields.push(`*Snowflake query id*\n${code(ex.warehouseQueryId)}`);
  blocks.push({ type: 'section', block_id: ids.next('facts'), fields: fields.map((f) => md(f.slice(0, MAX_SECTION_FIELD_TEXT))) });

  const decided: string[] = [];
  if (approval) {
    decided.push(approvalsLine(approval));
    decided.push(...(approval.votes.length ? voteLines(approval.votes, 1_800) : ['_No votes._']));
  } else {
    decided.push(`*Approvals:* none needed (${escapeMrkdwn(d.action)} by policy)`);
  }
  blocks.push({ type: 'section', block_id: ids.next('votes'), text: md(decided.join('\n')) });

  const reasons = reasonLines(d, 1_500);
  if (reasons.length) blocks.push({ type: 'section', block_id: ids.next('reasons'), text: md(`*Decision reasons:*\n${reasons.join('\n')}`) });

  const masked = input.masking?.columns ?? [];
  const maskedText = masked.length
    ? joinCapped(
        masked.map((c) => `${code(c.name)} (${escapeMrkdwn(c.strategy)}, ${plural(c.cells, 'cell')})`),
        1_500,
      )
    : '_none_';
  blocks.push({ type: 'section', block_id: ids.next('masked'), text: md(`*Masked columns:* ${maskedText}`) });

  const extra: string[] = [];
  if (record.error) extra.push(`*Error:* ${code(record.error.code)} ${fitText(record.error.message, 800)}`);
  if (ex?.resultSha256) extra.push(`*Result sha256:* ${code(ex.resultSha256)}`);
  if (extra.length) blocks.push({ type: 'section', block_id: ids.next('result'), text: md(extra.join('\n')) });

  blocks.push({
    type: 'context',
    block_id: ids.next('ids'),
    elements: [md(fitText(`Session ${code(input.sessionId)} · query ${code(record.id)} · fingerprint ${code(d.fingerprint)}`, MAX_SECTION_TEXT, false))],
  });

  const textParts = [`Audit summary for query ${record.id}: ${record.status.replace(/_/g, ' ')}`];
  if (ex?.durationMs !== undefined) textParts.push(humanMs(ex.durationMs));
  if (rows) textParts.push(rows);
  return { text: escapeMrkdwn(textParts.join(', ')), blocks };
}

// ---------------------------------------------------------------------------
// Ephemeral messages and /airlock

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

/** `/airlock` with no or unknown arguments. */
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

export function usage(): Message {
  const text = [
    '*Airlock* — approvals for agent queries',
    '`/airlock pending` — requests waiting for approval, with links to their cards',
    '`/airlock show <query id>` — one request: SQL, decision, votes, outcome',
    '`/airlock search <table|column|agent>` — sessions that touched a table or column (e.g. `CUSTOMERS.SSN`), or from an agent, newest first',
  ].join('\n');
  return { text: 'Airlock commands: pending, show <id>, search <table|agent>', blocks: [{ type: 'section', block_id: 'airlock_usage', text: md(text) }] };
}
