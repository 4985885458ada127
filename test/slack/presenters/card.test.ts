import type { types } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import type { QueryRecord, QueryStatus } from '../../../src/queries/types.ts';
import type { Block, Message } from '../../../src/slack/presenters/blocks.ts';
import { splitSql } from '../../../src/slack/presenters/sql.ts';
import { APPROVE_ACTION_ID, DENY_ACTION_ID, approvalCard, sqlThreadReplies } from '../../../src/slack/presenters/card.ts';
import { denyReasonModal } from '../../../src/slack/presenters/modal.ts';
import { MAX_HEADER_TEXT, MAX_MESSAGE_BLOCKS, MAX_MESSAGE_BLOCKS_TEXT, MAX_SECTION_TEXT, blocksTextLength, checkMessage } from '../../../src/slack/limits.ts';
import { NOW, decision, record, approval, approve, allText, blockIds, buttons, unescapeMrkdwn, sqlSections, type Approval } from './fixtures.ts';

describe('approvalCard: a pending request', () => {
  const card = approvalCard({ record: record(), approval: approval(), now: NOW });

  it('fits Slack limits and has Block Kit shapes Slack types accept', () => {
    expect(checkMessage(card.blocks, card.text)).toEqual([]);
    // Compile-time: our shapes are assignable to @slack/types' KnownBlock / View.
    const typed: types.KnownBlock[] = card.blocks;
    const view: types.ModalView = denyReasonModal('q1');
    expect(typed.length).toBe(card.blocks.length);
    expect(view.type).toBe('modal');
    expect(card.overflowSql).toBe(false);
  });

  it('heads with the risk level, verb and table', () => {
    expect(card.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: '🟠 High risk · DROP ANALYTICS.PUBLIC.CUSTOMERS — approval needed' } });
  });

  it('has Approve (primary) and Deny (danger) carrying the query id', () => {
    expect(buttons(card)).toEqual([
      expect.objectContaining({ action_id: APPROVE_ACTION_ID, style: 'primary', value: 'q_01JNB2K8ZQ', text: expect.objectContaining({ text: 'Approve' }) }),
      expect.objectContaining({ action_id: DENY_ACTION_ID, style: 'danger', value: 'q_01JNB2K8ZQ', text: expect.objectContaining({ text: 'Deny' }) }),
    ]);
  });

  it('shows agent, owner, purpose, prompt, SQL, reasons, tables, sensitive columns, quorum and expiry', () => {
    const t = allText(card);
    expect(t).toContain('`claude-code` (agent:claude-code)');
    expect(t).toContain('ana@example.com');
    expect(t).toContain('*Purpose:* cleanup');
    expect(t).toContain('Clean up the old customers table');
    expect(sqlSections(card)).toEqual(['DROP TABLE ANALYTICS.PUBLIC.CUSTOMERS']);
    expect(t).toContain('• `DESTRUCTIVE_DDL` DROP TABLE ANALYTICS.PUBLIC.CUSTOMERS (rule `ddl-needs-two`)');
    expect(t).toContain('*Tables:* `ANALYTICS.PUBLIC.CUSTOMERS`');
    expect(t).toContain('`ANALYTICS.PUBLIC.CUSTOMERS.EMAIL` (email; select, where)');
    expect(t).toContain('*Approvals:* 0 of 2 from *data-owners*');
    expect(t).toContain('*Expires*\n<!date^1741084200^{date_short_pretty} {time}|2025-03-04 10:30 UTC> (in 30 min)');
  });

  it('ends with a context naming the query id and the short fingerprint', () => {
    const last = card.blocks.at(-1);
    expect(last?.type).toBe('context');
    expect(allText({ blocks: [last as Block] })).toBe('Query `q_01JNB2K8ZQ` · fingerprint `a3f1c09e5b7d` · policy default v3');
  });

  it('lists who voted and when, and counts approvals', () => {
    const c = approvalCard({ record: record(), approval: approval({ votes: [approve('U1')] }), now: NOW });
    const t = allText(c);
    expect(t).toContain('*Approvals:* 1 of 2 from *data-owners*');
    expect(t).toContain('✅ <@U1> approved <!date^1741081200^{date_short_pretty} {time}|2025-03-04 09:40 UTC>');
    expect(buttons(c)).toHaveLength(2);
  });

  it('mentions Slack user groups given by id, and several groups', () => {
    const t = allText(approvalCard({ record: record(), approval: approval({ groups: ['S0DATAOWN', 'security'] }), now: NOW }));
    expect(t).toContain('*Approvals:* 0 of 2 from <!subteam^S0DATAOWN> or *security*');
  });

  it('uses fresh block ids on every render, unique within the message', () => {
    const a = approvalCard({ record: record(), approval: approval(), now: NOW });
    const b = approvalCard({ record: record(), approval: approval({ votes: [approve('U1')] }), now: NOW });
    const c = approvalCard({ record: record(), approval: approval(), now: new Date(NOW.getTime() + 1) });
    const d = approvalCard({ record: record(), approval: approval(), now: NOW, renderId: 'job-42' });
    for (const m of [a, b, c, d]) expect(new Set(blockIds(m)).size).toBe(m.blocks.length);
    for (const [x, y] of [[a, b], [a, c], [a, d]] as const) {
      expect(blockIds(x).filter((id) => blockIds(y).includes(id))).toEqual([]);
    }
    expect(blockIds(d).every((id) => id.includes('job-42'))).toBe(true);
  });

  it('escapes agent-supplied text so it cannot ping or link', () => {
    const c = approvalCard({
      record: record({ prompt: 'hi <!channel> see <https://evil.example|docs> & more', sql: 'SELECT * FROM T WHERE A < 1 AND B > 2 -- ```' }),
      approval: approval(),
      now: NOW,
    });
    const t = allText(c);
    expect(t).not.toContain('<!channel>');
    expect(t).not.toContain('<https://evil');
    expect(t).toContain('hi &lt;!channel&gt; see &lt;https://evil.example|docs&gt; &amp; more');
    expect(sqlSections(c)[0]).toBe('SELECT * FROM T WHERE A &lt; 1 AND B &gt; 2 -- `\u200b``');
    expect(c.text).not.toMatch(/<!channel>/);
  });

  it('truncates a long prompt and says by how much', () => {
    const prompt = 'p'.repeat(5000);
    const t = allText(approvalCard({ record: record({ prompt }), approval: approval(), now: NOW }));
    const m = /(p+)… \(truncated, ([\d,]+) more characters\)/.exec(t);
    expect(m).not.toBeNull();
    expect((m?.[1]?.length ?? 0) + Number(m?.[2]?.replace(/,/g, ''))).toBe(5000);
  });

  it('keeps the header within 150 characters and the status visible', () => {
    const long = `ANALYTICS.PUBLIC.${'X'.repeat(300)}`;
    const d = decision({ statements: [{ kind: 'drop', verb: 'DROP', tables: [long], writes: [long], columns: [], complete: true }] });
    const c = approvalCard({ record: record({ decision: d }), approval: approval(), now: NOW });
    const header = c.blocks[0];
    expect(header?.type === 'header' && header.text.text.length).toBeLessThanOrEqual(MAX_HEADER_TEXT);
    expect(header?.type === 'header' && header.text.text.endsWith('— approval needed')).toBe(true);
    expect(checkMessage(c.blocks, c.text)).toEqual([]);
  });

  it('caps a flood of reasons and sensitive columns within limits', () => {
    const reasons = Array.from({ length: 300 }, (_, i) => ({ code: 'SENSITIVE_COLUMN', message: `column C${i} is PII`.repeat(5), statement: 0 }));
    const sensitive = Array.from({ length: 300 }, (_, i) => ({ name: `DB.S.T.COL_${i}`, type: 'ssn', via: ['select'] }));
    const d = decision({ reasons, statements: [{ kind: 'select', tables: ['DB.S.T'], columns: [], sensitive, complete: true }] });
    const c = approvalCard({ record: record({ decision: d }), approval: approval(), now: NOW });
    expect(checkMessage(c.blocks, c.text)).toEqual([]);
    expect(allText(c)).toMatch(/…and \d+ more reasons/);
    expect(allText(c)).toMatch(/…and \d+ more/);
  });
});

