/**
 * The audit summary posted as a thread reply under the card once a query
 * reaches an outcome. Pure.
 */
import type { ApprovalState } from '../../approvals/machine.ts';
import type { QueryRecord } from '../../queries/types.ts';
import { MAX_SECTION_FIELD_TEXT, MAX_SECTION_TEXT } from '../limits.ts';
import { type Block, Ids, type Message, md } from './blocks.ts';
import { code, escapeMrkdwn, fitText, humanMs, plural, slackDate } from './mrkdwn.ts';
import { approvalsLine, joinCapped, reasonLines, rowsText, statusLine, voteLines } from './record-lines.ts';

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
