import { describe, expect, it } from 'vitest';
import { ephemeral, pendingList, sessionList, showQuery, usage } from '../../../src/slack/presenters/replies.ts';
import { checkMessage } from '../../../src/slack/limits.ts';
import { NOW, decision, record, approval, allText } from './fixtures.ts';

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
