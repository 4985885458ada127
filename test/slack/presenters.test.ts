import type { types } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/policy/decision.ts';
import type { QueryRecord, QueryStatus } from '../../src/queries/types.ts';
import {
  MAX_HEADER_TEXT,
  MAX_MESSAGE_BLOCKS,
  MAX_MESSAGE_BLOCKS_TEXT,
  MAX_SECTION_TEXT,
  blocksTextLength,
  checkMessage,
  checkView,
} from '../../src/slack/limits.ts';
import {
  APPROVE_ACTION_ID,
  type Block,
  DENY_ACTION_ID,
  DENY_REASON_ACTION_ID,
  DENY_REASON_BLOCK_ID,
  DENY_REASON_CALLBACK_ID,
  type Message,
  approvalCard,
  denyReasonModal,
  ephemeral,
  fitText,
  humanDuration,
  pendingList,
  sessionList,
  showQuery,
  slackDate,
  splitSql,
  sqlThreadReplies,
  threadSummary,
  usage,
} from '../../src/slack/presenters.ts';

type Approval = Parameters<typeof approvalCard>[0]['approval'];

const NOW = new Date('2025-03-04T10:00:00Z');
const FP = 'a3f1c09e5b7d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f';

function decision(over: Partial<Decision> = {}): Decision {
  return {
    action: 'review',
    risk: 'high',
    reasons: [{ code: 'DESTRUCTIVE_DDL', message: 'DROP TABLE ANALYTICS.PUBLIC.CUSTOMERS', statement: 0, rule: 'ddl-needs-two' }],
    approvals: { required: 2, groups: ['data-owners'], expiresInSeconds: 3600 },
    statements: [
      {
        kind: 'drop',
        verb: 'DROP',
        tables: ['ANALYTICS.PUBLIC.CUSTOMERS'],
        writes: ['ANALYTICS.PUBLIC.CUSTOMERS'],
        columns: [],
        sensitive: [{ name: 'ANALYTICS.PUBLIC.CUSTOMERS.EMAIL', type: 'email', via: ['select', 'where'] }],
        complete: true,
      },
    ],
    fingerprint: FP,
    complete: true,
    policy: { name: 'default', version: 'v3' },
    ...over,
  };
}

function record(over: Partial<QueryRecord> = {}): QueryRecord {
  return {
    id: 'q_01JNB2K8ZQ',
    status: 'pending_approval',
    sql: 'DROP TABLE ANALYTICS.PUBLIC.CUSTOMERS',
    prompt: 'Clean up the old customers table',
    purpose: 'cleanup',
    requester: { id: 'agent:claude-code', name: 'claude-code', owner: 'ana@example.com', groups: ['agents'] },
    decision: decision(),
    createdAt: '2025-03-04T09:30:00.000Z',
    updatedAt: '2025-03-04T09:30:00.000Z',
    readOnly: false,
    ...over,
  };
}

function approval(over: Partial<Approval> = {}): Approval {
  return { required: 2, groups: ['data-owners'], fingerprint: FP, expiresAt: '2025-03-04T10:30:00.000Z', votes: [], ...over };
}

const approve = (id: string, at = '2025-03-04T09:40:00.000Z') => ({ voter: { slackUserId: id }, vote: 'approve' as const, at });

/** All mrkdwn/plain text of a message, joined. */
function allText(m: { blocks: Block[] }): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') out.push(x);
        else walk(x);
      }
    }
  };
  walk(m.blocks);
  return out.join('\n');
}

const blockIds = (m: { blocks: Block[] }): string[] => m.blocks.map((b) => b.block_id ?? '');
const buttons = (m: Message) => m.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const sqlSections = (m: Message): string[] =>
  m.blocks.flatMap((b) => (b.type === 'section' && b.text?.text.startsWith('```\n') ? [b.text.text.slice(4, -4)] : []));

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
    expect(unescape(parts.join('\n'))).toBe(`SELECT * FROM T WHERE false\n${sql}`);
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
    expect(sql.startsWith(`${unescape(sqlSections(c).join('\n'))}\n`)).toBe(true);
    expect(buttons(c)).toHaveLength(2);

    const replies = sqlThreadReplies(record({ sql }));
    expect(replies.length).toBeGreaterThan(1);
    for (const r of replies) expect(checkMessage(r.blocks, r.text)).toEqual([]);
    expect(unescape(replies.flatMap(sqlSections).join('\n'))).toBe(sql);
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
    expect(unescape(chunks.map((c) => c.text).join(''))).toBe(sql);
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

