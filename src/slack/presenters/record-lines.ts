/**
 * mrkdwn lines about a query record that the card, the thread summary and the
 * `/airlock` lists share: what it does, how it ended, who voted, and why the
 * policy asked for review. Pure.
 */
import type { ApprovalState, Vote } from '../../approvals/machine.ts';
import type { Decision } from '../../policy/decision.ts';
import type { QueryRecord } from '../../queries/types.ts';
import { code, escapeMrkdwn, fitText, groupLabel, humanDuration, humanMs, mention, plural, slackDate } from './mrkdwn.ts';

/** "DELETE ANALYTICS.PUBLIC.ORDERS +2": the verbs and the first table written or read. */
export function verbSummary(decision: Decision): string {
  const verbs = [...new Set(decision.statements.map((s) => (s.verb ?? s.kind).toUpperCase()))];
  const shown = verbs.slice(0, 3).join(', ') + (verbs.length > 3 ? ` +${verbs.length - 3}` : '');
  const tables = [...new Set(decision.statements.flatMap((s) => s.writes ?? s.tables))];
  const first = tables[0];
  const onWhat = first ? ` ${first}${tables.length > 1 ? ` +${tables.length - 1}` : ''}` : '';
  return (shown || 'SQL') + onWhat;
}

/** The approving votes. */
export const approvers = (votes: Vote[]): Vote[] => votes.filter((v) => v.vote === 'approve');
const firstDeny = (votes: Vote[]): Vote | undefined => votes.find((v) => v.vote === 'deny');

/** "3 rows", "1 row affected", "500 rows (truncated)"; undefined before execution. */
export function rowsText(record: QueryRecord): string | undefined {
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

/** "*Approvals:* 1 of 2 from <!subteam^S1> or *data-eng*". */
export function approvalsLine(approval: ApprovalState): string {
  const yes = approvers(approval.votes).length;
  const from = approval.groups.length ? ` from ${approval.groups.map(groupLabel).join(' or ')}` : '';
  return `*Approvals:* ${yes} of ${approval.required}${from}`;
}

/** One line per vote, cut to `maxChars` with a count of what was left out. */
export function voteLines(votes: Vote[], maxChars: number): string[] {
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

/** One line per policy reason, cut to `maxChars` with a count of what was left out. */
export function reasonLines(decision: Decision, maxChars: number): string[] {
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

/** Joins items, cut to `maxChars` with a count of what was left out. */
export function joinCapped(items: string[], maxChars: number, sep = ', '): string {
  let out = '';
  for (const [i, item] of items.entries()) {
    const next = out ? `${out}${sep}${item}` : item;
    if (next.length > maxChars - 20) return `${out}${sep}…and ${items.length - i} more`;
    out = next;
  }
  return out;
}