describe('approvalCard: SQL that is long', () => {
  it('splits medium SQL over several code blocks at line boundaries, losing nothing', () => {
    const sql = Array.from({ length: 100 }, (_, i) => `  OR customer_id = ${1000 + i} -- row ${i} & <check>`).join('\n');
    const c = approvalCard({ record: record({ sql: `SELECT * FROM T WHERE false\n${sql}` }), approval: approval(), now: NOW });
    expect(checkMessage(c.blocks, c.text)).toEqual([]);
    const parts = sqlSections(c);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.length + 8).toBeLessThanOrEqual(MAX_SECTION_TEXT);
    expect(c.overflowSql).toBe(false);
    expect(unescapeMrkdwn(parts.join('\n'))).toBe(`SELECT * FROM T WHERE false\n${sql}`);
  });

  it('a 20 KB statement: card within limits, says where the full SQL is, thread replies carry all of it', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `INSERT INTO T (A, B) VALUES (${i}, 'value number ${i} <x>');`);
    const sql = lines.join('\n');
    expect(sql.length).toBeGreaterThan(20_000);
    const c = approvalCard({ record: record({ sql }), approval: approval(), now: NOW });
    expect(checkMessage(c.blocks, c.text)).toEqual([]);
    expect(c.blocks.length).toBeLessThanOrEqual(MAX_MESSAGE_BLOCKS);
    expect(blocksTextLength(c.blocks)).toBeLessThan(MAX_MESSAGE_BLOCKS_TEXT);
    expect(c.overflowSql).toBe(true);
    expect(c.sqlChars).toBe(sql.length);
    expect(allText(c)).toContain(`*Full SQL (${sql.length.toLocaleString('en-US')} chars) in the thread*`);
    expect(allText(c)).toMatch(/Showing lines 1–\d+ of 400/);
    // What the card shows is a prefix of the statement, cut at a line boundary.
    expect(sql.startsWith(`${unescapeMrkdwn(sqlSections(c).join('\n'))}\n`)).toBe(true);
    expect(buttons(c)).toHaveLength(2);

    const replies = sqlThreadReplies(record({ sql }));
    expect(replies.length).toBeGreaterThan(1);
    for (const r of replies) expect(checkMessage(r.blocks, r.text)).toEqual([]);
    expect(unescapeMrkdwn(replies.flatMap(sqlSections).join('\n'))).toBe(sql);
    expect(allText(replies[0] as Message)).toContain(`part 1 of ${replies.length}`);
  });

  it('adds a link to the full SQL when the caller has one', () => {
    const c = approvalCard({ record: record({ sql: 'x\n'.repeat(20_000) }), approval: approval(), now: NOW, links: { sqlUrl: 'https://airlock.example/q/1/sql' } });
    expect(allText(c)).toContain('<https://airlock.example/q/1/sql|open>');
    expect(checkMessage(c.blocks, c.text)).toEqual([]);
  });

  it('cuts a single very long line without breaking an escape, and rejoins exactly', () => {
    const sql = `SELECT '${'<&>'.repeat(4000)}' AS X`;
    const chunks = splitSql(sql);
    expect(chunks.length).toBeGreaterThan(1);
    for (const ch of chunks) {
      expect(ch.text.length).toBeLessThanOrEqual(MAX_SECTION_TEXT - 8);
      expect(ch.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
    expect(unescapeMrkdwn(chunks.map((c) => c.text).join(''))).toBe(sql);
  });

  it('normalizes CRLF and shows an empty statement plainly', () => {
    expect(splitSql('SELECT 1\r\nFROM T\r\n')).toEqual([{ text: 'SELECT 1\nFROM T', endLine: 2 }]);
    expect(splitSql('   ')).toEqual([{ text: '(empty statement)', endLine: 0 }]);
  });
});