describe('denyReasonModal', () => {
  it('asks for a required reason and carries the query id', () => {
    const v = denyReasonModal('q_42');
    expect(checkView(v)).toEqual([]);
    expect(v).toMatchObject({ type: 'modal', callback_id: DENY_REASON_CALLBACK_ID, private_metadata: 'q_42' });
    const input = v.blocks.find((b) => b.type === 'input');
    expect(input).toMatchObject({ block_id: DENY_REASON_BLOCK_ID, optional: false, element: { type: 'plain_text_input', action_id: DENY_REASON_ACTION_ID, min_length: 1 } });
  });
});

describe('threadSummary', () => {
  const rec = record({
    status: 'succeeded',
    execution: { startedAt: '2025-03-04T09:41:01Z', durationMs: 120, rowCount: 3, warehouseQueryId: '01b2c3d4-0000-1111-2222-333344445555', resultSha256: 'ab'.repeat(32) },
  });
  const a = approval({ votes: [approve('U1'), approve('U2', '2025-03-04T09:41:00.000Z')] });
  const s = threadSummary({ record: rec, approval: a, masking: { columns: [{ name: 'EMAIL', strategy: 'email', cells: 3 }, { name: 'SSN', strategy: 'redact', cells: 1 }] }, sessionId: 'sess_123' });

  it('summarises the session for a reviewer, within limits', () => {
    expect(checkMessage(s.blocks, s.text)).toEqual([]);
    const t = allText(s);
    for (const want of [
      'Audit summary* for query `q_01JNB2K8ZQ`',
      '`claude-code` (agent:claude-code)',
      'ana@example.com',
      '✅ <@U1> approved <!date^1741081200',
      '✅ <@U2> approved <!date^1741081260',
      '`DESTRUCTIVE_DDL`',
      '*Execution time*\n120 ms',
      '*Rows returned*\n3 rows',
      '`EMAIL` (email, 3 cells), `SSN` (redact, 1 cell)',
      '`01b2c3d4-0000-1111-2222-333344445555`',
      `*Result sha256:* \`${'ab'.repeat(32)}\``,
      'Session `sess_123`',
      `fingerprint \`${FP}\``,
    ]) expect(t).toContain(want);
    expect(s.text).toBe('Audit summary for query q_01JNB2K8ZQ: succeeded, 120 ms, 3 rows');
  });

  it('covers a rejection and a query that needed no approval', () => {
    const rej = threadSummary({
      record: record({ status: 'rejected' }),
      approval: approval({ votes: [{ voter: { slackUserId: 'U9' }, vote: 'deny', reason: 'no', at: '2025-03-04T09:45:00Z' }] }),
      sessionId: 's',
    });
    expect(allText(rej)).toContain('⛔ <@U9> denied');
    expect(allText(rej)).toContain('*Masked columns:* _none_');
    const allowed = threadSummary({ record: record({ status: 'failed', decision: decision({ action: 'allow', reasons: [] }), error: { code: 'WAREHOUSE_SQL_ERROR', message: 'boom' } }), sessionId: 's' });
    expect(checkMessage(allowed.blocks, allowed.text)).toEqual([]);
    expect(allText(allowed)).toContain('*Approvals:* none needed (allow by policy)');
    expect(allText(allowed)).toContain('*Error:* `WAREHOUSE_SQL_ERROR` boom');
  });
});

