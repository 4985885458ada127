import { describe, expect, it } from 'vitest';
import { threadSummary } from '../../../src/slack/presenters/summary.ts';
import { checkMessage } from '../../../src/slack/limits.ts';
import { FP, decision, record, approval, approve, allText } from './fixtures.ts';

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