describe('approvalCard: final states', () => {
  const yes = [approve('U1'), approve('U2', '2025-03-04T09:41:00.000Z')];
  const cases: { status: QueryStatus; over?: Partial<QueryRecord>; votes?: Approval['votes']; line: string }[] = [
    { status: 'approved', votes: yes, line: '✅ Approved by <@U1>, <@U2> — queued to run' },
    { status: 'queued', votes: yes, line: '✅ Approved by <@U1>, <@U2> — queued to run' },
    { status: 'running', votes: yes, line: '✅ Approved by <@U1>, <@U2> — running' },
    {
      status: 'succeeded',
      votes: yes,
      over: { execution: { startedAt: '2025-03-04T09:41:01Z', durationMs: 120, rowCount: 3, warehouseQueryId: 'w-1' } },
      line: '✅ Approved by <@U1>, <@U2> — ran in 120 ms, 3 rows',
    },
    {
      status: 'succeeded',
      votes: yes,
      over: { execution: { startedAt: '2025-03-04T09:41:01Z', durationMs: 2450, rowsAffected: 1 } },
      line: '✅ Approved by <@U1>, <@U2> — ran in 2.5 s, 1 row affected',
    },
    {
      status: 'failed',
      votes: yes,
      over: { error: { code: 'WAREHOUSE_SQL_ERROR', message: 'Table does not exist <x>' } },
      line: '❌ Approved by <@U1>, <@U2> — failed: Table does not exist &lt;x&gt; (`WAREHOUSE_SQL_ERROR`)',
    },
    {
      status: 'outcome_unknown',
      votes: yes,
      over: { execution: { startedAt: '2025-03-04T09:41:01Z', warehouseQueryId: '01b2-qid' } },
      line: '⚠️ Approved by <@U1>, <@U2> — outcome unknown: the worker stopped while the statement ran. It will not be re-run automatically; check Snowflake (query id `01b2-qid`).',
    },
    {
      status: 'rejected',
      votes: [approve('U1'), { voter: { slackUserId: 'U3' }, vote: 'deny', reason: 'too broad, add a WHERE', at: '2025-03-04T09:45:00Z' }],
      line: '⛔ Rejected by <@U3>: too broad, add a WHERE',
    },
    { status: 'expired', line: '⌛ Expired — nobody decided within 1 h' },
    { status: 'cancelled', line: '🚫 Withdrawn by the agent' },
  ];

  it.each(cases)('$status: no buttons, the status line stays', ({ status, over, votes, line }) => {
    const a = approval({ votes: votes ?? [] });
    const c = approvalCard({ record: record({ status, ...over }), approval: a, now: NOW });
    expect(checkMessage(c.blocks, c.text)).toEqual([]);
    expect(buttons(c)).toEqual([]);
    expect(c.blocks[1]).toMatchObject({ type: 'section', text: { type: 'mrkdwn', text: line } });
    expect(c.text.startsWith(line)).toBe(true);
    // The history stays on the card.
    for (const v of votes ?? []) expect(allText(c)).toContain(`<@${v.voter.slackUserId}>`);
  });

  it('the rejecting reason is escaped', () => {
    const a = approval({ votes: [{ voter: { slackUserId: 'U3' }, vote: 'deny', reason: '<!here> no', at: '2025-03-04T09:45:00Z' }] });
    const c = approvalCard({ record: record({ status: 'rejected' }), approval: a, now: NOW });
    expect(allText(c)).not.toContain('<!here>');
  });
});