describe('/airlock responses and ephemerals', () => {
  const item = (i: number) => ({ record: record({ id: `q_${i}` }), approval: approval(), permalink: `https://slack.example/archives/C1/p${i}` });

  it('pending: lists waiting requests with links to their cards', () => {
    const m = pendingList([item(1), item(2)]);
    expect(checkMessage(m.blocks, m.text)).toEqual([]);
    const t = allText(m);
    expect(t).toContain('2 queries waiting for approval');
    expect(t).toContain('`q_1`');
    expect(t).toContain('<https://slack.example/archives/C1/p2|open card>');
    expect(t).toContain('0 of 2');
  });

  it('pending: says so when nothing waits, and caps a long list', () => {
    expect(allText(pendingList([]))).toContain('Nothing is waiting for approval.');
    const many = pendingList(Array.from({ length: 300 }, (_, i) => item(i)));
    expect(checkMessage(many.blocks, many.text)).toEqual([]);
    expect(allText(many)).toMatch(/…and \d+ more queries not shown\./);
  });

  it('search: sessions from the log with agent, status, approvals and tables, within limits however many', () => {
    const session = (i: number, over: Record<string, unknown> = {}) => ({
      id: `s_${i}`,
      agent: 'etl-bot',
      status: 'pending_approval',
      risk: 'high',
      tables: ['ANALYTICS.PUBLIC.CUSTOMERS', 'ANALYTICS.PUBLIC.ORDERS'],
      votes: [{ who: 'U1', vote: 'approve' }, { who: 'U2', vote: 'deny' }],
      startedAt: '2025-03-04T09:00:00.000Z',
      lastAt: '2025-03-04T09:01:00.000Z',
      events: 4,
      ...over,
    });
    const m = sessionList('Sessions touching CUSTOMERS.SSN', [session(1), session(2, { tables: Array.from({ length: 9 }, (_, t) => `DB.S.T${t}`), votes: [], risk: undefined })]);
    expect(checkMessage(m.blocks, m.text)).toEqual([]);
    const t = allText(m);
    expect(t).toContain('`s_1` *high* · agent `etl-bot` · pending approval');
    expect(t).toContain('1 approval');
    expect(t).toContain('`ANALYTICS.PUBLIC.CUSTOMERS`, `ANALYTICS.PUBLIC.ORDERS`');
    expect(t).toContain('+5');
    expect(allText(sessionList('x', []))).toContain('Nothing found.');
    const many = sessionList('x', Array.from({ length: 400 }, (_, i) => session(i, { agent: 'a'.repeat(120) })));
    expect(checkMessage(many.blocks, many.text)).toEqual([]);
    expect(allText(many)).toMatch(/…and \d+ more sessions not shown\./);
  });

  it('show: the card without buttons, within limits even for long SQL', () => {
    const m = showQuery(record({ sql: 'SELECT 1;\n'.repeat(3000) }), approval(), { now: NOW, permalink: 'https://slack.example/p1' });
    expect(checkMessage(m.blocks, m.text)).toEqual([]);
    expect(m.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(allText(m)).toContain('on the card and in its thread');
    const allowed = showQuery(record({ status: 'succeeded', decision: decision({ action: 'allow' }) }));
    expect(checkMessage(allowed.blocks, allowed.text)).toEqual([]);
    expect(allText(allowed)).toContain('✅ Allowed by policy — ran');
  });

  it('usage and ephemeral messages fit', () => {
    for (const m of [usage(), ephemeral('You are not an eligible approver.'), ephemeral('x'.repeat(10_000))]) {
      expect(checkMessage(m.blocks, m.text)).toEqual([]);
    }
    expect(allText(usage())).toContain('/airlock pending');
    expect(allText(ephemeral('x'.repeat(10_000)))).toMatch(/truncated, [\d,]+ more characters/);
  });
});

describe('helpers', () => {
  it.each([
    [20, '20 s'],
    [60, '1 min'],
    [3600, '1 h'],
    [5400, '1 h 30 min'],
    [86400 * 3, '3 days'],
  ])('humanDuration(%i) = %s', (s, want) => expect(humanDuration(s)).toBe(want));

  it('slackDate formats for the reader with a UTC fallback', () => {
    expect(slackDate('2025-03-04T10:30:00Z')).toBe('<!date^1741084200^{date_short_pretty} {time}|2025-03-04 10:30 UTC>');
  });

  it('fitText never exceeds the limit, counts what it cut, and escapes', () => {
    expect(fitText('a<b', 10)).toBe('a&lt;b');
    const out = fitText('<'.repeat(100), 60);
    expect(out.length).toBeLessThanOrEqual(60);
    const m = /^((?:&lt;)*)… \(truncated, (\d+) more characters\)$/.exec(out);
    expect(m).not.toBeNull();
    expect((m?.[1]?.length ?? 0) / 4 + Number(m?.[2])).toBe(100);
    expect(Array.from(fitText('😀'.repeat(100), 50, false)).every((ch) => ch !== '\uFFFD')).toBe(true);
  });
});

describe('limits: checkMessage refuses what Slack refuses', () => {
  const section = (text: string, block_id?: string) => ({ type: 'section', text: { type: 'mrkdwn', text }, ...(block_id ? { block_id } : {}) });
  const cases: { name: string; blocks: unknown; text?: string; error: string; pointer: string }[] = [
    { name: '51 blocks', blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })), error: 'invalid_blocks', pointer: '/blocks' },
    { name: 'section text over 3000', blocks: [section('x'.repeat(3001))], error: 'invalid_blocks', pointer: '/blocks/0/text/text' },
    { name: 'empty section text', blocks: [section('')], error: 'invalid_blocks', pointer: '/blocks/0/text/text' },
    { name: 'header over 150', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }], error: 'invalid_blocks', pointer: '/blocks/0/text/text' },
    { name: 'mrkdwn header', blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }], error: 'invalid_blocks', pointer: '/blocks/0/text/type' },
    { name: 'duplicate block_id', blocks: [section('a', 'x'), section('b', 'x')], error: 'invalid_blocks', pointer: '/blocks/1/block_id' },
    { name: 'block_id over 255', blocks: [section('a', 'b'.repeat(256))], error: 'invalid_blocks', pointer: '/blocks/0/block_id' },
    {
      name: 'button value over 2000',
      blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Go' }, action_id: 'a', value: 'v'.repeat(2001) }] }],
      error: 'invalid_blocks',
      pointer: '/blocks/0/elements/0/value',
    },
    {
      name: 'duplicate action_id in a block',
      blocks: [{ type: 'actions', elements: ['a', 'b'].map((t) => ({ type: 'button', text: { type: 'plain_text', text: t }, action_id: 'same' })) }],
      error: 'invalid_blocks',
      pointer: '/blocks/0/elements/1/action_id',
    },
    { name: 'input block in a message', blocks: [{ type: 'input', label: { type: 'plain_text', text: 'x' }, element: { type: 'plain_text_input', action_id: 'a' } }], error: 'invalid_blocks', pointer: '/blocks/0/type' },
    { name: 'unknown block type', blocks: [{ type: 'table' }], error: 'invalid_blocks', pointer: '/blocks/0/type' },
    { name: 'text over 40000', blocks: undefined, text: 'x'.repeat(40_001), error: 'msg_too_long', pointer: '/text' },
    { name: 'no text, no blocks', blocks: undefined, text: '', error: 'no_text', pointer: '/text' },
    { name: 'cumulative block text over 12000', blocks: Array.from({ length: 5 }, () => section('x'.repeat(2900))), error: 'msg_blocks_too_long', pointer: '/blocks' },
  ];
  it.each(cases)('$name → $error', ({ blocks, text, error, pointer }) => {
    expect(checkMessage(blocks, text ?? 'fallback')).toContainEqual(expect.objectContaining({ error, pointer }));
  });

  it('accepts a plain valid message', () => {
    expect(checkMessage([section('hello'), { type: 'divider' }], 'hello')).toEqual([]);
    expect(checkMessage(undefined, 'just text')).toEqual([]);
  });

  it('checkView refuses a long title and a modal input without submit', () => {
    const v = { ...denyReasonModal('q'), title: { type: 'plain_text', text: 't'.repeat(25) } };
    expect(checkView(v)).toContainEqual(expect.objectContaining({ pointer: '/view/title/text' }));
    const { submit: _drop, ...noSubmit } = denyReasonModal('q');
    expect(checkView(noSubmit)).toContainEqual(expect.objectContaining({ pointer: '/view/submit' }));
  });
});
